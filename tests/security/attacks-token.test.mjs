// Attacks on the token endpoint (and its siblings /api/revoke, /api/introspect): PKCE
// downgrade, code injection, refresh-token theft and reuse, scope escalation, token-type
// confusion, client-authentication probing (RFC 9700 §2.1.1, §2.2.2, §2.4, §4.5, §4.8,
// §4.14; RFC 6749 §4.1.3, §5.2, §6, §10.4), against `stagepass serve` with shipped defaults.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tokenRequest, pkcePair, assertOAuthError, assertTokenOk, basicAuth } from '../e2e/lib/server.mjs';
import {
  REDIRECT, OTHER_REDIRECT, startDefaultServer, signedIn, getCode, exchange, refresh, grantTokens,
  apiGet, assertInvalidToken, sleep,
} from './attacks-lib.mjs';

const ALICE = { email: 'alice@example.com', displayName: 'Alice', password: 'alice-token-suite-pw-1' };
const MALLORY = { email: 'mallory@example.com', displayName: 'Mallory', password: 'mallory-token-suite-pw-1' };

describe('attacks: token endpoint', () => {
  let server;
  let alice;
  let mallory;
  let aliceBrowser;
  let malloryBrowser;
  let conf; // confidential, REDIRECT + OTHER_REDIRECT
  let other; // another confidential client, same redirect URI
  let pub; // public, REDIRECT
  let narrow; // confidential, allowed: user-read-private user-read-email

  before(async () => {
    server = await startDefaultServer('sp-sec-token');
    alice = await server.createUser(ALICE);
    mallory = await server.createUser(MALLORY);
    conf = await server.createClient({ name: 'Demo Player', redirectUris: [REDIRECT, OTHER_REDIRECT] });
    other = await server.createClient({ name: 'Other App', redirectUris: [REDIRECT] });
    pub = await server.createClient({ name: 'Public Player', redirectUris: [REDIRECT], isPublic: true });
    narrow = await server.createClient({ name: 'Narrow App', redirectUris: [REDIRECT], scopes: 'user-read-private user-read-email' });
    aliceBrowser = await signedIn(server, alice);
    malloryBrowser = await signedIn(server, mallory);
  });
  after(async () => { await server?.stop(); });

  const code = (opts = {}) => getCode(server, { browser: aliceBrowser, user: alice, client: conf, ...opts });
  const tokens = (opts = {}) => grantTokens(server, { browser: aliceBrowser, user: alice, client: conf, ...opts });

  describe('PKCE at the token endpoint (RFC 9700 §4.8.2, RFC 7636 §4.6)', () => {
    it('refuses a code_verifier for a code issued without code_challenge (downgrade)', async () => {
      const c = await code({ pkce: false });
      assertOAuthError(await exchange(server, conf, { ...c, verifier: pkcePair().verifier }), 'invalid_grant');
    });

    it('refuses a missing code_verifier when a code_challenge was sent', async () => {
      const c = await code();
      assertOAuthError(await exchange(server, conf, { ...c, verifier: undefined }), 'invalid_grant');
      const p = await code({ client: pub });
      assertOAuthError(await exchange(server, pub, { ...p, verifier: undefined }), 'invalid_grant');
    });

    it('refuses a wrong, malformed, or "plain" (verifier = challenge) code_verifier', async () => {
      for (const bad of [pkcePair().verifier, 'short', `${'a'.repeat(42)}!`, 'a'.repeat(129)]) {
        const c = await code({ client: pub });
        assertOAuthError(await exchange(server, pub, { ...c, verifier: bad }), 'invalid_grant');
      }
      const c = await code({ client: pub });
      assertOAuthError(await exchange(server, pub, { ...c, verifier: c.challenge }), 'invalid_grant');
    });
  });

  describe('authorization code injection (RFC 9700 §4.5, RFC 6749 §4.1.3)', () => {
    it('refuses a code issued to another client', async () => {
      const c = await code();
      assertOAuthError(await exchange(server, other, c), 'invalid_grant');
      const p = await code({ client: pub });
      assertOAuthError(await exchange(server, conf, p), 'invalid_grant');
    });

    it('refuses a code with another (or no) redirect_uri than the authorization request', async () => {
      const c = await code({ redirectUri: REDIRECT });
      assertOAuthError(await exchange(server, conf, { ...c, redirectUri: OTHER_REDIRECT }), 'invalid_grant');
      const d = await code({ redirectUri: REDIRECT });
      assertOAuthError(await exchange(server, conf, { ...d, redirectUri: `${REDIRECT}/` }), 'invalid_grant');
      const e = await code();
      const r = await tokenRequest(server, { grant_type: 'authorization_code', code: e.code, code_verifier: e.verifier }, { basic: [conf.client_id, conf.client_secret] });
      assertOAuthError(r, 'invalid_request');
    });

    it('refuses a code of another person\'s session injected into this session (PKCE binds it)', async () => {
      // Mallory authorizes the same client in her own browser and plants her code in Alice's
      // callback; Alice's client redeems it with Alice's verifier.
      const planted = await getCode(server, { browser: malloryBrowser, user: mallory, client: conf });
      const mine = pkcePair();
      assertOAuthError(await exchange(server, conf, { code: planted.code, verifier: mine.verifier }), 'invalid_grant');
      const plantedPub = await getCode(server, { browser: malloryBrowser, user: mallory, client: pub });
      assertOAuthError(await exchange(server, pub, { code: plantedPub.code, verifier: mine.verifier }), 'invalid_grant');
    });

    it('refuses a second use of a code', async () => {
      const c = await code();
      assertTokenOk(await exchange(server, conf, c), 'first use');
      assertOAuthError(await exchange(server, conf, c), 'invalid_grant');
    });
  });

  describe('refresh token theft and reuse (RFC 9700 §4.14, RFC 6749 §6)', () => {
    it('refuses a refresh token presented by another client', async () => {
      const t = await tokens();
      assertOAuthError(await refresh(server, other, t.refresh_token), 'invalid_grant');
    });

    it('refuses a confidential client\'s refresh token without its secret', async () => {
      const t = await tokens();
      const r = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: conf.client_id });
      assertOAuthError(r, 'invalid_client', 401);
    });

    it('rotates refresh tokens of public clients on every use (RFC 9700 §2.2.2)', async () => {
      const t = await tokens({ client: pub });
      const r = assertTokenOk(await refresh(server, pub, t.refresh_token), 'public refresh');
      assert.ok(r.refresh_token && r.refresh_token !== t.refresh_token, 'a new refresh token replaces the old one');
    });

    it('a rotated refresh token used again after the grace window revokes the whole grant', async () => {
      // Shipped default: STAGEPASS_REFRESH_GRACE=10 s. Beyond it a second use is reuse.
      const t1 = await tokens();
      const t2 = assertTokenOk(await refresh(server, conf, t1.refresh_token), 'rotation');
      assert.equal((await apiGet(server, t2.access_token, '/me')).status, 200, 'control: the new access token works');
      await sleep(11000);
      const reuse = await refresh(server, conf, t1.refresh_token);
      assertOAuthError(reuse, 'invalid_grant');
      assertOAuthError(await refresh(server, conf, t2.refresh_token), 'invalid_grant');
      assertInvalidToken(await apiGet(server, t2.access_token, '/me'), 'access token of a grant revoked for reuse');
      assertInvalidToken(await apiGet(server, t1.access_token, '/me'), 'first access token of the revoked grant');
    });
  });

  describe('scope escalation (RFC 9700 §2.3, §4.14.2; RFC 6749 §6)', () => {
    it('refuses a refresh asking for more than was granted with invalid_scope', async () => {
      const t = await tokens({ scope: 'user-read-private' });
      for (const scope of ['user-read-private user-library-modify', 'user-library-modify', 'no-such-scope']) {
        assertOAuthError(await refresh(server, conf, t.refresh_token, { scope }), 'invalid_scope');
      }
    });

    it('a narrowed refresh does not widen the refresh token, and the narrowed access token is refused where it lacks scope', async () => {
      const t = await tokens({ scope: 'user-read-private user-read-email' });
      const narrowed = assertTokenOk(await refresh(server, conf, t.refresh_token, { scope: 'user-read-private' }), 'narrowing');
      assert.equal(narrowed.scope, 'user-read-private');
      const me = await apiGet(server, narrowed.access_token, '/me');
      assert.equal(me.status, 200);
      assert.equal(me.json.email, undefined, 'user-read-email was dropped from the access token');
      assertOAuthError(await refresh(server, conf, narrowed.refresh_token, { scope: 'user-read-private user-library-read' }), 'invalid_scope');
    });

    it('refuses client_credentials asking beyond the client\'s allowed scopes', async () => {
      for (const scope of ['user-library-modify', 'user-read-private user-library-modify', 'no-such-scope']) {
        const r = await tokenRequest(server, { grant_type: 'client_credentials', scope }, { basic: [narrow.client_id, narrow.client_secret] });
        assertOAuthError(r, 'invalid_scope');
      }
      const ok = await tokenRequest(server, { grant_type: 'client_credentials', scope: 'user-read-private' }, { basic: [narrow.client_id, narrow.client_secret] });
      assertTokenOk(ok, 'control: an allowed scope');
    });
  });

  describe('token-type confusion at the token endpoint', () => {
    it('an access token, a code or a client secret is not a refresh token', async () => {
      const t = await tokens();
      const c = await code();
      for (const [what, value] of [
        ['access token', t.access_token], ['authorization code', c.code], ['client secret', conf.client_secret],
        ['refresh token with the code prefix', t.refresh_token.replace(/^spr_/, 'spc_')],
      ]) {
        const r = await refresh(server, conf, value);
        assert.equal(r.json?.error, 'invalid_grant', `${what} as refresh_token: HTTP ${r.status} ${r.text}`);
        assertOAuthError(r, 'invalid_grant');
      }
    });

    it('a refresh token or an access token is not an authorization code', async () => {
      const t = await tokens();
      for (const value of [t.refresh_token, t.access_token, t.refresh_token.replace(/^spr_/, 'spc_')]) {
        assertOAuthError(await exchange(server, conf, { code: value, verifier: pkcePair().verifier }), 'invalid_grant');
      }
    });

    it('a refresh token, a code or a client secret is not an access token at the Web API', async () => {
      const t = await tokens();
      const c = await code();
      for (const [what, value] of [['refresh token', t.refresh_token], ['code', c.code], ['client secret', conf.client_secret]]) {
        assertInvalidToken(await apiGet(server, value, '/me'), what);
      }
    });
  });

  describe('grants that must not exist', () => {
    it('refuses the resource owner password grant (RFC 9700 §2.4) and the implicit "token" grant', async () => {
      for (const grant of ['password', 'implicit', 'token', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
        const r = await tokenRequest(server, { grant_type: grant, username: alice.email, password: alice.password, scope: 'user-read-private' }, { basic: [conf.client_id, conf.client_secret] });
        assertOAuthError(r, 'unsupported_grant_type');
      }
    });

    it('issues no refresh token to client credentials (RFC 9700 §4.14.2: only where a person consented)', async () => {
      const r = assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [conf.client_id, conf.client_secret] }));
      assert.equal(r.refresh_token, undefined, JSON.stringify(Object.keys(r)));
    });

    it('refuses client_credentials for a public client', async () => {
      const r = await tokenRequest(server, { grant_type: 'client_credentials', client_id: pub.client_id });
      assertOAuthError(r, 'unauthorized_client', 400);
    });
  });

  describe('client authentication', () => {
    it('ignores credentials and parameters in the query string', async () => {
      const q = new URLSearchParams({ grant_type: 'client_credentials', client_id: conf.client_id, client_secret: conf.client_secret });
      const res = await fetch(`${server.url}/api/token?${q}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      const r = { status: res.status, headers: res.headers, text: await res.text() };
      r.json = JSON.parse(r.text);
      // The empty body names no client: as if no credentials were sent at all.
      assertOAuthError(r, 'invalid_client', 401);
      assert.equal(r.json.error_description, 'client authentication required');
      const get = await fetch(`${server.url}/api/token?${q}`);
      await get.arrayBuffer();
      assert.equal(get.status, 405, 'GET /api/token');
    });

    it('answers an unknown client and a wrong secret identically (token, revoke, introspect)', async () => {
      for (const path of ['/api/token', '/api/revoke', '/api/introspect']) {
        const ask = async (id, secret, how) => {
          const h = { 'content-type': 'application/x-www-form-urlencoded' };
          const body = new URLSearchParams({ grant_type: 'client_credentials', token: 'x' });
          if (how === 'basic') h.authorization = basicAuth(id, secret);
          else { body.set('client_id', id); body.set('client_secret', secret); }
          const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: h, body: body.toString() });
          const headers = Object.fromEntries([...res.headers].filter(([k]) => !['date', 'content-length'].includes(k)));
          return { status: res.status, headers, body: await res.text() };
        };
        for (const how of ['basic', 'post']) {
          const wrongSecret = await ask(conf.client_id, `${conf.client_secret}x`, how);
          const unknown = await ask('no-such-client-id-000000', `${conf.client_secret}x`, how);
          assert.equal(wrongSecret.status, 401, `${path} ${how}: ${wrongSecret.body}`);
          assert.deepEqual(unknown, wrongSecret, `${path} (${how}): the answers reveal which client ids exist`);
        }
      }
    });

    it('sends token responses with Cache-Control: no-store (RFC 6749 §5.1)', async () => {
      const c = await code();
      const r = await exchange(server, conf, c);
      assertTokenOk(r);
      assert.match(r.headers.get('cache-control') ?? '', /\bno-store\b/);
      const e = await refresh(server, conf, 'spr_nope');
      assert.match(e.headers.get('cache-control') ?? '', /\bno-store\b/);
    });
  });
});
