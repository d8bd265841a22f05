// Authorization codes (RFC 6749 §4.1.2, §4.1.3, §10.5; RFC 9700 §4.5): a code is spent only
// by a presentation that passes every check (client, redirect_uri, PKCE), so whoever merely
// saw a code cannot burn it or revoke the person's grant with it; a true replay revokes the
// grant and says so in the person's security log.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, tokenRequest, assertOAuthError, assertTokenOk, authorizeInBrowser, pkcePair, randomState,
} from '../e2e/lib/server.mjs';
import { api, expectOk, assertInvalidToken } from '../e2e/lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';
const OTHER_REDIRECT = 'https://app.example/other';

describe('authorization code spending and replay', () => {
  let server;
  let app;
  let other;
  let n = 0;

  before(async () => {
    server = await startServer({ label: 'sp-sec-code' });
    app = await server.createClient({ name: 'Code App', redirectUris: [REDIRECT, OTHER_REDIRECT] });
    other = await server.createClient({ name: 'Other App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  async function freshCode() {
    n += 1;
    const user = await server.createUser({ email: `code${n}@example.com`, password: `code-password-${n}` });
    const pk = pkcePair();
    const auth = await authorizeInBrowser({
      server, clientId: app.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
      state: randomState(), codeChallenge: pk.challenge, email: user.email, password: user.password,
    });
    assert.ok(auth.code, auth.browser.traceText());
    return { user, pk, code: auth.code };
  }
  const exchange = (c, code, { verifier, redirectUri = REDIRECT } = {}) =>
    tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
      { basic: [c.client_id, c.client_secret] });
  async function events(userId) {
    const r = await server.run(['admin', 'events', '--since', '1h', '--user', userId]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  it('a wrong code_verifier spends nothing: the holder still redeems the code', async () => {
    const { pk, code } = await freshCode();
    assertOAuthError(await exchange(app, code, { verifier: pkcePair().verifier }), 'invalid_grant');
    const t = assertTokenOk(await exchange(app, code, { verifier: pk.verifier }), 'the holder after a wrong guess');
    expectOk(await api(server, t.access_token, 'GET', '/me'), 200);
  });

  it('another client, another redirect_uri or no verifier spend nothing either', async () => {
    const { pk, code } = await freshCode();
    assertOAuthError(await exchange(other, code, { verifier: pk.verifier }), 'invalid_grant');
    assertOAuthError(await exchange(app, code, { verifier: pk.verifier, redirectUri: OTHER_REDIRECT }), 'invalid_grant');
    assertOAuthError(await exchange(app, code, {}), 'invalid_grant');
    assertTokenOk(await exchange(app, code, { verifier: pk.verifier }), 'the holder afterwards');
  });

  it('another client gets the answer of an unknown code, spends nothing and revokes nothing', async () => {
    const { pk, code } = await freshCode();
    const unknown = await exchange(other, `spc_${'A'.repeat(43)}`, { verifier: pk.verifier });
    assertOAuthError(unknown, 'invalid_grant');
    assert.equal(unknown.json.error_description, 'authorization code is invalid');
    // A live code of someone else's: no oracle (nothing says "issued to another client").
    const live = await exchange(other, code, { verifier: pk.verifier });
    assertOAuthError(live, 'invalid_grant');
    assert.equal(live.status, unknown.status);
    assert.equal(live.json.error_description, unknown.json.error_description);
    const t = assertTokenOk(await exchange(app, code, { verifier: pk.verifier }), 'the holder afterwards');
    // A spent code presented by another client: the same answer, and the grant stays alive
    // (only a replay by its own client, with everything right, revokes it).
    const spent = await exchange(other, code, { verifier: pk.verifier });
    assertOAuthError(spent, 'invalid_grant');
    assert.equal(spent.json.error_description, unknown.json.error_description);
    expectOk(await api(server, t.access_token, 'GET', '/me'), 200);
  });

  it('a spent code presented with a wrong verifier revokes nothing', async () => {
    const { pk, code } = await freshCode();
    const t = assertTokenOk(await exchange(app, code, { verifier: pk.verifier }));
    assertOAuthError(await exchange(app, code, { verifier: pkcePair().verifier }), 'invalid_grant');
    expectOk(await api(server, t.access_token, 'GET', '/me'), 200);
    assertTokenOk(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t.refresh_token },
      { basic: [app.client_id, app.client_secret] }), 'the grant is alive');
  });

  it('a true replay revokes the grant and writes authorization_code_replay to the person\'s log', async () => {
    const { user, pk, code } = await freshCode();
    const t = assertTokenOk(await exchange(app, code, { verifier: pk.verifier }));
    const r = await exchange(app, code, { verifier: pk.verifier });
    assertOAuthError(r, 'invalid_grant');
    assert.equal(r.json.error_description, 'authorization code was already used');
    assertInvalidToken(await api(server, t.access_token, 'GET', '/me'), 'token of a replayed code');
    const replay = (await events(user.id)).filter((e) => e.type === 'authorization_code_replay');
    assert.equal(replay.length, 1, JSON.stringify(await events(user.id)));
    assert.equal(replay[0].client_id, app.client_id);
  });
});
