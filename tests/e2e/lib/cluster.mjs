// Several real `stagepass serve` nodes on one real PostgreSQL behind a real HAProxy, for the
// multi-node and outage tests (tests/e2e/cluster.test.mjs; docs/operations.md, "Running
// several nodes").
//
// startCluster() starts, in this order: a throw-away PostgreSQL 15 (scripts/pg-test-server.sh,
// which the cluster can pause() and resume() for an outage), the `stagepass serve` nodes (all
// roles) on it, HAProxy in the foreground (`haproxy -db -f FILE`, a child of this process)
// with deploy/haproxy.cfg, the file operators copy, where only the addresses are swapped for
// free loopback ports, and the api-only node (STAGEPASS_ROLES=api), which fetches the JWKS
// through the balancer. Every node gets the same issuer (the balancer's URL), database URL,
// master key and music database (one file: every node runs on this machine), and trusts
// the balancer's address for X-Forwarded-For. HAProxy connects to the nodes from 127.0.0.2, so
// a test client (127.0.0.1) is never mistaken for the balancer. stop() tears everything down
// by PID, PostgreSQL last.
import { spawn, execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync, rmSync, copyFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, freePort, REPO_ROOT } from './server.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const PG_SCRIPT = path.join(REPO_ROOT, 'scripts', 'pg-test-server.sh');
export const HAPROXY_TEMPLATE = path.join(REPO_ROOT, 'deploy', 'haproxy.cfg');
const PG_BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
// The address HAProxy connects to the nodes from (deploy/haproxy.cfg: `source`).
export const BALANCER_SOURCE = '127.0.0.2';

/** Why the cluster tests cannot run here (a missing package), or null. */
export function missingClusterTools() {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) return `PostgreSQL 15 not installed (${PG_BIN}/initdb; Debian package postgresql-15)`;
  const haproxy = whichHaproxy();
  if (!haproxy) return 'haproxy not installed (Debian package haproxy)';
  return null;
}

function whichHaproxy() {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir, 'haproxy');
    if (dir && existsSync(p)) return p;
  }
  return null;
}

// Interrupted (Ctrl-C, the test runner's SIGTERM), exit through the 'exit' handlers that
// stop what was started here and in server.mjs: PostgreSQL runs detached and would outlive
// this process otherwise.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

/**
 * A throw-away PostgreSQL (scripts/pg-test-server.sh): {dir, url, env, pause(), resume(),
 * freeze(), thaw(), stop()}.
 */
export async function startPostgres() {
  const { stdout } = await run(PG_SCRIPT, ['start'], { timeout: 60000 });
  const env = {};
  for (const m of stdout.matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]] = m[2];
  if (!env.STAGEPASS_PG_DIR || !env.STAGEPASS_TEST_POSTGRESQL) throw new Error(`pg-test-server.sh start printed no environment:\n${stdout}`);
  const dir = env.STAGEPASS_PG_DIR;
  let stopped = false;
  let frozen = false;
  process.on('exit', () => {
    // A crashed run must not leave a server behind (by its data directory, as stop does).
    if (stopped) return;
    try {
      if (frozen) execFileSync(PG_SCRIPT, ['thaw', dir]);
      execFileSync(PG_SCRIPT, ['stop', dir]);
    } catch { /* gone */ }
  });
  const pg = {
    dir,
    url: env.STAGEPASS_TEST_POSTGRESQL,
    env: { PGPASSFILE: env.PGPASSFILE },
    // An outage: the server shut down (connections refused) until resume().
    pause: () => run(PG_SCRIPT, ['pause', dir], { timeout: 60000 }),
    resume: () => run(PG_SCRIPT, ['resume', dir], { timeout: 60000 }),
    // An outage: the server's processes stopped (SIGSTOP: connections open, no answer) until thaw().
    async freeze() { frozen = true; await run(PG_SCRIPT, ['freeze', dir], { timeout: 10000 }); },
    async thaw() { await run(PG_SCRIPT, ['thaw', dir], { timeout: 10000 }); frozen = false; },
    async stop() {
      if (stopped) return;
      if (frozen) await pg.thaw();
      stopped = true;
      await run(PG_SCRIPT, ['stop', dir], { timeout: 60000 });
    },
  };
  return pg;
}

