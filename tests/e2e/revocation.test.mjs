// RFC 7009 revocation and RFC 7662 introspection: on the wire, through the strict npm
// clients (openid-client v6, oauth4webapi v3), and under a race with 32 concurrent clients.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import { startServer, tokenRequest, assertOAuthError, assertTokenOk, basicAuth } from './lib/server.mjs';
import { api, expectOk, assertInvalidToken, clientToken, userTokens } from './lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';
const USER = { email: 'rita@example.com', displayName: 'Rita', password: 'rita-password-123' };
const SCOPE = 'user-read-email user-read-private';

async function post(server, path, params, c, { basic = true } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(params);
  if (basic) headers.authorization = basicAuth(c.client_id, c.client_secret);
  else body.set('client_id', c.client_id);
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}
const revoke = (server, c, token, extra = {}) => post(server, '/api/revoke', { token, ...extra }, c);
const introspect = (server, c, token) => post(server, '/api/introspect', { token }, c);
const refresh = (server, c, rt) => tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt }, { basic: [c.client_id, c.client_secret] });

describe('revocation and introspection', () => {
  let server;
  let app;
  let other;
  let user;

  before(async () => {
    server = await startServer({ label: 'sp-revocation' });
    user = await server.createUser(USER);
    app = await server.createClient({ name: 'Revoking App', redirectUris: [REDIRECT] });
    other = await server.createClient({ name: 'Other App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });
  const tokens = (c = app) => userTokens(server, { client: c, user: { ...USER, id: user.id }, scope: SCOPE });

  it('lists both endpoints in the metadata', async () => {
    const m = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
    assert.equal(m.revocation_endpoint, `${server.url}/api/revoke`);
    assert.equal(m.introspection_endpoint, `${server.url}/api/introspect`);
  });

  it('revoking a refresh token kills the grant: refresh fails and its access tokens get 401', async () => {
    const t = await tokens();
    expectOk(await api(server, t.access_token, 'GET', '/me'), 200);
    const r = await revoke(server, app, t.refresh_token, { token_type_hint: 'refresh_token' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assertOAuthError(await refresh(server, app, t.refresh_token), 'invalid_grant');
    assertInvalidToken(await api(server, t.access_token, 'GET', '/me'), 'access token of a revoked grant');
    assert.deepEqual((await introspect(server, app, t.access_token)).json, { active: false });
  });

  it('revoking an access token kills that token only', async () => {
    const t = await tokens();
    const r = await revoke(server, app, t.access_token, { token_type_hint: 'access_token' });
    assert.equal(r.status, 200);
    assertInvalidToken(await api(server, t.access_token, 'GET', '/me'), 'revoked access token');
    const again = assertTokenOk(await refresh(server, app, t.refresh_token), 'refresh after AT revocation');
    expectOk(await api(server, again.access_token, 'GET', '/me'), 200);
  });

  it('answers 200 for unknown, garbage and foreign tokens, and leaves foreign ones alive', async () => {
    for (const token of ['spr_unknown', 'not-a-token', 'a.b.c']) assert.equal((await revoke(server, app, token)).status, 200);
    const theirs = await tokens(other);
    assert.equal((await revoke(server, app, theirs.refresh_token)).status, 200);
    assert.equal((await revoke(server, app, theirs.access_token)).status, 200);
    expectOk(await api(server, theirs.access_token, 'GET', '/me'), 200);
    assertTokenOk(await refresh(server, other, theirs.refresh_token), 'the other app\'s refresh token still works');
  });

  it('authenticates like the token endpoint', async () => {
    assertOAuthError(await revoke(server, app, ''), 'invalid_request');
    const bad = await post(server, '/api/revoke', { token: 'x' }, { client_id: app.client_id, client_secret: 'wrong' });
    assertOAuthError(bad, 'invalid_client', 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /^Basic/);
  });

  it('introspects active access and refresh tokens with their claims', async () => {
    const t = await tokens();
    const a = (await introspect(server, app, t.access_token)).json;
    assert.equal(a.active, true);
    assert.equal(a.client_id, app.client_id);
    assert.equal(a.sub, user.id);
    assert.equal(a.username, USER.email);
    assert.equal(a.iss, server.url);
    assert.equal(a.aud, `${server.url}/v1`);
    assert.equal(a.token_type, 'Bearer');
    assert.deepEqual(new Set(a.scope.split(' ')), new Set(SCOPE.split(' ')));
    for (const k of ['exp', 'iat']) assert.equal(typeof a[k], 'number');
    assert.match(a.jti, /^[0-9A-Za-z]{22}$/);
    const r = (await introspect(server, app, t.refresh_token)).json;
    assert.equal(r.active, true);
    assert.equal(r.sub, user.id);
    // A rotated refresh token is spent.
    assertTokenOk(await refresh(server, app, t.refresh_token));
    assert.deepEqual((await introspect(server, app, t.refresh_token)).json, { active: false });
  });

  it('answers {"active":false} for unknown tokens and requires a confidential client', async () => {
    assert.deepEqual((await introspect(server, app, 'spr_nothing')).json, { active: false });
    assert.deepEqual((await introspect(server, app, 'eyJ.not.jwt')).json, { active: false });
    const pub = await server.createClient({ name: 'Public', redirectUris: [REDIRECT], isPublic: true });
    const r = await post(server, '/api/introspect', { token: 'x' }, pub, { basic: false });
    assertOAuthError(r, 'invalid_client', 401);
  });

  it('passes openid-client v6 tokenRevocation and tokenIntrospection', async () => {
    const config = await client.discovery(new URL(server.url), app.client_id, app.client_secret, undefined,
      { execute: [client.allowInsecureRequests] });
    const t = await tokens();
    const info = await client.tokenIntrospection(config, t.access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, app.client_id);
    await client.tokenRevocation(config, t.refresh_token);
    const after = await client.tokenIntrospection(config, t.access_token);
    assert.equal(after.active, false);
  });

  it('passes oauth4webapi v3 revocation and introspection processing', async () => {
    const issuer = new URL(server.url);
    const as = await oauth.processDiscoveryResponse(issuer,
      await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const c = { client_id: app.client_id };
    const auth = oauth.ClientSecretPost(app.client_secret);
    const t = await tokens();
    const intro = await oauth.processIntrospectionResponse(as, c,
      await oauth.introspectionRequest(as, c, auth, t.access_token, { [oauth.allowInsecureRequests]: true }));
    assert.equal(intro.active, true);
    assert.equal(intro.sub, user.id);
    const rev = await oauth.revocationRequest(as, c, auth, t.refresh_token, { [oauth.allowInsecureRequests]: true });
    await oauth.processRevocationResponse(rev);
    assertInvalidToken(await api(server, t.access_token, 'GET', '/me'), 'after oauth4webapi revocation');
  });

  it('client-credentials tokens can be revoked too', async () => {
    const token = await clientToken(server, app);
    expectOk(await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
    assert.equal((await revoke(server, app, token)).status, 200);
    assertInvalidToken(await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist' } }), 'revoked cc token');
  });
});

describe('revocation race: 32 clients refreshing and calling the API', () => {
  let server;
  // The rate limit is not under test here: 32 busy clients of one app must never meet it.
  before(async () => { server = await startServer({ label: 'sp-revocation-race', env: { STAGEPASS_RATE_LIMIT: 1000000 } }); });
  after(async () => { await server?.stop(); });

  it('after the revoke returns, no call with the grant\'s tokens succeeds and no new token is issued', async () => {
    const user = await server.createUser(USER);
    const app = await server.createClient({ name: 'Racing App', redirectUris: [REDIRECT] });
    // 32 code exchanges by the same person for the same app: one grant, 32 refresh chains.
    const chains = [];
    for (let i = 0; i < 32; i++) chains.push(await userTokens(server, { client: app, user: { ...USER, id: user.id }, scope: SCOPE }));
    const issued = chains.map((c) => c.access_token);
    const log = []; // {kind, sent, done, status, error}
    let stop = false;
    const worker = async (chain) => {
      let { access_token: at, refresh_token: rt } = chain;
      while (!stop) {
        let sent = performance.now();
        const me = await api(server, at, 'GET', '/me');
        log.push({ kind: 'api', sent, done: performance.now(), status: me.status });
        sent = performance.now();
        const r = await refresh(server, app, rt);
        log.push({ kind: 'refresh', sent, done: performance.now(), status: r.status, error: r.json?.error });
        // A refresh answered 200 (before the revoke, or racing it) hands out tokens that the
        // end of the test checks are dead; the chain carries on with them.
        if (r.status === 200) {
          issued.push(r.json.access_token);
          at = r.json.access_token;
          rt = r.json.refresh_token;
        }
      }
    };
    const workers = chains.map(worker);
    await new Promise((r) => setTimeout(r, 700));
    const revokeSent = performance.now();
    const rv = await revoke(server, app, chains[0].refresh_token);
    const revokedAt = performance.now();
    assert.equal(rv.status, 200);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(workers);

    const show = (entries) => JSON.stringify(entries.slice(0, 5));
    // Answered before the revoke was sent: every call succeeded (each chain is refreshed by
    // one client at a time, so no refresh is a reuse).
    const before = log.filter((e) => e.done < revokeSent);
    assert.ok(before.length > 32, `the clients were busy before the revoke (${before.length} calls)`);
    const failedBefore = before.filter((e) => e.status !== 200);
    assert.deepEqual(failedBefore, [], `calls answered before the revoke failed: ${show(failedBefore)}`);
    // Sent after the revoke returned: every API call is 401, every refresh invalid_grant.
    // (Calls in flight while it ran may go either way: the tokens they got are checked below.)
    const after = log.filter((e) => e.sent > revokedAt);
    assert.ok(after.length > 32, `the clients kept calling after the revoke (${after.length} calls)`);
    const notRefused = after.filter((e) => (e.kind === 'api' ? e.status !== 401 : e.status !== 400 || e.error !== 'invalid_grant'));
    assert.deepEqual(notRefused, [], `calls after the revoke were not refused: ${show(notRefused)}`);
    // Every access token of the grant, including any minted while the revoke ran, is dead.
    for (const at of issued) assertInvalidToken(await api(server, at, 'GET', '/me'), 'a token of the revoked grant');
  });
});
