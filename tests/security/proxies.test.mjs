// STAGEPASS_TRUSTED_PROXIES (issue 13 §1, "per-IP limits behind a proxy"): the forwarding
// header names the client only when the TCP peer is a listed proxy, and only the header
// named by STAGEPASS_FORWARDED_HEADER (x-forwarded-for by default, or forwarded) is read.
// Real servers: two that list 127.0.0.1 (the test plays the proxy; one per header) and one
// that does not (the test plays a client forging the header). The sign-in throttle, the
// audit stream and the access log must follow the forwarded address on the first two and
// ignore it on the last.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, Browser, findForm } from '../e2e/lib/server.mjs';
import { runServe } from './lib/transport.mjs';

const PASSWORD = 'proxy-password-123';
// STAGEPASS_LOGIN_MAX_FAILURES=1 makes the per-IP limit 4 failures per 15 min.
const IP_LIMIT = 4;

/** One sign-in through the real form, with extra request headers on the POST. */
async function signIn(server, email, password, headers) {
  const browser = new Browser(server);
  const page = await browser.get('/login');
  const form = findForm(page.text, page.url, '/login');
  assert.ok(form, 'the sign-in page has its form');
  const pairs = [...form.hidden, ['username', email], ['password', password]];
  return browser.request(new URL(form.action || page.url.href, page.url), { method: 'POST', form: pairs, headers });
}

async function events(server, userId) {
  const r = await server.run(['admin', 'events', '--since', '1h', '--user', userId]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function startPair(label) {
  const env = { STAGEPASS_LOGIN_MAX_FAILURES: '1' };
  const proxies = { STAGEPASS_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1/32, ::1' };
  const trusting = await startServer({ label: `${label}-trusting`, env: { ...env, ...proxies } });
  const rfc7239 = await startServer({ label: `${label}-rfc7239`, env: { ...env, ...proxies, STAGEPASS_FORWARDED_HEADER: 'forwarded' } });
  const plain = await startServer({ label: `${label}-plain`, env });
  return { trusting, rfc7239, plain };
}

describe('forwarded client address', () => {
  let trusting;
  let rfc7239;
  let plain;
  before(async () => { ({ trusting, rfc7239, plain } = await startPair('sp-proxies')); });
  after(async () => { await trusting?.stop(); await rfc7239?.stop(); await plain?.stop(); });

  it('records the forwarded address in audit events only from a trusted proxy', async () => {
    const cases = [
      [trusting, { 'x-forwarded-for': '192.0.2.1, 203.0.113.7' }, '203.0.113.7'],
      [rfc7239, { forwarded: 'for="[2001:db8::7]:4711";proto=https' }, '2001:db8::7'],
      [trusting, { 'x-forwarded-for': 'unknown' }, '127.0.0.1'], // malformed: the peer
      // The header the proxies do not write is never read, nor does its presence change the
      // answer: before, both together fell back to the proxy's address (the client picked
      // the proxy's throttle bucket by adding the other header).
      [trusting, { 'x-forwarded-for': '203.0.113.7', forwarded: 'for=203.0.113.8' }, '203.0.113.7'],
      [trusting, { forwarded: 'for=203.0.113.8' }, '127.0.0.1'],
      [rfc7239, { 'x-forwarded-for': '203.0.113.7', forwarded: 'for=203.0.113.8' }, '203.0.113.8'],
      [rfc7239, { 'x-forwarded-for': '203.0.113.7' }, '127.0.0.1'],
      [plain, { 'x-forwarded-for': '203.0.113.7' }, '127.0.0.1'], // not a trusted peer: ignored
      [plain, { forwarded: 'for=203.0.113.8' }, '127.0.0.1'],
    ];
    for (const [i, [server, headers, expected]] of cases.entries()) {
      const email = `audit${i}@example.com`;
      const user = await server.createUser({ email, password: PASSWORD });
      const r = await signIn(server, email, PASSWORD, headers);
      assert.equal(r.status, 303, `sign-in ${i}: ${r.status}`);
      const signedIn = (await events(server, user.id)).find((e) => e.type === 'sign_in');
      assert.ok(signedIn, `sign_in event for case ${i}`);
      assert.equal(signedIn.ip, expected, `case ${i}: ${JSON.stringify(headers)}`);
    }
    // The access log names the same client.
    assert.match(trusting.stdout(), /"msg":"request".*"path":"\/login".*"ip":"203\.0\.113\.7"/);
    assert.doesNotMatch(plain.stdout(), /"ip":"203\.0\.113\./);
  });

  it('throttles sign-ins per forwarded client behind a trusted proxy, per peer otherwise', async () => {
    const attempt = (server, ip, n) => signIn(server, `nobody${n}@example.com`, 'wrong-password', { 'x-forwarded-for': ip });
    for (const server of [trusting, plain]) {
      for (let n = 0; n < IP_LIMIT; n++) {
        assert.equal((await attempt(server, '198.51.100.1', n)).status, 403, `failure ${n} is counted, not throttled yet`);
      }
      assert.equal((await attempt(server, '198.51.100.1', 'x')).status, 429, 'the same client is now throttled');
    }
    // Behind the trusted proxy another client is not; without trust every request comes from
    // 127.0.0.1, so the forged header changes nothing.
    assert.equal((await attempt(trusting, '198.51.100.2', 'y')).status, 403);
    assert.equal((await attempt(plain, '198.51.100.2', 'y')).status, 429);
  });
});

describe('STAGEPASS_FORWARDED_HEADER', () => {
  it('refuses to start with another header name', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-proxies-refuse-'));
    try {
      const r = await runServe({
        ...process.env,
        STAGEPASS_DATABASE: path.join(dir, 'stagepass.db'),
        STAGEPASS_MASTER_KEY_FILE: path.join(dir, 'master.key'),
        STAGEPASS_LISTEN: '127.0.0.1:0',
        STAGEPASS_ISSUER: 'http://127.0.0.1:8080',
        STAGEPASS_TRUSTED_PROXIES: '127.0.0.1',
        STAGEPASS_FORWARDED_HEADER: 'x-real-ip',
      });
      assert.notEqual(r.code, 0);
      assert.equal(r.stillRunning, false);
      assert.match(r.stderr.trim(), /^stagepass: STAGEPASS_FORWARDED_HEADER: the forwarding header must be x-forwarded-for or forwarded, got 'x-real-ip'$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
