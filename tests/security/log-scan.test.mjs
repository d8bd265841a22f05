// The log scanner (tests/security/log-scan.mjs) that tests/run-e2e.sh runs over every
// server log of every suite: proof that it finds each kind of secret, that its command
// fails listing file:line, and a full flow on a real server whose log it finds clean.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenRequest, assertTokenOk, assertOAuthError, Browser, findForm } from '../e2e/lib/server.mjs';
import { scanText, scanDir, knownPasswords, DETECTORS } from './log-scan.mjs';
import { REDIRECT, startDefaultServer, signedIn, grantTokens, refresh, apiGet } from './attacks-lib.mjs';

const SCANNER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'log-scan.mjs');
const token43 = 'Q2xlYXJseSBhIHNlY3JldCB2YWx1ZSBvZiAzMiBieXQ';
const jwt = 'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

describe('log scan', () => {
  it('finds every kind of secret the suites handle', () => {
    const lines = {
      'refresh token (spr_)': `{"msg":"x","v":"spr_0005f1c2a3b4c5d6${token43}"}`,
      'authorization code (spc_)': `{"msg":"redeemed spc_0005f1c2a3b4c5d6${token43}"}`,
      'client secret (sps_)': `stagepass: client sps_${token43}`,
      JWT: `{"msg":"bearer","t":"${jwt}"}`,
      'Authorization header value': 'Authorization: Basic ZGVtby1wbGF5ZXI6c3BzX2Fi',
      'Authorization/Cookie header field': '{"headers":{"cookie":"theme=dark; lang=en"}}',
      'session or CSRF cookie': 'Set-Cookie sp_session=abc; Path=/',
      'form-encoded secret field': '{"body":"grant_type=refresh_token&refresh_token=opaque"}',
      'JSON secret field': '{"client_secret":"hunter22"}',
      '256-bit base64url value (session id, CSRF seed, PKCE verifier)': `{"session":"${token43}"}`,
      '64 hex digits (a key)': `{"master_key":"${'ab'.repeat(32)}"}`,
    };
    assert.deepEqual(Object.keys(lines).sort(), DETECTORS.map(([k]) => k).sort(), 'one sample per detector');
    for (const [kind, line] of Object.entries(lines)) {
      const hits = scanText(`{"msg":"listening"}\n${line}\n`, { file: 'x.log' });
      assert.ok(hits.some((h) => h.kind === kind && h.line === 2), `${kind} not found in ${line}: ${JSON.stringify(hits)}`);
      for (const h of hits) assert.ok(!h.value.includes(line.slice(12, 40)) || h.value.length < 20, 'hits are redacted');
    }
  });

  it('finds the password literals of the test files, and nothing in ordinary log lines', () => {
    const passwords = knownPasswords();
    for (const p of ['correct horse battery staple', 'alice-correct-horse-1', 'alice-sec-suite-pw-1']) {
      assert.ok(passwords.includes(p), `password literal ${p} not collected`);
      assert.equal(scanText(`{"msg":"sign-in","detail":"${p}"}`, { passwords }).length, 1);
    }
    const ordinary = [
      '{"ts":"2026-12-03T18:30:01.123Z","level":"info","msg":"request","method":"POST","path":"/api/token","status":200,"latency_ms":3.2,"client_id":"Ab3dEf6hIj9kLm2nOp5qRs","ip":"127.0.0.1"}',
      '{"ts":"2026-12-03T18:30:01.123Z","level":"info","msg":"audit","type":"sign_in_failed","user_id":"Ab3dEf6hIj9kLm2nOp5qRs","client_id":"","ip":"127.0.0.1","detail":"wrong password","stored":true}',
      '{"ts":"2026-12-03T18:30:01.123Z","level":"info","msg":"request","method":"GET","path":"/v1/playlists/Ab3dEf6hIj9kLm2nOp5qRs/tracks","status":404}',
      '{"ts":"2026-12-03T18:30:01.123Z","level":"info","msg":"listening","address":"127.0.0.1:8080","issuer":"http://127.0.0.1:8080"}',
    ];
    assert.deepEqual(scanText(ordinary.join('\n'), { passwords }), []);
  });

  it('skips only the banner of a --demo server, not its JSON log lines', () => {
    const banner = `  Demo app        client_id demo-player\n                  client_secret sps_${token43}\n`;
    const leak = `{"msg":"oops","secret":"sps_${token43}"}\n`;
    assert.equal(scanText(banner + leak, { demo: true }).length, 1);
    assert.equal(scanText(banner + leak, { demo: false }).length, 2);
  });

  it('the command fails listing file:line, and fails when there is nothing to scan', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-logscan-'));
    try {
      const empty = spawnSync(process.execPath, [SCANNER, dir], { encoding: 'utf8' });
      assert.equal(empty.status, 1, `no log files must fail: ${empty.stdout}${empty.stderr}`);
      writeFileSync(path.join(dir, 'sp-x-1.stdout.log'), '{"msg":"listening"}\n{"msg":"request","path":"/api/token"}\n');
      const clean = spawnSync(process.execPath, [SCANNER, dir], { encoding: 'utf8' });
      assert.equal(clean.status, 0, clean.stderr);
      writeFileSync(path.join(dir, 'sp-x-2.stderr.log'), `starting\nrefresh_token=spr_${token43}\n`);
      const dirty = spawnSync(process.execPath, [SCANNER, dir], { encoding: 'utf8' });
      assert.equal(dirty.status, 1, dirty.stdout);
      assert.match(dirty.stderr, /sp-x-2\.stderr\.log:2: refresh token \(spr_\)/);
      assert.ok(!dirty.stderr.includes(token43), 'the scanner does not print the secret again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a real server\'s log holds no secret after a full flow and its failures', async () => {
    const server = await startDefaultServer('sp-sec-logscan');
    let stopped = false;
    try {
      const user = await server.createUser({ email: 'logs@example.com', displayName: 'Logs', password: 'log-scan-password-1' });
      const client = await server.createClient({ name: 'Log App', redirectUris: [REDIRECT] });
      const pub = await server.createClient({ name: 'Log Native', redirectUris: [REDIRECT], isPublic: true });
      // Each step answers as it must, so the log holds every path it is scanned for.
      assert.equal((await new Browser(server).login(user.email, 'log-scan-wrong-password')).status, 403, 'a failed sign-in');
      const b = await signedIn(server, user);
      const t = await grantTokens(server, { browser: b, user, client, scope: 'user-read-private user-read-email' });
      const p = await grantTokens(server, { browser: b, user, client: pub });
      const t2 = assertTokenOk(await refresh(server, client, t.refresh_token));
      assertOAuthError(await refresh(server, client, 'spr_not-a-real-token'), 'invalid_grant');
      assert.equal((await apiGet(server, t2.access_token, '/me')).status, 200);
      assert.equal((await apiGet(server, t2.access_token, `/me?access_token=${t2.access_token}`)).status, 400, 'a token in the query');
      assert.equal((await apiGet(server, `${t2.access_token}x`, '/me')).status, 401, 'a broken token');
      assertOAuthError(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [client.client_id, `${client.client_secret}x`] }), 'invalid_client', 401);
      const form = async (path, params, headers = {}) => {
        const r = await fetch(`${server.url}${path}`, {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params),
        });
        await r.arrayBuffer();
        return r.status;
      };
      const basic = { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` };
      assert.equal(await form('/api/introspect', { token: t2.access_token }, basic), 200);
      assert.equal(await form('/api/introspect', { token: t2.refresh_token }, basic), 200);
      assert.equal(await form('/api/revoke', { token: t2.access_token }, basic), 200);
      assert.equal(await form('/api/revoke', { token: p.refresh_token, client_id: pub.client_id }), 200);
      const sec = await b.get('/account/security');
      const changed = await b.submit(sec, findForm(sec.text, sec.url, '/account/security/password'), { current_password: 'log-scan-password-1', new_password: 'log-scan-password-2' });
      assert.equal(changed.status, 303, 'the password change');
      await server.stop({ keep: true });
      stopped = true;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-logscan-real-'));
      try {
        for (const name of ['stdout', 'stderr']) {
          writeFileSync(path.join(dir, `server.${name}.log`), readFileSync(path.join(server.tmpdir, `${name}.log`)));
        }
        const log = readFileSync(path.join(dir, 'server.stdout.log'), 'utf8');
        assert.match(log, /"path":"\/api\/token"/, 'control: the log has the token requests');
        assert.match(log, /"type":"sign_in_failed"/, 'control: the log has the failed sign-in');
        const passwords = [...knownPasswords(), 'log-scan-wrong-password', 'log-scan-password-2'];
        const { files, hits } = scanDir(dir, { passwords });
        assert.equal(files, 2);
        assert.deepEqual(hits, [], 'secrets in the server log');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      if (!stopped) await server.stop();
      rmSync(server.tmpdir, { recursive: true, force: true });
    }
  });
});