/**
 * deploy/haproxy.cfg with its example addresses swapped for these: `listen` (the TLS bind
 * becomes a plain bind on it), `redirectListen` (the :80 frontend), `nodes` [{port,
 * adminPort}] for node1..3 and `api` {port, adminPort} for api1. Throws when an address of the
 * template is not where the swap expects it (the template changed: update both).
 */
export function haproxyConfig({ listen, redirectListen, nodes, api }) {
  let cfg = readFileSync(HAPROXY_TEMPLATE, 'utf8');
  const swap = (from, to, times) => {
    const n = cfg.split(from).length - 1;
    if (n !== times) throw new Error(`deploy/haproxy.cfg: expected ${times} × '${from}', found ${n}`);
    cfg = cfg.split(from).join(to);
  };
  swap('bind :443 ssl crt /etc/haproxy/certs/stagepass.pem alpn http/1.1', `bind ${listen}`, 1);
  swap('bind :80\n', `bind ${redirectListen}\n`, 1);
  swap('source 10.0.0.10', `source ${BALANCER_SOURCE}`, 1);
  const hosts = [...nodes, api];
  hosts.forEach((h, i) => {
    const ip = `10.0.0.${11 + i}`;
    const times = i < nodes.length ? 3 : 1; // serve nodes are in accounts, developer, web_api
    swap(`${ip}:8080 check addr ${ip} port 9090`, `127.0.0.1:${h.port} check addr 127.0.0.1 port ${h.adminPort}`, times);
    if (i < nodes.length) swap(`${ip}:8080 backup`, `127.0.0.1:${h.port} backup`, 2);
  });
  if (/10\.0\.0\.\d+/.test(cfg.replace(/^\s*#.*$/gm, ''))) throw new Error('deploy/haproxy.cfg: an example address was left in the test config');
  return cfg;
}

/** `haproxy -db -f FILE` as a child: {pid, url, logFile, stop()}; resolves once it answers. */
export async function startHaproxy(cfgText, { port, tmpdir }) {
  const cfgFile = path.join(tmpdir, 'haproxy.cfg');
  writeFileSync(cfgFile, cfgText);
  const bin = whichHaproxy();
  const check = await run(bin, ['-c', '-f', cfgFile]).catch((e) => e);
  if (check.code) throw new Error(`haproxy -c refused the config:\n${check.stderr}${check.stdout}`);
  const logFile = path.join(tmpdir, 'haproxy.stdout.log');
  const out = openSync(logFile, 'a');
  const child = spawn(bin, ['-db', '-f', cfgFile], { stdio: ['ignore', out, out] });
  closeSync(out);
  let exit = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { exit = { code, signal }; resolve(exit); }));
  process.on('exit', () => { if (!exit) try { child.kill('SIGKILL'); } catch { /* gone */ } });
  const url = `http://127.0.0.1:${port}`;
  const lb = {
    pid: child.pid,
    url,
    issuer: url,
    origin: url,
    logFile,
    log: () => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } },
    logs: () => `--- haproxy ---\n${lb.log().slice(-3000)}`,
    get exit() { return exit; },
    async stop() {
      if (!exit) {
        child.kill('SIGTERM');
        const t = setTimeout(() => { if (!exit) child.kill('SIGKILL'); }, 5000);
        await exited;
        clearTimeout(t);
      }
      const keep = process.env.STAGEPASS_E2E_LOG_DIR;
      if (keep && existsSync(logFile)) {
        mkdirSync(keep, { recursive: true });
        copyFileSync(logFile, path.join(keep, `${path.basename(tmpdir)}-haproxy.stdout.log`));
      }
    },
  };
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`haproxy exited at start (${JSON.stringify(exit)})\n${lb.log()}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200) return lb;
    } catch { /* not yet */ }
    await sleep(100);
  }
  await lb.stop();
  throw new Error(`haproxy did not answer /healthz within 10 s\n${lb.log()}`);
}

/**
 * The whole cluster: {pg, nodes: [serve nodes], api (api-only node), lb (the balancer:
 * {url, ...}, usable as `server` by the browser and OAuth helpers), all (every node),
 * env (the common node environment), startNode(opts), stop()}.
 * `env` is added to every node's environment. Three serve nodes and one api-only node, as in
 * deploy/haproxy.cfg.
 */
export async function startCluster({ env = {}, label = 'sp-cluster' } = {}) {
  const serveNodes = 3;
  const tmpdir = mkdtempSync(path.join(os.tmpdir(), `${label}-`));
  const cluster = { tmpdir, nodes: [], api: null, lb: null, pg: null, extra: [] };
  cluster.stop = async () => {
    for (const n of [...cluster.extra, cluster.api, ...cluster.nodes]) await n?.stop().catch(() => {});
    await cluster.lb?.stop();
    await cluster.pg?.stop();
    rmSync(tmpdir, { recursive: true, force: true });
  };
  try {
    cluster.pg = await startPostgres();
    const lbPort = await freePort();
    const issuer = `http://127.0.0.1:${lbPort}`;
    cluster.env = {
      ...cluster.pg.env,
      STAGEPASS_DATABASE: cluster.pg.url,
      STAGEPASS_MASTER_KEY: crypto.randomBytes(32).toString('hex'),
      STAGEPASS_ISSUER: issuer,
      STAGEPASS_MUSIC_DATABASE: path.join(tmpdir, 'music.db'),
      STAGEPASS_TRUSTED_PROXIES: BALANCER_SOURCE,
      STAGEPASS_API_NODES: String(serveNodes + 1),
      ...env,
    };
    // A node: its own public and admin ports, the common environment plus `env`.
    cluster.startNode = async ({ label: l, env: own = {} } = {}) => {
      const adminPort = await freePort();
      const node = await startServer({
        label: l, timeoutMs: 30000,
        env: { ...cluster.env, STAGEPASS_ADMIN_LISTEN: `127.0.0.1:${adminPort}`, ...own },
      });
      node.adminPort = adminPort;
      node.adminUrl = `http://127.0.0.1:${adminPort}`;
      return node;
    };
    // The first node alone: it migrates the database and generates the catalog in the shared
    // music database; the others start together on both.
    cluster.nodes.push(await cluster.startNode({ label: `${label}-node1` }));
    const rest = [];
    for (let i = 2; i <= serveNodes; i++) rest.push(cluster.startNode({ label: `${label}-node${i}` }));
    cluster.nodes.push(...(await Promise.all(rest)));
    const apiPorts = { port: await freePort(), adminPort: await freePort() };
    cluster.lb = await startHaproxy(haproxyConfig({
      listen: `127.0.0.1:${lbPort}`,
      redirectListen: `127.0.0.1:${await freePort()}`,
      nodes: cluster.nodes.map((n) => ({ port: n.port, adminPort: n.adminPort })),
      api: apiPorts,
    }), { port: lbPort, tmpdir });
    cluster.lb.redirectUrl = /bind (127\.0\.0\.1:\d+)\n/.exec(readFileSync(path.join(tmpdir, 'haproxy.cfg'), 'utf8').split('frontend http_redirect')[1])?.[1];
    // The api-only node on the port the balancer expects; it fetches the JWKS through it.
    const apiNode = await startServer({
      label: `${label}-api`, timeoutMs: 30000, port: apiPorts.port,
      // No master key: an api-only node never opens the signing keys, so it is not given one.
      env: { ...cluster.env, STAGEPASS_ROLES: 'api', STAGEPASS_MASTER_KEY: undefined, STAGEPASS_ADMIN_LISTEN: `127.0.0.1:${apiPorts.adminPort}` },
    });
    apiNode.adminPort = apiPorts.adminPort;
    apiNode.adminUrl = `http://127.0.0.1:${apiPorts.adminPort}`;
    cluster.api = apiNode;
    cluster.all = [...cluster.nodes, apiNode];
    await waitForBalancer(cluster);
    return cluster;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/**
 * Until the balancer spreads /v1 over all four nodes (HAProxy's checks saw the api-only node,
 * started after it, come up): a probe path's access-log line on every node.
 */
async function waitForBalancer(cluster) {
  const deadline = Date.now() + 20000;
  for (let round = 0; Date.now() < deadline; round++) {
    const probe = `/v1/cluster-probe-${round}`;
    for (let i = 0; i < 8; i++) await (await fetch(`${cluster.lb.url}${probe}`)).arrayBuffer();
    await sleep(100); // the access log line is written after the answer
    if (cluster.all.every((n) => n.stdout().includes(`"path":"${probe}"`))) return;
    await sleep(300);
  }
  throw new Error(`the balancer does not spread /v1 over every node\n${cluster.lb.logs()}`);
}

/** Every node's stderr lines that suggest a crash or an internal error. */
export function crashSigns(node) {
  return node.stderr().split('\n').filter((l) => /terminate called|Segmentation|AddressSanitizer|runtime error|Aborted|core dumped|panic/i.test(l));
}
