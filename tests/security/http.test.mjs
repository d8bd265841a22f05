// The HTTP layer against slow clients, header injection and exposure of operator endpoints
// (issue 13 §1): the real server on loopback, raw sockets where the connection matters.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, freePort, Browser, findForm, BINARY } from '../e2e/lib/server.mjs';
import { connectTcp, exchange, closedWithin, sleep, waitForText } from './lib/transport.mjs';

const GET = (p, extra = '') => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

describe('slow clients on kept-alive connections', () => {
  let server;
  before(async () => { server = await startServer({ label: 'sp-http-slow' }); });
  after(async () => { await server?.stop(); });

  // Before the fix every request after the first got the 60 s idle timeout as its whole
  // read deadline, so a slowloris on a kept-alive connection held a slot for a minute.
  it('cuts a request that started on a kept-alive connection after the 10 s read deadline, while an idle one may wait longer', async () => {
    const slow = await connectTcp(server.port);
    const idle = await connectTcp(server.port);
    assert.equal((await exchange(slow, GET('/healthz'))).status, 200);
    assert.equal((await exchange(idle, GET('/healthz'))).status, 200);

    // slowloris: the next request starts, then one header line every 2 s, never finished.
    slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => { if (!slow.destroyed) slow.write('X-Slow: 1\r\n'); }, 2000);
    const cut = closedWithin(slow, 25000);
    // idle: nothing for 12 s (longer than the read deadline), then a whole request.
    const late = (async () => {
      await sleep(12000);
      return exchange(idle, GET('/healthz'));
    })();
    try {
      await cut; // rejects "still open after 25000 ms" when the 60 s idle timeout applies
      assert.equal((await late).status, 200, 'an idle kept-alive connection is not cut by the read deadline');
    } finally {
      clearInterval(drip);
      slow.destroy();
      idle.destroy();
    }
  });
});

describe('response header injection', () => {
  let server;
  before(async () => { server = await startServer({ label: 'sp-http-headers' }); });
  after(async () => { await server?.stop(); });

  // The CR LF reaches a Location header through the sign-in form's `continue` field. Whatever
  // the page does with `continue`, the wire must not carry a header the attacker wrote.
  it('never sends a header split by CR LF from the sign-in continue field', async () => {
    const user = await server.createUser({ email: 'split@example.com', password: 'split-password-123' });
    for (const injected of ['/x\r\nSet-Cookie: injected=1', '/x\nSet-Cookie: injected=1', '/x\rSet-Cookie: injected=1']) {
      const browser = new Browser(server);
      const page = await browser.get('/login');
      const form = findForm(page.text, page.url, '/login');
      assert.ok(form, 'the sign-in page has its form');
      const pairs = form.hidden.filter(([n]) => n !== 'continue');
      pairs.push(['continue', injected], ['username', user.email], ['password', user.password]);
      const r = await browser.request(new URL(form.action || page.url.href, page.url), { method: 'POST', form: pairs });
      const cookies = r.headers.getSetCookie();
      assert.ok(!cookies.some((c) => c.startsWith('injected=')), `injected cookie set: ${JSON.stringify(cookies)}`);
      // The sign-in succeeds and a continue that is no safe path is replaced by "/"
      // (src/web/safe_continue.cpp; tests/security/web-continue.test.mjs has every variant).
      assert.equal(r.status, 303, `sign-in with continue ${JSON.stringify(injected)}`);
      assert.equal(r.headers.get('location'), '/', `Location for continue ${JSON.stringify(injected)}`);
    }
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server keeps serving');
  });
});

