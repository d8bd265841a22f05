// The audit stream: security events written durably, counted in /metrics, and available to
// operators as JSON lines (`stagepass admin events --since ...`).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, tokenRequest, assertOAuthError, assertTokenOk } from './lib/server.mjs';
import { userTokens } from './lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';
const USER = { email: 'audit@example.com', displayName: 'Audrey', password: 'audit-password-123' };

describe('audit events', () => {
  let server;
  let user;
  let app;
  const events = async (...extra) => {
    const r = await server.run(['admin', 'events', '--since', '1h', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  };

  before(async () => {
    server = await startServer({ label: 'sp-audit' });
    user = await server.createUser(USER);
    app = await server.createClient({ name: 'Audited App', redirectUris: [REDIRECT] });
    assert.equal((await new Browser(server).login(USER.email, 'not-the-password')).status, 403, 'a failed sign-in');
    const t = await userTokens(server, { client: app, user: { ...USER, id: user.id }, scope: 'user-read-email' });
    const basic = { basic: [app.client_id, app.client_secret] };
    const t2 = assertTokenOk(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic));
    assertTokenOk(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t2.refresh_token }, basic));
    // The first token again, after its successor was used: reuse.
    assertOAuthError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic), 'invalid_grant');
  });
  after(async () => { await server?.stop(); });
  const revoke = (token, hint) => fetch(`${server.url}/api/revoke`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token, token_type_hint: hint }),
  });

  it('records sign-in failures and successes, consent and refresh-token reuse for the person', async () => {
    const mine = await events('--user', user.id);
    const types = mine.map((e) => e.type);
    for (const t of ['sign_in_failed', 'sign_in', 'consent_granted', 'refresh_token_reuse']) {
      assert.ok(types.includes(t), `${t} in ${JSON.stringify(types)}`);
    }
    const failed = mine.find((e) => e.type === 'sign_in_failed');
    assert.equal(failed.ip, '127.0.0.1');
    const consent = mine.find((e) => e.type === 'consent_granted');
    assert.equal(consent.client_id, app.client_id);
    assert.match(consent.detail, /Audited App/);
    assert.ok(mine.every((e, i) => i === 0 || e.id > mine[i - 1].id), 'oldest first, increasing ids');
    assert.ok(mine.every((e) => typeof e.at === 'number' && e.user_id === user.id));
  });

  it('lists everyone\'s events for operators, and none before --since', async () => {
    const all = await events();
    assert.ok(all.length >= 4);
    const future = await server.run(['admin', 'events', '--since', String(Math.floor(Date.now() / 1000) + 3600)]);
    assert.equal(future.code, 0);
    assert.equal(future.stdout.trim(), '');
    const bad = await server.run(['admin', 'events', '--since', 'yesterday-ish']);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one clear line');
  });

  it('counts events in /metrics', async () => {
    const m = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(m, /stagepass_audit_events_total\{type="sign_in"\} [1-9]/);
    assert.match(m, /stagepass_audit_events_total\{type="refresh_token_reuse"\} 1/);
  });

  it('records an access token revoked through /api/revoke (RFC 7009) in the person\'s log', async () => {
    const t = await userTokens(server, { client: app, user: { ...USER, id: user.id }, scope: 'user-read-email' });
    const r = await revoke(t.access_token, 'access_token');
    assert.equal(r.status, 200);
    const revoked = (await events('--user', user.id)).filter((e) => e.type === 'access_token_revoked');
    assert.equal(revoked.length, 1, JSON.stringify(await events('--user', user.id)));
    assert.equal(revoked[0].client_id, app.client_id);
    assert.doesNotMatch(JSON.stringify(revoked[0]), /eyJ/, 'no token in the event');
  });

  // RFC 7009 §2.2 answers 200 to a repeated revocation; the log must not grow with each one,
  // or anyone holding a single token could bury the person's security events.
  it('records one event when the same access token or refresh token is revoked again and again', async () => {
    const t = await userTokens(server, { client: app, user: { ...USER, id: user.id }, scope: 'user-read-email' });
    const count = async (type) => (await events('--user', user.id)).filter((e) => e.type === type).length;
    const accessBefore = await count('access_token_revoked');
    const signedOutBefore = await count('app_signed_out');
    for (const [token, hint] of [[t.access_token, 'access_token'], [t.refresh_token, 'refresh_token']]) {
      for (let i = 0; i < 3; i++) {
        const r = await revoke(token, hint);
        assert.equal(r.status, 200);
        assert.deepEqual(await r.json(), {});
      }
    }
    assert.equal(await count('access_token_revoked'), accessBefore + 1);
    assert.equal(await count('app_signed_out'), signedOutBefore + 1);
  });

  it('records a client deleted by an operator (stagepass admin client delete)', async () => {
    const doomed = await server.createClient({ name: 'Doomed App', redirectUris: [REDIRECT] });
    const del = await server.run(['admin', 'client', 'delete', doomed.client_id]);
    assert.equal(del.code, 0, del.stderr);
    const deleted = (await events()).filter((e) => e.type === 'client_deleted');
    assert.equal(deleted.length, 1, JSON.stringify(await events()));
    assert.equal(deleted[0].client_id, doomed.client_id);
    assert.match(deleted[0].detail, /Doomed App/);
  });
});
