// The negative suite: every way a client, a browser or an attacker can get it wrong, asserted
// on the wire (status, RFC 6749 §5.2 JSON, headers, redirects that must or must not happen).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Browser, authorizeInBrowser, authorizeForCode, authorizeUrl, classifyPage, findForm, pageText,
  tokenRequest, pkcePair, randomState, assertOAuthError, assertTokenOk, describeResponse, rawRequest,
  basicAuth,
} from './lib/server.mjs';

const REDIRECT = 'https://app.example/callback';
const OTHER_REDIRECT = 'https://app.example/other-callback';
const ALICE = { email: 'alice@example.com', displayName: 'Alice Example', password: 'alice-correct-horse-1' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function assertErrorPage(page, what) {
  const ctx = `${what}: HTTP ${page.status} Location: ${page.headers.get('location')}\n${page.text.slice(0, 600)}`;
  assert.equal(page.headers.get('location'), null, `must not redirect (${ctx})`);
  assert.equal(page.status, 400, `expected the 400 error page (${ctx})`);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html\b/i, `error page is HTML (${ctx})`);
}

describe('negative suite', () => {
  let server;
  let alice;
  let aliceBrowser; // logged in during before()
  let conf; // confidential client, REDIRECT + OTHER_REDIRECT
  let pub; // public client, REDIRECT

  before(async () => {
    server = await startServer({ label: 'sp-negative' });
    alice = await server.createUser(ALICE);
    conf = await server.createClient({ name: 'Demo Player', redirectUris: [REDIRECT, OTHER_REDIRECT] });
    pub = await server.createClient({ name: 'Public Player', redirectUris: [REDIRECT], isPublic: true });
    aliceBrowser = new Browser(server);
    const warmup = await authorizeInBrowser({
      server, browser: aliceBrowser, clientId: conf.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
      state: randomState(), codeChallenge: pkcePair().challenge, email: alice.email, password: alice.password,
    });
    assert.equal(warmup.stoppedAt, 'redirect', `could not log in and authorize once:\n${aliceBrowser.traceText()}`);
  });
  after(async () => { await server?.stop(); });

  const basicOf = (c) => ({ basic: [c.client_id, c.client_secret] });

  /** Authorize as alice (consenting when asked) and return {code, verifier, ...}. */
  function getCode({ client = conf, scope = 'user-read-private', redirectUri = REDIRECT, pkce = true, browser = aliceBrowser } = {}) {
    return authorizeForCode(server, { browser, user: alice, client, scope, redirectUri, pkce });
  }


  async function exchange(client, { code, verifier, redirectUri = REDIRECT }, extra = {}) {
    const params = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...(verifier ? { code_verifier: verifier } : {}), ...extra };
    return client.public
      ? tokenRequest(server, { ...params, client_id: client.client_id })
      : tokenRequest(server, params, basicOf(client));
  }

  const refresh = (client, rt, extra = {}) => tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt, ...extra }, basicOf(client));

  /** An authorization request that must come back to the redirect URI with `error`. */
  async function expectAuthorizeError(params, expected) {
    const state = randomState();
    const redirectUri = params.redirectUri ?? REDIRECT;
    const r = await authorizeInBrowser({
      server, browser: aliceBrowser, clientId: (params.client ?? conf).client_id, redirectUri, scope: 'user-read-private',
      state, ...params, decision: null,
    });
    assert.equal(r.stoppedAt, 'redirect', `expected a redirect with error=${expected}, stopped at ${r.stoppedAt} (HTTP ${r.page?.status}):\n${aliceBrowser.traceText()}\n${r.page?.text?.slice(0, 600)}`);
    assert.ok(r.location.startsWith(`${redirectUri}?`), r.location);
    assert.equal(r.error, expected, `got ${r.location}`);
    assert.equal(r.code, undefined, 'no code next to an error');
    assert.equal(r.state, state, 'state is echoed on errors too');
    assert.equal(r.iss, server.issuer, 'RFC 9207: iss on error responses too');
  }

  describe('authorization endpoint', () => {
    it('shows an error page, not a redirect, for an unregistered redirect_uri (no session)', async () => {
      const page = await new Browser(server).get(authorizeUrl(server, {
        clientId: conf.client_id, redirectUri: 'https://evil.example/cb', scope: 'user-read-private', state: 's', codeChallenge: pkcePair().challenge,
      }));
      assertErrorPage(page, 'unregistered redirect_uri, no session');
    });

    it('shows an error page, not a redirect, for an unregistered redirect_uri (logged in)', async () => {
      for (const bad of ['https://evil.example/cb', `${REDIRECT}/extra`, `${REDIRECT}?x=1`, REDIRECT.replace('https:', 'http:'), REDIRECT.replace('callback', 'Callback')]) {
        const page = await aliceBrowser.get(authorizeUrl(server, {
          clientId: conf.client_id, redirectUri: bad, scope: 'user-read-private', state: 's', codeChallenge: pkcePair().challenge,
        }));
        assertErrorPage(page, `redirect_uri ${bad}`);
      }
    });

    it('shows an error page for an unknown client_id', async () => {
      for (const b of [new Browser(server), aliceBrowser]) {
        const page = await b.get(authorizeUrl(server, {
          clientId: 'no-such-client', redirectUri: REDIRECT, scope: 'user-read-private', state: 's', codeChallenge: pkcePair().challenge,
        }));
        assertErrorPage(page, 'unknown client_id');
      }
    });

    it('redirects with unsupported_response_type for response_type=token', async () => {
      await expectAuthorizeError({ responseType: 'token', codeChallenge: pkcePair().challenge }, 'unsupported_response_type');
    });

    it('redirects with invalid_scope for an unknown scope', async () => {
      await expectAuthorizeError({ scope: 'user-read-private no-such-scope', codeChallenge: pkcePair().challenge }, 'invalid_scope');
    });

    it('redirects with invalid_request when a public client sends no code_challenge', async () => {
      await expectAuthorizeError({ client: pub }, 'invalid_request');
    });

    it('redirects with invalid_request for code_challenge_method=plain', async () => {
      const pk = pkcePair();
      await expectAuthorizeError({ client: pub, codeChallenge: pk.verifier, codeChallengeMethod: 'plain' }, 'invalid_request');
      await expectAuthorizeError({ client: conf, codeChallenge: pk.verifier, codeChallengeMethod: 'plain' }, 'invalid_request');
    });

    it('HTML-escapes the client name on the consent page', async () => {
      const evil = await server.createClient({ name: '<script>alert("pwned")</script> & Co', redirectUris: [REDIRECT] });
      const r = await authorizeInBrowser({
        server, browser: aliceBrowser, clientId: evil.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: randomState(), codeChallenge: pkcePair().challenge, decision: null,
      });
      assert.equal(r.stoppedAt, 'consent', aliceBrowser.traceText());
      assert.ok(!r.page.text.includes('<script>alert("pwned")'), 'client name must be HTML-escaped');
      assert.ok(pageText(r.page.text).includes('<script>alert("pwned")</script> & Co'), 'the escaped name is still shown');
    });

    it('rejects a consent POST without a valid CSRF token with 403', async () => {
      const client = await server.createClient({ name: 'CSRF Consent', redirectUris: [REDIRECT] });
      const r = await authorizeInBrowser({
        server, browser: aliceBrowser, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: randomState(), codeChallenge: pkcePair().challenge, decision: null,
      });
      assert.equal(r.stoppedAt, 'consent', aliceBrowser.traceText());
      assert.ok(r.form.hidden.some(([n]) => n === 'csrf_token'), 'consent form must carry csrf_token');

      const missing = await aliceBrowser.submit(r.page, r.form, { decision: 'allow' }, { dropHidden: ['csrf_token'] });
      assert.equal(missing.status, 403, `consent without csrf_token: HTTP ${missing.status} Location ${missing.location}`);
      assert.equal(missing.location, null);

      const forged = await aliceBrowser.submit(r.page, r.form, { decision: 'allow' }, { overrideHidden: { csrf_token: 'A'.repeat(43) } });
      assert.equal(forged.status, 403, `consent with a forged csrf_token: HTTP ${forged.status} Location ${forged.location}`);
      assert.equal(forged.location, null);

      // A cross-site form post: no session-bound token, foreign Origin.
      const crossSite = await aliceBrowser.request(new URL('/authorize', server.url), {
        method: 'POST', headers: { origin: 'https://evil.example' },
        form: r.form.hidden.filter(([n]) => n !== 'csrf_token').concat([['decision', 'allow']]),
      });
      assert.equal(crossSite.status, 403, `cross-site consent POST: HTTP ${crossSite.status}`);
    });

    it('rejects a login POST without the CSRF token with 403', async () => {
      const b = new Browser(server);
      const start = await authorizeInBrowser({
        server, browser: b, clientId: conf.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: randomState(), codeChallenge: pkcePair().challenge,
      });
      assert.equal(start.stoppedAt, 'login', b.traceText());
      const form = findForm(start.page.text, start.page.url, '/login');
      assert.ok(form.hidden.some(([n]) => n === 'csrf_token'), 'login form must carry csrf_token');
      assert.ok(form.hidden.some(([n]) => n === 'continue'), 'login form must carry continue');
      const res = await b.submit(start.page, form, { username: alice.email, password: alice.password }, { dropHidden: ['csrf_token'] });
      assert.equal(res.status, 403, `login without csrf_token: HTTP ${res.status} Location ${res.location}`);
      assert.equal(b.jar.get('sp_session'), undefined, 'no session without CSRF token');
    });
  });

  describe('PKCE and authorization codes at the token endpoint', () => {
    it('rejects a wrong code_verifier with invalid_grant', async () => {
      const c = await getCode({ client: pub });
      assertOAuthError(await exchange(pub, { ...c, verifier: pkcePair().verifier }), 'invalid_grant');
    });

    it('rejects a code_verifier when no code_challenge was sent (downgrade) with invalid_grant', async () => {
      const c = await getCode({ client: conf, pkce: false });
      assertOAuthError(await exchange(conf, { ...c, verifier: pkcePair().verifier }), 'invalid_grant');
    });

    it('rejects a missing code_verifier when a code_challenge was sent with invalid_grant', async () => {
      // RFC 7636 §4.6: the code was bound to a challenge; a request without its verifier fails
      // the grant (src/oauth/grants/authorization_code.cpp: "code_verifier is required").
      const c = await getCode({ client: conf });
      assertOAuthError(await exchange(conf, { ...c, verifier: undefined }), 'invalid_grant');
      const p = await getCode({ client: pub });
      assertOAuthError(await exchange(pub, { ...p, verifier: undefined }), 'invalid_grant');
    });

    it('rejects a replayed code and revokes what the first use issued', async () => {
      const c = await getCode({ client: conf });
      const first = assertTokenOk(await exchange(conf, c), 'first use of the code');
      assertOAuthError(await exchange(conf, c), 'invalid_grant');
      assertOAuthError(await refresh(conf, first.refresh_token), 'invalid_grant');
    });

    it('rejects a redirect_uri that differs from the authorization request with invalid_grant', async () => {
      const c = await getCode({ client: conf, redirectUri: REDIRECT });
      assertOAuthError(await exchange(conf, { ...c, redirectUri: OTHER_REDIRECT }), 'invalid_grant');
    });

    it('rejects a code issued to another client with invalid_grant', async () => {
      const b = await server.createClient({ name: 'Client B', redirectUris: [REDIRECT] });
      const c = await getCode({ client: conf });
      assertOAuthError(await exchange(b, c), 'invalid_grant');
    });
  });

  describe('refresh tokens', () => {
    it('revokes the grant when a rotated refresh token is reused', async () => {
      const t1 = assertTokenOk(await exchange(conf, await getCode({ client: conf })));
      const t2 = assertTokenOk(await refresh(conf, t1.refresh_token), 'first refresh');
      assert.notEqual(t2.refresh_token, t1.refresh_token);
      const t3 = assertTokenOk(await refresh(conf, t2.refresh_token), 'second refresh');
      assertOAuthError(await refresh(conf, t1.refresh_token), 'invalid_grant');
      assertOAuthError(await refresh(conf, t3.refresh_token), 'invalid_grant');
    });

    it('rejects a wider scope on refresh with invalid_scope', async () => {
      const t1 = assertTokenOk(await exchange(conf, await getCode({ client: conf, scope: 'user-read-private' })));
      assertOAuthError(await refresh(conf, t1.refresh_token, { scope: 'user-read-private user-library-modify' }), 'invalid_scope');
    });

    it('rejects a refresh token presented by another client with invalid_grant', async () => {
      const other = await server.createClient({ name: 'Thief', redirectUris: [REDIRECT] });
      const t1 = assertTokenOk(await exchange(conf, await getCode({ client: conf })));
      assertOAuthError(await refresh(other, t1.refresh_token), 'invalid_grant');
    });

    it('10 concurrent refreshes with one token: the rotation and its one grace retry win, the third use revokes the grant', async () => {
      const t1 = assertTokenOk(await exchange(conf, await getCode({ client: conf })));
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(conf, t1.refresh_token)));
      // The refreshes serialise on the store's writer (docs/architecture.md): the first
      // rotates, the second is the one retry STAGEPASS_REFRESH_GRACE (10 s) allows and
      // supersedes the first successor, the third is reuse and revokes the grant, and the
      // rest find a revoked grant. Which requests win is up to the scheduler; how many is not.
      const wins = results.filter((r) => r.status === 200);
      const statuses = results.map((r) => r.status).join(',');
      assert.equal(wins.length, 2, `rotation + one grace retry: ${statuses}`);
      for (const r of results.filter((x) => x.status !== 200)) assertOAuthError(r, 'invalid_grant');
      // Neither winner holds a live chain: the reuse revoked the grant.
      for (const w of wins) {
        assertTokenOk(w, 'a winner of the race');
        assert.match(w.json.refresh_token, /^spr_/, 'each winner got a successor');
        assertOAuthError(await refresh(conf, w.json.refresh_token), 'invalid_grant');
      }
    });
  });

  describe('client authentication and request shape', () => {
    it('answers 401 invalid_client with WWW-Authenticate: Basic for a wrong Basic secret', async () => {
      const r = await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [conf.client_id, `${conf.client_secret}x`] });
      assertOAuthError(r, 'invalid_client', 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic\b/i, 'RFC 6749 §5.2: WWW-Authenticate with the scheme used');
    });

    it('answers 401 invalid_client for a wrong client_secret_post secret', async () => {
      const r = await tokenRequest(server, { grant_type: 'client_credentials', client_id: conf.client_id, client_secret: 'sps_wrong' });
      assertOAuthError(r, 'invalid_client', 401);
    });

    it('answers 401 invalid_client for an unknown client', async () => {
      const r = await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: ['no-such-client', 'sps_whatever'] });
      assertOAuthError(r, 'invalid_client', 401);
    });

    it('refuses client_credentials for a public client with unauthorized_client', async () => {
      // RFC 6749 §5.2: the client authenticated (a public client, by its id) but may not use
      // this grant type.
      const r = await tokenRequest(server, { grant_type: 'client_credentials', client_id: pub.client_id });
      assertOAuthError(r, 'unauthorized_client', 400);
    });

    it('answers unsupported_grant_type for an unknown grant', async () => {
      for (const g of ['password', 'urn:ietf:params:oauth:grant-type:device_code', 'implicit']) {
        const r = await tokenRequest(server, { grant_type: g, username: 'alice@example.com', password: 'x' }, basicOf(conf));
        assertOAuthError(r, 'unsupported_grant_type');
      }
    });

    it('answers invalid_request for a missing grant_type', async () => {
      assertOAuthError(await tokenRequest(server, {}, basicOf(conf)), 'invalid_request');
    });

    it('answers invalid_request for a JSON or otherwise non-form body', async () => {
      const json = await tokenRequest(server, undefined, { ...basicOf(conf), body: JSON.stringify({ grant_type: 'client_credentials' }), contentType: 'application/json' });
      assertOAuthError(json, 'invalid_request');
      const plain = await tokenRequest(server, undefined, { ...basicOf(conf), body: 'grant_type=client_credentials', contentType: 'text/plain' });
      assertOAuthError(plain, 'invalid_request');
    });

    it('answers invalid_request for duplicated parameters', async () => {
      const r = await tokenRequest(server, undefined, { ...basicOf(conf), body: 'grant_type=client_credentials&grant_type=client_credentials' });
      assertOAuthError(r, 'invalid_request');
      const c = await getCode({ client: conf });
      const dup = await tokenRequest(server, [
        ['grant_type', 'authorization_code'], ['code', c.code], ['code', c.code], ['redirect_uri', REDIRECT], ['code_verifier', c.verifier],
      ], basicOf(conf));
      assertOAuthError(dup, 'invalid_request');
    });

    it('answers invalid_request when Basic and client_secret_post are both used', async () => {
      const r = await tokenRequest(server, { grant_type: 'client_credentials', client_id: conf.client_id, client_secret: conf.client_secret }, basicOf(conf));
      assertOAuthError(r, 'invalid_request');
    });

    it('refuses an oversized body (2 MB) and keeps serving', async () => {
      const body = `grant_type=client_credentials&pad=${'a'.repeat(2 * 1024 * 1024)}`;
      const r = await rawRequest(server, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), authorization: basicAuth(conf.client_id, conf.client_secret) },
        body,
      });
      assert.ok(!r.error, `no HTTP answer to a 2 MB body (${r.error?.code ?? r.error?.message}); expected 413`);
      assert.equal(r.status, 413, `STAGEPASS_MAX_BODY_BYTES (64 KiB): ${r.text?.slice(0, 300)}`);
      const h = await fetch(new URL('/healthz', server.url));
      await h.arrayBuffer();
      assert.equal(h.status, 200, 'server still healthy after the oversized body');
    });

    it('refuses an oversized header (64 KB) and keeps serving', async () => {
      const r = await rawRequest(server, { method: 'GET', path: '/healthz', headers: { 'x-padding': 'a'.repeat(64 * 1024) } });
      assert.ok(!r.error, `no HTTP answer to a 64 KB header (${r.error?.code ?? r.error?.message}); expected 431`);
      assert.equal(r.status, 431, `STAGEPASS_MAX_HEADER_BYTES (16 KiB): ${r.text?.slice(0, 300)}`);
      const h = await fetch(new URL('/healthz', server.url));
      await h.arrayBuffer();
      assert.equal(h.status, 200, 'server still healthy after the oversized header');
    });
  });
});