describe('admin listener (STAGEPASS_ADMIN_LISTEN)', () => {
  let server;
  let admin;
  before(async () => {
    const adminPort = await freePort();
    admin = `http://127.0.0.1:${adminPort}`;
    server = await startServer({ label: 'sp-http-admin', env: { STAGEPASS_ADMIN_LISTEN: `127.0.0.1:${adminPort}` } });
  });
  after(async () => { await server?.stop(); });

  it('serves /metrics and /readyz only on the admin listener; /healthz on both', async () => {
    const status = async (url) => { const r = await fetch(url); await r.arrayBuffer(); return r.status; };
    assert.equal(await status(`${server.url}/metrics`), 404);
    assert.equal(await status(`${server.url}/readyz`), 404);
    assert.equal(await status(`${server.url}/healthz`), 200);
    const metrics = await fetch(`${admin}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^stagepass_revoked_grants \d+$/m);
    assert.equal(await status(`${admin}/readyz`), 200);
    assert.equal(await status(`${admin}/healthz`), 200);
    assert.equal(await status(`${admin}/.well-known/openid-configuration`), 404, 'nothing else on the admin port');
    assert.equal(await status(`${admin}/login`), 404);
  });

  it('keeps today\'s behaviour without the setting', async () => {
    const plain = await startServer({ label: 'sp-http-noadmin' });
    try {
      assert.equal((await fetch(`${plain.url}/metrics`)).status, 200);
      assert.equal((await fetch(`${plain.url}/readyz`)).status, 200);
    } finally {
      await plain.stop();
    }
  });
});

describe('running out of file descriptors', () => {
  let server;
  before(async () => { server = await startServer({ label: 'sp-http-emfile' }); });
  after(async () => { await server?.stop(); });

  // Before: on EMFILE the accept loop retried at once, forever (the refused connection stays
  // queued), burning a core and logging nothing. Now it backs off and says so once per burst.
  // Not under make test-asan: UBSan's vptr check probes memory through a pipe(), which cannot
  // be made while the process's descriptors are exhausted, so every virtual call then reports
  // a false "invalid vptr" and the server stops. make test runs it on the shipped build.
  const underUbsan = process.env.STAGEPASS_TEST_SANITIZED === '1';  // set by scripts/test-asan.sh
  it('backs off while out of descriptors, logs it once per burst, and serves the queue once some close', { skip: underUbsan && 'descriptor exhaustion blinds UBSan (see above)' }, async () => {
    const pid = server.child.pid;
    const openNow = readdirSync(`/proc/${pid}/fd`).length;
    // Leave room for 4 more descriptors: the rest of the connections wait in the backlog.
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${openNow + 4}:`]);
    const sockets = [];
    let release;
    const released = new Promise((r) => { release = r; });
    const answered = [];
    try {
      for (let i = 0; i < 12; i++) {
        const s = await connectTcp(server.port);
        s.on('error', () => {});
        sockets.push(s);
        // Each is held open until released, so the descriptors stay used.
        answered.push(exchange(s, GET('/healthz'), { timeoutMs: 30000 }).then(async (r) => {
          await released;
          s.destroy();
          return r.status;
        }));
      }
      await waitForText(() => server.stdout(), /"msg":"accept backing off"/);
      await sleep(1500); // many back-off periods of the same burst
      const lines = server.stdout().split('\n').filter((l) => l.includes('"msg":"accept backing off"'));
      assert.equal(lines.length, 1, `one line per burst:\n${lines.join('\n')}`);
      assert.match(lines[0], /"level":"warn".*Too many open files/);
      release();
      // Every queued connection is accepted and answered as descriptors free up.
      assert.deepEqual(await Promise.all(answered), sockets.map(() => 200));
    } finally {
      release();
      for (const s of sockets) s.destroy();
      execFileSync('prlimit', ['--pid', String(pid), '--nofile=1024:']);
    }
    const r = await fetch(`${server.url}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(server.exit, null);
  });
});

describe('open-file limit at startup', () => {
  // Runs `stagepass serve` under a shell `ulimit`; resolves once it listens.
  async function serveUnderUlimit(ulimitArgs, label) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `${label}-`));
    const port = await freePort();
    const env = {
      ...process.env,
      STAGEPASS_LISTEN: `127.0.0.1:${port}`,
      STAGEPASS_ISSUER: `http://127.0.0.1:${port}`,
      STAGEPASS_DATABASE: path.join(dir, 'stagepass.db'),
      STAGEPASS_MASTER_KEY_FILE: path.join(dir, 'master.key'),
      STAGEPASS_CATALOG_SCALE: '0.02',
    };
    delete env.STAGEPASS_MASTER_KEY;
    const child = spawn('sh', ['-c', `ulimit ${ulimitArgs} && exec "$0" serve`, BINARY], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
    const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const stop = async () => { child.kill('SIGTERM'); const e = await exited; rmSync(dir, { recursive: true, force: true }); return e; };
    try {
      await waitForText(() => out, /"msg":"listening"/, { timeoutMs: 15000 });
    } catch (e) {
      await stop();
      throw new Error(`${e.message}\n${out}`);
    }
    return { child, port, output: () => out, stop };
  }

  const limits = (pid) => readFileSync(`/proc/${pid}/limits`, 'utf8').match(/^Max open files\s+(\d+)\s+(\d+)/m).slice(1).map(Number);

  it('raises the soft limit to the hard one', async () => {
    const s = await serveUnderUlimit('-S -n 256', 'sp-http-nofile-soft');
    try {
      const [soft, hard] = limits(s.child.pid);
      assert.equal(soft, hard, 'soft raised to the hard limit');
      assert.ok(soft > 256);
    } finally {
      assert.deepEqual(await s.stop(), { code: 0, signal: null });
    }
  });

  it('lowers max_connections to what the descriptors allow, says so, and still serves', async () => {
    const s = await serveUnderUlimit('-n 256', 'sp-http-nofile-hard');
    try {
      const m = s.output().match(/"msg":"max_connections lowered to fit the open-file limit".*/);
      assert.ok(m, s.output());
      const line = JSON.parse(`{"msg":${m[0].slice(6)}`);
      assert.equal(line.configured, 10000);
      assert.equal(line.open_files_limit, 256);
      assert.ok(line.max_connections > 0 && line.max_connections < 256 - line.open_files, m[0]);
      const r = await fetch(`http://127.0.0.1:${s.port}/healthz`);
      assert.equal(r.status, 200);
    } finally {
      assert.deepEqual(await s.stop(), { code: 0, signal: null });
    }
  });
});

describe('SIGHUP without TLS', () => {
  // Before: SIGHUP kept its default action without TLS, so a stray `kill -HUP` (or a
  // terminal hang-up) ended the server.
  it('is ignored: the server keeps serving', async () => {
    const server = await startServer({ label: 'sp-http-hup' });
    try {
      process.kill(server.child.pid, 'SIGHUP');
      await sleep(300);
      assert.equal(server.exit, null, 'still running');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});
