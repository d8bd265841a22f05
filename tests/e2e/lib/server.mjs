// Boots the REAL Stagepass binary for end-to-end tests and drives its admin CLI.
//
// startServer() picks a free loopback port, gives the server a fresh temp dir (SQLite file,
// master key, captured stdout/stderr), waits for its "listening" line and GET /healthz == 200
// (starting again on another port if the one it found was taken meanwhile) and returns a handle
// with stop() (SIGTERM, wait for exit) and admin helpers that run the same binary with the
// same environment. Every browser/OAuth helper is re-exported from here for convenience.
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, existsSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export * from './browser.mjs';
export * from './oauth.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const BINARY = process.env.STAGEPASS_BIN || path.join(REPO_ROOT, 'build', 'stagepass');

const live = new Set();
const running = new Set(); // StagepassServer instances not stopped yet (for keepLogs)
// A crashed test run must not leave servers behind: kill what we started, by PID only.
process.on('exit', () => {
  for (const server of running) keepLogs(server);
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * STAGEPASS_E2E_LOG_DIR (set by tests/run-e2e.sh): keep a copy of a server's stdout/stderr
 * there, named after its temp dir, with the `serve` args beside them, before the temp dir
 * goes; tests/security/log-scan.mjs scans them all for secrets after the suites.
 */
function keepLogs(server) {
  const dir = process.env.STAGEPASS_E2E_LOG_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, path.basename(server.tmpdir));
  if (existsSync(server.stdoutFile)) copyFileSync(server.stdoutFile, `${base}.stdout.log`);
  if (existsSync(server.stderrFile)) copyFileSync(server.stderrFile, `${base}.stderr.log`);
  writeFileSync(`${base}.meta.json`, JSON.stringify({ args: server.args, issuer: server.issuer }));
}

function readIfExists(file) {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

/**
 * Starts `stagepass serve` (plus `args`, e.g. ['--demo']). `env` entries override the
 * defaults (values are stringified; `undefined` removes a variable). Returns a StagepassServer.
 * `https: {cert, key, dispatcher}` serves TLS with those PEM files and an https issuer; the
 * undici `dispatcher` (an Agent trusting the test CA) is used for the health check.
 * `listenHost` binds another address than 127.0.0.1 (the health check still uses loopback).
 */
export async function startServer({ env = {}, label = 'stagepass', timeoutMs = 15000, args = [], https, listenHost = '127.0.0.1', port: fixedPort } = {}, attempt = 1) {
  if (!existsSync(BINARY)) {
    throw new Error(`server binary not found at ${BINARY} (build it or set STAGEPASS_BIN)`);
  }
  // `port`: a given port (a replacement server at a stopped one's address and issuer).
  const port = fixedPort ?? await freePort();
  const tmpdir = mkdtempSync(path.join(os.tmpdir(), `${label}-`));
  const issuer = `${https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const fullEnv = {
    ...process.env,
    STAGEPASS_LISTEN: `${listenHost}:${port}`,
    STAGEPASS_ISSUER: issuer,
    STAGEPASS_DATABASE: path.join(tmpdir, 'stagepass.db'),
    STAGEPASS_MASTER_KEY_FILE: path.join(tmpdir, 'master.key'),
    // A small catalog (about 2k tracks) keeps boots fast; a dedicated test checks full size.
    STAGEPASS_CATALOG_SCALE: '0.02',
  };
  delete fullEnv.STAGEPASS_MASTER_KEY;
  if (https) Object.assign(fullEnv, { STAGEPASS_TLS_CERT: https.cert, STAGEPASS_TLS_KEY: https.key });
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete fullEnv[k];
    else fullEnv[k] = String(v);
  }
  onPostgresql(fullEnv);
  const server = new StagepassServer({ port, issuer, tmpdir, env: fullEnv, args, dispatcher: https?.dispatcher });
  try {
    await server.start(timeoutMs);
  } catch (e) {
    // The port freePort found was taken before the server bound it: once more on another.
    if (fixedPort === undefined && attempt < 3 &&
        /cannot listen on [^\n]*\(STAGEPASS_LISTEN\): [^\n]*in use/i.test(e.message)) {
      return startServer({ env, label, timeoutMs, args, https, listenHost }, attempt + 1);
    }
    throw e;
  }
  return server;
}

/**
 * STAGEPASS_E2E_POSTGRESQL=<server URL> (scripts/pg-test-server.sh's STAGEPASS_TEST_POSTGRESQL)
 * runs the suites on PostgreSQL instead of the default SQLite: each SQLite path a test gives
 * STAGEPASS_DATABASE becomes a database of its own on that server (named after the path, made
 * on first use), so servers a test points at one file share one database, as before. Tests
 * that read the SQLite file itself skip with `onSqliteOnly`.
 */
export const E2E_POSTGRESQL = process.env.STAGEPASS_E2E_POSTGRESQL || '';
export const onSqliteOnly = E2E_POSTGRESQL ? 'reads the SQLite file itself (STAGEPASS_E2E_POSTGRESQL is set)' : false;
const madeDatabases = new Set();
function onPostgresql(env) {
  if (!E2E_POSTGRESQL || env.STAGEPASS_DATABASE.startsWith('postgres')) return;
  const name = 'e2e_' + createHash('sha256').update(env.STAGEPASS_DATABASE).digest('hex').slice(0, 20);
  if (!madeDatabases.has(name)) {
    try {
      execFileSync('psql', ['-q', '-d', E2E_POSTGRESQL, '-c', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
    } catch (e) {
      if (!String(e.stderr).includes('already exists')) throw e;
    }
    madeDatabases.add(name);
  }
  // With PostgreSQL a node never makes up its master key (every node must share it): the
  // test makes the file a SQLite server would have made for itself, once.
  const keyFile = env.STAGEPASS_MASTER_KEY_FILE;
  if (!env.STAGEPASS_MASTER_KEY && keyFile && !existsSync(keyFile)) {
    mkdirSync(path.dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  // music.db stays where it would have been, beside the SQLite file.
  env.STAGEPASS_MUSIC_DATABASE ||= path.join(path.dirname(env.STAGEPASS_DATABASE), 'music.db');
  const url = new URL(E2E_POSTGRESQL);
  url.pathname = `/${name}`;
  env.STAGEPASS_DATABASE = url.toString();
}

export class StagepassServer {
  constructor({ port, issuer, tmpdir, env, args = [], dispatcher }) {
    this.port = port;
    this.args = args; // extra `serve` arguments
    this.issuer = issuer;
    this.url = issuer; // base URL used for requests
    this.origin = new URL(issuer).origin;
    this.tmpdir = tmpdir;
    this.env = env;
    this.stdoutFile = path.join(tmpdir, 'stdout.log');
    this.stderrFile = path.join(tmpdir, 'stderr.log');
    this.child = null;
    this.exit = null;
    this.dispatcher = dispatcher; // undici Agent for https servers (trusts the test CA)
  }

  stderr() { return readIfExists(this.stderrFile); }
  stdout() { return readIfExists(this.stdoutFile); }

  /** Both captured streams, trimmed to their tails, for assertion messages. */
  logs(max = 4000) {
    const tail = (s) => (s.length > max ? '…' + s.slice(-max) : s);
    return `--- server stderr ---\n${tail(this.stderr())}\n--- server stdout ---\n${tail(this.stdout())}`;
  }

  async start(timeoutMs) {
    running.add(this);
    // A restart appends to the same stdout file: only this run's lines count.
    const stdoutBefore = this.stdout().length;
    const out = openSync(this.stdoutFile, 'a');
    const err = openSync(this.stderrFile, 'a');
    this.child = spawn(BINARY, ['serve', ...this.args], {
      env: this.env,
      cwd: this.tmpdir,
      stdio: ['ignore', out, err],
    });
    closeSync(out);
    closeSync(err);
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this.child);
        resolve(this.exit);
      });
      this.child.on('error', (e) => {
        this.exit = { code: null, signal: null, error: e };
        live.delete(this.child);
        resolve(this.exit);
      });
    });

    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exit) {
        const message = `stagepass serve exited before becoming healthy (${JSON.stringify(this.exit)})\n${this.logs()}`;
        await this.stop(); // keeps the logs (STAGEPASS_E2E_LOG_DIR), removes the temp dir
        throw new Error(message);
      }
      // Asked only once this server says it listens (its own stdout): until then the port may
      // be another process's (freePort's port taken by another test's listen(0) in between),
      // and a 200 from another test's server made a test run against a server still starting.
      if (!this.stdout().slice(stdoutBefore).includes('"msg":"listening"')) {
        lastProblem = 'no "listening" line yet';
        await sleep(50);
        continue;
      }
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000), dispatcher: this.dispatcher });
        await res.arrayBuffer();
        if (res.status === 200) return;
        lastProblem = `GET /healthz answered ${res.status}`;
      } catch (e) {
        lastProblem = `GET /healthz failed: ${e.cause?.code || e.message}`;
      }
      await sleep(100);
    }
    await this.stop();
    throw new Error(`stagepass serve not healthy after ${timeoutMs} ms (${lastProblem})\n${this.logs()}`);
  }

  /**
   * SIGTERM, wait for the process to exit (SIGKILL after 10 s), remove the temp dir.
   * Under the sanitizers (ASAN_OPTIONS set, scripts/test-asan.sh) a server that needed the
   * SIGKILL throws: LeakSanitizer only runs at a normal exit, so a silent kill would hide
   * its report (and a shutdown that hangs is a defect of its own).
   */
  async stop({ keep = !!process.env.STAGEPASS_E2E_KEEP } = {}) {
    let killed = false;
    if (this.child && !this.exit) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!this.exit) { killed = true; this.child.kill('SIGKILL'); }
      }, 10000);
      await this.exited;
      clearTimeout(timer);
    }
    keepLogs(this);
    running.delete(this);
    const logs = killed && process.env.ASAN_OPTIONS ? this.logs() : null;
    if (!keep) rmSync(this.tmpdir, { recursive: true, force: true });
    if (logs !== null) {
      throw new Error(
        `stagepass serve (pid ${this.child.pid}) still running 10 s after SIGTERM: killed ` +
        `with SIGKILL, so LeakSanitizer never ran\n${logs}`,
      );
    }
    return this.exit;
  }

  /** A restart: SIGTERM, then the same binary again on the same port, database and key. */
  async restart(timeoutMs = 15000) {
    await this.stop({ keep: true });
    this.exit = null;
    this.child = null;
    await this.start(timeoutMs);
  }

  /** Runs `stagepass <args...>` with the server's environment. Never throws on exit code. */
  run(args, { input, timeoutMs = 30000 } = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(BINARY, args, { env: this.env, cwd: this.tmpdir, stdio: ['pipe', 'pipe', 'pipe'] });
      live.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => { clearTimeout(timer); live.delete(child); reject(e); });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        live.delete(child);
        resolve({ code, signal, stdout, stderr });
      });
      child.stdin.on('error', () => { /* the CLI may not read stdin */ });
      child.stdin.end(input ?? '');
    });
  }

  /** Runs `stagepass admin <args...> --json`, expects exit 0 and JSON on stdout. */
  async adminJson(args, { input } = {}) {
    const r = await this.run(['admin', ...args, '--json'], { input });
    const cmd = `stagepass admin ${args.join(' ')} --json`;
    if (r.code !== 0) {
      throw new Error(`${cmd} exited ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
    }
    try {
      return JSON.parse(r.stdout);
    } catch {
      throw new Error(`${cmd} printed no JSON on stdout: ${JSON.stringify(r.stdout)}\nstderr: ${r.stderr}`);
    }
  }

  /** `admin user create` → {id, email, display_name, ...} (password passed on stdin). */
  async createUser({ email, displayName = 'Test User', password = 'correct horse battery staple' }) {
    const user = await this.adminJson(
      ['user', 'create', '--email', email, '--display-name', displayName, '--password-stdin'],
      { input: `${password}\n` },
    );
    return { ...user, password };
  }

  /**
   * `admin client create` → {client_id, client_secret?, name, public, redirect_uris, scopes,
   * web_origins}. `scopes` may be an array or a space-separated string.
   */
  async createClient({ name = 'Demo Player', redirectUris, isPublic = false, scopes, webOrigins = [] }) {
    const args = ['client', 'create', '--name', name];
    for (const u of [].concat(redirectUris)) args.push('--redirect-uri', u);
    if (isPublic) args.push('--public');
    if (scopes !== undefined) args.push('--scopes', Array.isArray(scopes) ? scopes.join(' ') : scopes);
    for (const o of [].concat(webOrigins)) args.push('--web-origin', o);
    return this.adminJson(args);
  }
}
