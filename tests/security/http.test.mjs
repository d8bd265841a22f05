// The HTTP layer against slow clients, header injection and exposure of operator endpoints
// (issue 13 §1): the real server on loopback, raw sockets where the connection matters.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, freePort, Browser, findForm } from '../e2e/lib/server.mjs';
import { connectTcp, exchange, closedWithin, sleep } from './lib/transport.mjs';

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
      const loc = r.headers.get('location');
      assert.ok(loc === null || !/[\r\n]/.test(loc), `Location: ${JSON.stringify(loc)}`);
      assert.ok([303, 302, 500].includes(r.status), `a refused or sanitised answer, got ${r.status}`);
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
