// Refresh-token theft and reuse (RFC 9700 §4.14) on the shipped defaults (a 10 s grace
// window for a client's own retry), and the absolute and idle lifetimes with short settings.
// Every test drives the real server over HTTP: the pages for consent, /api/token for the
// grants, /v1/me for the access tokens, `stagepass admin events` for the audit stream.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, tokenRequest, assertOAuthError, assertTokenOk, Browser } from '../e2e/lib/server.mjs';
import { api, expectOk, assertInvalidToken, userTokens, sleep } from '../e2e/lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';
const SCOPE = 'user-read-private';

const refresh = (server, c, rt, extra = {}) =>
  tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt, ...extra }, { basic: [c.client_id, c.client_secret] });

async function events(server, userId) {
  const r = await server.run(['admin', 'events', '--since', '1h', '--user', userId]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('refresh token reuse, shipped defaults', () => {
  let server;
  let app;
  let other;
  let n = 0;

  before(async () => {
    server = await startServer({ label: 'sp-sec-refresh' });
    app = await server.createClient({ name: 'Chain App', redirectUris: [REDIRECT] });
    other = await server.createClient({ name: 'Other App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  // A fresh person and grant per test, so one test's revocation cannot pass another's.
  async function chain(client = app) {
    n += 1;
    const user = await server.createUser({ email: `chain${n}@example.com`, password: `chain-password-${n}` });
    const t = await userTokens(server, { client, user, scope: SCOPE });
    return { user, t };
  }

  it('runs with the default grace window (the setting users get)', async () => {
    const env = server.env;
    assert.equal(env.STAGEPASS_REFRESH_GRACE, undefined, 'e2e servers must run the shipped default');
    const { t } = await chain();
    const t2 = assertTokenOk(await refresh(server, app, t.refresh_token));
    // A lost response: the client retries the same token at once and is answered.
    const retry = assertTokenOk(await refresh(server, app, t.refresh_token), 'retry inside the grace window');
    assert.notEqual(retry.refresh_token, t2.refresh_token);
    expectOk(await api(server, retry.access_token, 'GET', '/me'), 200);
  });

  it('a successor superseded by a grace retry, presented again, revokes the grant', async () => {
    const { user, t } = await chain();
    const legit = assertTokenOk(await refresh(server, app, t.refresh_token), 'first rotation');
    // Someone else replays the spent token inside the window and receives a live chain...
    const stolen = assertTokenOk(await refresh(server, app, t.refresh_token), 'replay in the window');
    // ...until the legitimate holder presents its successor: that is reuse.
    const r = await refresh(server, app, legit.refresh_token);
    assertOAuthError(r, 'invalid_grant');
    assertOAuthError(await refresh(server, app, stolen.refresh_token), 'invalid_grant');
    assertInvalidToken(await api(server, stolen.access_token, 'GET', '/me'), 'access token of the stolen chain');
    const reuse = (await events(server, user.id)).filter((e) => e.type === 'refresh_token_reuse');
    assert.equal(reuse.length, 1, 'one refresh_token_reuse event in the person\'s log');
    assert.equal(reuse[0].client_id, app.client_id);
  });

  it('a rotated token is retried at most once inside the window', async () => {
    const { t } = await chain();
    assertTokenOk(await refresh(server, app, t.refresh_token), 'rotation');
    const retry = assertTokenOk(await refresh(server, app, t.refresh_token), 'first retry');
    assertOAuthError(await refresh(server, app, t.refresh_token), 'invalid_grant');
    assertOAuthError(await refresh(server, app, retry.refresh_token), 'invalid_grant');
    assertInvalidToken(await api(server, retry.access_token, 'GET', '/me'), 'after a second retry');
  });

  it('a rotated token is reuse once its successor was used, even inside the window', async () => {
    const { t } = await chain();
    const t2 = assertTokenOk(await refresh(server, app, t.refresh_token));
    const t3 = assertTokenOk(await refresh(server, app, t2.refresh_token));
    assertOAuthError(await refresh(server, app, t.refresh_token), 'invalid_grant');
    assertOAuthError(await refresh(server, app, t3.refresh_token), 'invalid_grant');
  });

  it('a spent token presented by another client revokes the grant instead of being ignored', async () => {
    const { user, t } = await chain();
    const t2 = assertTokenOk(await refresh(server, app, t.refresh_token));
    const r = await refresh(server, other, t.refresh_token);
    assertOAuthError(r, 'invalid_grant');
    assert.equal(r.json.error_description, 'refresh token is invalid', 'another app learns nothing more');
    assertOAuthError(await refresh(server, app, t2.refresh_token), 'invalid_grant');
    assert.ok((await events(server, user.id)).some((e) => e.type === 'refresh_token_reuse'));
  });

  it('a live token presented by another client is refused and stays usable by its own', async () => {
    const { t } = await chain();
    assertOAuthError(await refresh(server, other, t.refresh_token), 'invalid_grant');
    assertTokenOk(await refresh(server, app, t.refresh_token), 'the holder still refreshes');
  });

  it('a rotated token presented by its own client after the grace window with a wider scope is reuse', async () => {
    // Reuse detection comes before the scope policy (store.hpp, rotate_refresh_token): a
    // wider scope must not turn a replayed token into a harmless invalid_scope.
    const { user, t } = await chain();
    const t2 = assertTokenOk(await refresh(server, app, t.refresh_token), 'rotation');
    await sleep(11_000); // past the shipped 10 s grace window
    const r = await refresh(server, app, t.refresh_token, { scope: `${SCOPE} streaming` });
    assertOAuthError(r, 'invalid_grant');
    assertOAuthError(await refresh(server, app, t2.refresh_token), 'invalid_grant');
    assertInvalidToken(await api(server, t2.access_token, 'GET', '/me'), 'access token of the revoked grant');
    const reuse = (await events(server, user.id)).filter((e) => e.type === 'refresh_token_reuse');
    assert.equal(reuse.length, 1, JSON.stringify(await events(server, user.id)));
    assert.equal(reuse[0].client_id, app.client_id);
  });

  it('asking for a wider scope is refused without spending the token', async () => {
    const { t } = await chain();
    assertOAuthError(await refresh(server, app, t.refresh_token, { scope: `${SCOPE} streaming` }), 'invalid_scope');
    assertTokenOk(await refresh(server, app, t.refresh_token), 'the token was not spent');
  });
});

describe('refresh token lifetimes (short settings: STAGEPASS_REFRESH_TOKEN_TTL / _IDLE_TTL)', () => {
  // Times are whole seconds on the server: a lifetime of N s ends between N-1 and N s after
  // the real moment of issue, so the waits below keep a second of margin either way.
  it('an unused refresh token dies after the idle lifetime; each use restarts it', async () => {
    const server = await startServer({ label: 'sp-sec-idle', env: { STAGEPASS_REFRESH_IDLE_TTL: '3', STAGEPASS_REFRESH_TOKEN_TTL: '600' } });
    try {
      const app = await server.createClient({ name: 'Idle App', redirectUris: [REDIRECT] });
      const user = await server.createUser({ email: 'idle@example.com', password: 'idle-password-1' });
      const t = await userTokens(server, { client: app, user, scope: SCOPE });
      await sleep(1500);
      const t2 = assertTokenOk(await refresh(server, app, t.refresh_token), 'used inside the idle lifetime');
      await sleep(1500);
      const t3 = assertTokenOk(await refresh(server, app, t2.refresh_token), 'the idle lifetime restarted');
      await sleep(1500);
      const t4 = assertTokenOk(await refresh(server, app, t3.refresh_token), '4.5 s after the first token');
      await sleep(3200);
      const r = await refresh(server, app, t4.refresh_token);
      assertOAuthError(r, 'invalid_grant');
      assert.match(r.json.error_description, /expired/);
    } finally {
      await server.stop();
    }
  });

  it('a chain ends at the absolute lifetime, and consenting again starts a new one', async () => {
    const server = await startServer({ label: 'sp-sec-absolute', env: { STAGEPASS_REFRESH_TOKEN_TTL: '3', STAGEPASS_REFRESH_IDLE_TTL: '600' } });
    try {
      const app = await server.createClient({ name: 'Absolute App', redirectUris: [REDIRECT] });
      const user = await server.createUser({ email: 'absolute@example.com', password: 'absolute-password-1' });
      const browser = new Browser(server);
      const t = await userTokens(server, { client: app, user, scope: SCOPE, browser });
      await sleep(1000);
      const t2 = assertTokenOk(await refresh(server, app, t.refresh_token), 'inside the lifetime');
      await sleep(2300); // 3.3 s after consent: used regularly, but past the absolute lifetime
      const r = await refresh(server, app, t2.refresh_token);
      assertOAuthError(r, 'invalid_grant');
      assert.match(r.json.error_description, /expired/);
      // The person authorizes again (their consent is remembered, the grant is the same one):
      // the new chain must not be born expired.
      const fresh = await userTokens(server, { client: app, user, scope: SCOPE, browser });
      assertTokenOk(await refresh(server, app, fresh.refresh_token), 'a new authorization starts a new chain');
    } finally {
      await server.stop();
    }
  });
});