describe('negative suite: expired authorization code (STAGEPASS_CODE_TTL=1)', () => {
  let server;
  let alice;
  let client;
  before(async () => {
    server = await startServer({ label: 'sp-code-ttl', env: { STAGEPASS_CODE_TTL: 1 } });
    alice = await server.createUser(ALICE);
    client = await server.createClient({ name: 'Slow App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  it('rejects an expired code with invalid_grant', async () => {
    const pk = pkcePair();
    const b = new Browser(server);
    const r = await authorizeInBrowser({
      server, browser: b, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private', state: randomState(),
      codeChallenge: pk.challenge, email: alice.email, password: alice.password,
    });
    assert.ok(r.code, `authorize failed:\n${b.traceText()}`);
    await sleep(2200);
    const t = await tokenRequest(server, { grant_type: 'authorization_code', code: r.code, redirect_uri: REDIRECT, code_verifier: pk.verifier }, { basic: [client.client_id, client.client_secret] });
    assertOAuthError(t, 'invalid_grant');
  });
});

describe('negative suite: login throttling (STAGEPASS_LOGIN_MAX_FAILURES=3)', () => {
  let server;
  let alice;
  let client;
  let throttled; // the 429 page, for the Retry-After check
  before(async () => {
    server = await startServer({ label: 'sp-throttle', env: { STAGEPASS_LOGIN_MAX_FAILURES: 3 } });
    alice = await server.createUser(ALICE);
    client = await server.createClient({ name: 'Throttle App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  it('answers failed logins with 403 and the sign-in form again (never 401), then 429 even for the right password', async () => {
    const b = new Browser(server);
    const start = await authorizeInBrowser({
      server, browser: b, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
      state: randomState(), codeChallenge: pkcePair().challenge,
    });
    assert.equal(start.stoppedAt, 'login', b.traceText());
    let page = start.page;
    for (let i = 1; i <= 3; i++) {
      const form = findForm(page.text, page.url, '/login');
      assert.ok(form, `no sign-in form before attempt ${i} (the failure page repeats it):\n${page.text.slice(0, 800)}`);
      const res = await b.submit(page, form, { username: alice.email, password: `wrong-password-${i}` });
      assert.equal(res.status, 403, `failed login #${i}`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html\b/i);
      assert.match(pageText(res.text), /Incorrect email or password/, 'the failure page says why');
      assert.equal(b.jar.get('sp_session'), undefined, 'no session after a failed login');
      page = res;
    }
    const form = findForm(page.text, page.url, '/login');
    assert.ok(form, `the third failure page repeats the sign-in form:\n${page.text.slice(0, 800)}`);
    const res = await b.submit(page, form, { username: alice.email, password: alice.password });
    throttled = res;
    assert.equal(res.status, 429, `after 3 failures the right password must be throttled; got ${res.status} Location ${res.location}`);
    assert.equal(b.jar.get('sp_session'), undefined, 'no session while throttled');
  });

  it('sends Retry-After with the 429 (DESIGN §2)', () => {
    assert.ok(throttled, 'previous test did not reach the throttle');
    assert.equal(throttled.status, 429);
    assert.match(throttled.headers.get('retry-after') ?? '', /^\d+$/, 'Retry-After in seconds');
  });
});
