// Drives the SDK through its real programs: build/stagepass-cli, build/stagepass-sdk-probe
// and the example app, each with its own encrypted token cache directory.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { REPO_ROOT, authorizeInBrowser } from './server.mjs';

const BIN_DIR = process.env.STAGEPASS_BIN ? path.dirname(process.env.STAGEPASS_BIN) : path.join(REPO_ROOT, 'build');
export const CLI = path.join(BIN_DIR, 'stagepass-cli');
export const PROBE = path.join(BIN_DIR, 'stagepass-sdk-probe');
export const NOW_PLAYING = path.join(BIN_DIR, 'now-playing');

// Sanitizer settings pass through to the programs (make test-asan gathers every report).
const SANITIZER_ENV = Object.fromEntries(
  ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'ASAN_SYMBOLIZER_PATH']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => [k, process.env[k]]),
);

export const tempConfigDir = () => mkdtempSync(path.join(os.tmpdir(), 'sp-cli-'));

/**
 * Starts a program; resolves {code, stdout, stderr} when it exits. `onStderr(text)` sees
 * stderr as it arrives (the login URL is printed there).
 */
export function runProgram(bin, args, { env = {}, onStderr, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...SANITIZER_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; onStderr?.(stderr); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/**
 * Runs a program that logs in through the browser: when it prints the authorization URL on
 * stderr, `browse(url)` plays the person and returns where the browser was sent back (the
 * program's loopback redirect), which is then fetched. Resolves {code, stdout, stderr,
 * callback: {status, text, url}}.
 */
export async function runWithBrowser(bin, args, opts, browse) {
  let browsing;
  const result = await runProgram(bin, args, {
    ...opts,
    onStderr: (text) => {
      const m = /^ {2}(https?:\/\/\S+)$/m.exec(text);
      if (m && !browsing) {
        browsing = (async () => {
          const back = await browse(m[1]);
          const res = await fetch(back);
          return { status: res.status, text: await res.text(), url: back };
        })();
      }
    },
  });
  return { ...result, callback: browsing ? await browsing : undefined };
}

/** Plays a person signing in and agreeing; returns the redirect back to the app. */
export function consentingUser(server, user, decision = 'allow') {
  return async (url) => {
    const walk = await authorizeInBrowser({ server, url, email: user.email, password: user.password, decision });
    assert.equal(walk.stoppedAt, 'redirect', `the browser should end at the app's redirect\n${walk.browser.traceText()}`);
    return walk.location;
  };
}

/** A CLI bound to one server, app and cache directory. */
export class Cli {
  constructor(server, { clientId, configDir = tempConfigDir(), issuer = server.url, env = {}, globalArgs = [] }) {
    this.server = server;
    this.globalArgs = globalArgs;
    this.clientId = clientId;
    this.configDir = configDir;
    this.env = { STAGEPASS_ISSUER: issuer, STAGEPASS_CLIENT_ID: clientId, STAGEPASS_CONFIG_DIR: configDir, ...env };
  }

  run(args, opts = {}) { return runProgram(CLI, [...this.globalArgs, ...args], { env: this.env, ...opts }); }

  /** `run` that must exit 0; returns stdout. */
  async ok(args) {
    const r = await this.run(args);
    assert.equal(r.code, 0, `stagepass-cli ${args.join(' ')} exited ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
    return r.stdout;
  }

  /**
   * `stagepass-cli login --no-browser`, with the person's part played by `browse(url)`, which
   * must return the URL the browser was sent back to (the CLI's loopback redirect).
   */
  loginWith(browse, args = []) {
    return runWithBrowser(CLI, [...this.globalArgs, 'login', '--no-browser', '--timeout', '20', ...args], { env: this.env }, browse);
  }

  /** Logs `user` in through the real login and consent pages. */
  async login(user, scopes, { decision = 'allow', args = [] } = {}) {
    return this.loginWith(consentingUser(this.server, user, decision), ['--scopes', scopes, ...args]);
  }
}

/** The server's count of token-endpoint answers for one grant type and status. */
export async function tokenRequests(server, grantType, status = 200) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const re = new RegExp(`^stagepass_token_requests_total\\{grant_type="${grantType}",status="${status}"\\} (\\d+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}
