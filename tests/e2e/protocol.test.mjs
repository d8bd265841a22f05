// Protocol conformance of the happy paths: metadata, JWKS, code + PKCE, JWT access tokens,
// refresh rotation, client credentials, consent memory, page headers, signup, loopback URIs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Browser, authorizeInBrowser, authorizeUrl, classifyPage, pageText,
  tokenRequest, getJson, pkcePair, randomState, assertOAuthError, assertTokenOk,
  verifyJwtWithJwks, decodeJwt, assertSameScopes, describeResponse, basicAuth, percentEncodeAll,
} from './lib/server.mjs';

const REDIRECT = 'https://app.example/callback';
const ALICE = { email: 'alice@example.com', displayName: 'Alice Example', password: 'alice-correct-horse-1' };

describe('protocol (happy paths)', () => {
  let server;
  let alice; // {id, email, ..., password}
  let aliceBrowser; // a browser that logs in once and is reused
  let jwks;

  before(async () => {
    server = await startServer({ label: 'sp-protocol' });
    alice = await server.createUser(ALICE);
    aliceBrowser = new Browser(server);
  });
  after(async () => { await server?.stop(); });

  const newClient = (opts = {}) => server.createClient({ name: 'Demo Player', redirectUris: [REDIRECT], ...opts });

  async function getJwks() {
    if (!jwks) jwks = (await getJson(server, '/.well-known/jwks.json')).json;
    return jwks;
  }

  /** Authorize (login + consent as needed) and exchange the code. */
  async function codeFlow(client, { scope = 'user-read-private user-library-read', browser = aliceBrowser, redirectUri = REDIRECT, extraParams } = {}) {
    const pk = pkcePair();
    const state = randomState();
    const auth = await authorizeInBrowser({
      server, browser, clientId: client.client_id, redirectUri, scope, state,
      codeChallenge: pk.challenge, email: alice.email, password: alice.password, extraParams,
    });
    assert.equal(auth.stoppedAt, 'redirect', `authorize did not reach the redirect URI:\n${browser.traceText()}\n${auth.page?.text?.slice(0, 1500) ?? ''}`);
    assert.equal(auth.error, undefined, `authorize returned error ${auth.error}: ${auth.error_description} (${auth.location})`);
    assert.ok(auth.code, `no code in ${auth.location}`);
    assert.equal(auth.state, state, 'state must be echoed');
    const params = { grant_type: 'authorization_code', code: auth.code, redirect_uri: redirectUri, code_verifier: pk.verifier };
    const tok = client.public
      ? await tokenRequest(server, { ...params, client_id: client.client_id })
      : await tokenRequest(server, params, { basic: [client.client_id, client.client_secret] });
    return { auth, pk, state, tok };
  }

  it('serves RFC 8414 metadata at both well-known paths', async () => {
    for (const p of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const r = await getJson(server, p);
      const ctx = `${p}: ${describeResponse(r)}`;
      assert.equal(r.status, 200, ctx);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/i, ctx);
      const m = r.json;
      assert.equal(m.issuer, server.issuer, ctx);
      assert.equal(m.authorization_endpoint, `${server.issuer}/authorize`, ctx);
      assert.equal(m.token_endpoint, `${server.issuer}/api/token`, ctx);
      assert.equal(typeof m.jwks_uri, 'string', ctx);
      assert.equal(m.jwks_uri, `${server.issuer}/.well-known/jwks.json`, ctx);
      for (const g of ['authorization_code', 'refresh_token', 'client_credentials']) {
        assert.ok(m.grant_types_supported?.includes(g), `grant_types_supported lacks ${g}; ${ctx}`);
      }
      assert.deepEqual(m.response_types_supported, ['code'], ctx);
      assert.deepEqual(m.code_challenge_methods_supported, ['S256'], ctx);
      for (const a of ['client_secret_basic', 'client_secret_post', 'none']) {
        assert.ok(m.token_endpoint_auth_methods_supported?.includes(a), `token_endpoint_auth_methods_supported lacks ${a}; ${ctx}`);
      }
      assert.ok(Array.isArray(m.scopes_supported), ctx);
      for (const s of ['user-read-private', 'user-read-email', 'user-library-read', 'user-modify-playback-state']) {
        assert.ok(m.scopes_supported.includes(s), `scopes_supported lacks ${s}; ${ctx}`);
      }
      assert.equal(m.authorization_response_iss_parameter_supported, true, ctx);
    }
  });

  it('publishes an Ed25519 signing key in the JWKS', async () => {
    const r = await getJson(server, '/.well-known/jwks.json');
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.headers.get('content-type') ?? '', /^application\/(jwk-set\+)?json\b/i);
    // STAGEPASS_JWKS_MAX_AGE's default: a rotation publishes a key this long before it signs.
    assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
    assert.ok(Array.isArray(r.json?.keys) && r.json.keys.length >= 1, describeResponse(r));
    const k = r.json.keys[0];
    assert.equal(typeof k.kid, 'string');
    assert.ok(k.kid.length > 0);
    assert.equal(k.kty, 'OKP');
    assert.equal(k.crv, 'Ed25519');
    assert.equal(k.alg, 'EdDSA');
    assert.equal(k.use, 'sig');
    assert.equal(typeof k.x, 'string');
    for (const key of r.json.keys) assert.equal(key.d, undefined, 'JWKS must not contain private key material');
  });

  it('runs the authorization code flow with PKCE for a confidential client', async () => {
    const client = await newClient();
    const scope = 'user-read-private user-library-read';
    const { auth, tok } = await codeFlow(client, { scope, browser: new Browser(server) });
    assert.ok(auth.loginShown, 'a fresh browser must be sent to the login page');
    assert.ok(auth.consentShown, 'first authorization must show the consent page');
    assert.ok(auth.location.startsWith(`${REDIRECT}?`), `redirected to ${auth.location}`);
    assert.equal(auth.iss, server.issuer, 'RFC 9207 iss parameter');

    const t = assertTokenOk(tok);
    assert.deepEqual(Object.keys(t).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'], describeResponse(tok));
    assert.equal(t.token_type, 'Bearer');
    assert.equal(t.expires_in, 3600);
    assertSameScopes(t.scope, scope);
    assert.equal(typeof t.refresh_token, 'string');
    assert.match(tok.headers.get('cache-control') ?? '', /no-store/i, 'token response needs Cache-Control: no-store');
    assert.match(tok.headers.get('content-type') ?? '', /^application\/json\b/i);

    const { header, payload } = verifyJwtWithJwks(t.access_token, await getJwks());
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'EdDSA');
    assert.equal(typeof header.kid, 'string');
    assert.equal(payload.iss, server.issuer);
    assert.equal(payload.sub, String(alice.id));
    const aud = [].concat(payload.aud);
    assert.deepEqual(aud, [`${server.issuer}/v1`]);
    assert.equal(payload.client_id, client.client_id);
    assertSameScopes(payload.scope, scope);
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti.length >= 16, 'jti should be unguessable');
    assert.equal(typeof payload.gid, 'string');
    assert.ok(payload.gid.length > 0);
    assert.ok(Number.isInteger(payload.iat) && Number.isInteger(payload.exp));
    assert.equal(payload.exp - payload.iat, 3600);
    assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120, 'iat is now');
  });

  it('sends a fresh browser to /login?continue=<authorize request> with 303, and back there after login', async () => {
    const client = await newClient({ name: 'Login Loop' });
    const b = new Browser(server);
    const start = authorizeUrl(server, {
      clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private user-read-email',
      state: randomState(), codeChallenge: pkcePair().challenge,
    });
    const first = await b.get(start);
    assert.equal(first.status, 303, `GET /authorize without a session: ${first.status}`);
    assert.equal(first.location?.origin, server.origin);
    assert.equal(first.location.pathname, '/login');
    // Compared as parsed URLs: the server may re-encode the query (e.g. '+' vs '%20').
    const sameRequest = (target, what) => {
      const t = new URL(target, server.url);
      assert.equal(t.origin, server.origin, what);
      assert.equal(t.pathname, start.pathname, what);
      assert.deepEqual([...t.searchParams].sort(), [...start.searchParams].sort(), what);
    };
    sameRequest(first.location.searchParams.get('continue'), 'continue = the original /authorize path and query');

    const page = await b.get(first.location);
    assert.equal(page.status, 200);
    const { kind, form } = classifyPage(page);
    assert.equal(kind, 'login', page.text.slice(0, 1000));
    assert.ok(form.inputs.some((i) => i.name === 'username'), 'login form has a username input');
    assert.ok(form.inputs.some((i) => i.name === 'password' && (i.type || '').toLowerCase() === 'password'), 'login form has a password input');
    sameRequest(new Map(form.hidden).get('continue'), 'hidden continue input');
    const res = await b.submit(page, form, { username: alice.email, password: alice.password });
    assert.equal(res.status, 303, `login POST: ${res.status}`);
    sameRequest(res.location.href, 'login sends the browser back to continue');
  });

  it('gives opaque tokens their type prefixes (DESIGN §3: spr_ refresh, spc_ code, sps_ secret)', async () => {
    const client = await newClient();
    assert.match(client.client_secret, /^sps_[A-Za-z0-9_-]{43,}$/);
    const { auth, tok } = await codeFlow(client);
    assert.match(auth.code, /^spc_[A-Za-z0-9_-]{43,}$/);
    assert.match(assertTokenOk(tok).refresh_token, /^spr_[A-Za-z0-9_-]{43,}$/);
  });

  it('rotates refresh tokens; once the successor is used the old one fails with invalid_grant', async () => {
    const client = await newClient();
    const first = assertTokenOk((await codeFlow(client)).tok);
    const r = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, { basic: [client.client_id, client.client_secret] });
    const second = assertTokenOk(r, 'refresh');
    assert.equal(second.token_type, 'Bearer');
    assert.equal(second.expires_in, 3600);
    assert.equal(typeof second.refresh_token, 'string');
    assert.notEqual(second.refresh_token, first.refresh_token, 'refresh token must rotate');
    assert.notEqual(second.access_token, first.access_token);
    assertSameScopes(second.scope, first.scope);
    assert.match(r.headers.get('cache-control') ?? '', /no-store/i);
    const { payload } = verifyJwtWithJwks(second.access_token, await getJwks());
    assert.equal(payload.sub, String(alice.id));
    assert.equal(payload.gid, decodeJwt(first.access_token).payload.gid, 'same grant across refresh');

    // Inside the grace window the old token is a lost response's retry; once the successor
    // was used, the old one is reuse (tests/security/oauth-refresh.test.mjs has the rest).
    assertTokenOk(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: second.refresh_token }, { basic: [client.client_id, client.client_secret] }), 'successor');
    const again = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, { basic: [client.client_id, client.client_secret] });
    assertOAuthError(again, 'invalid_grant');
  });

  it('allows a narrower scope on refresh', async () => {
    const client = await newClient();
    const first = assertTokenOk((await codeFlow(client, { scope: 'user-read-private user-library-read' })).tok);
    const r = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'user-read-private' }, { basic: [client.client_id, client.client_secret] });
    const t = assertTokenOk(r, 'narrowing refresh');
    assertSameScopes(t.scope, 'user-read-private');
    assertSameScopes(verifyJwtWithJwks(t.access_token, await getJwks()).payload.scope, 'user-read-private');
  });

  for (const method of ['client_secret_basic', 'client_secret_post']) {
    it(`issues client_credentials tokens with ${method}`, async () => {
      const client = await newClient({ name: `Backend ${method}` });
      const r = method === 'client_secret_basic'
        ? await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] })
        : await tokenRequest(server, { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret });
      const t = assertTokenOk(r, 'client_credentials');
      assert.equal(t.refresh_token, undefined, 'client_credentials must not issue a refresh token');
      assert.equal(t.token_type, 'Bearer');
      assert.equal(t.expires_in, 3600);
      assert.match(r.headers.get('cache-control') ?? '', /no-store/i);
      const { header, payload } = verifyJwtWithJwks(t.access_token, await getJwks());
      assert.equal(header.typ, 'at+jwt');
      assert.equal(payload.sub, client.client_id);
      assert.equal(payload.client_id, client.client_id);
      assert.equal(payload.iss, server.issuer);
      assert.deepEqual([].concat(payload.aud), [`${server.issuer}/v1`]);
    });
  }

  it('accepts percent-encoded client_secret_basic credentials (RFC 6749 §2.3.1)', async () => {
    const client = await newClient({ name: 'Encoded' });
    const headers = { authorization: basicAuth(client.client_id, client.client_secret, { encode: percentEncodeAll }) };
    const r = await tokenRequest(server, { grant_type: 'client_credentials' }, { headers });
    assertTokenOk(r, 'percent-encoded Basic');
  });

  it('remembers consent: same or fewer scopes skip the page, show_dialog=true and wider scopes show it', async () => {
    const client = await newClient({ name: 'Remembering App' });
    const scope = 'user-read-private user-library-read';
    const first = await codeFlow(client, { scope });
    assert.ok(first.auth.consentShown, 'first authorization shows consent');
    assertTokenOk(first.tok);

    const same = await codeFlow(client, { scope });
    assert.equal(same.auth.consentShown, false, `same scopes must skip consent:\n${aliceBrowser.traceText()}`);
    assert.equal(same.auth.iss, server.issuer);
    assertTokenOk(same.tok, 'code from remembered consent');

    const fewer = await codeFlow(client, { scope: 'user-library-read' });
    assert.equal(fewer.auth.consentShown, false, 'fewer scopes must skip consent');
    assertSameScopes(assertTokenOk(fewer.tok).scope, 'user-library-read');

    const dialog = await authorizeInBrowser({
      server, browser: aliceBrowser, clientId: client.client_id, redirectUri: REDIRECT, scope,
      state: randomState(), codeChallenge: pkcePair().challenge, extraParams: { show_dialog: 'true' }, decision: null,
    });
    assert.equal(dialog.stoppedAt, 'consent', `show_dialog=true must show the consent page:\n${aliceBrowser.traceText()}`);

    const wider = await authorizeInBrowser({
      server, browser: aliceBrowser, clientId: client.client_id, redirectUri: REDIRECT,
      scope: `${scope} playlist-read-private`, state: randomState(), codeChallenge: pkcePair().challenge, decision: null,
    });
    assert.equal(wider.stoppedAt, 'consent', 'a wider scope set must ask again');
  });

  it('names the app and describes scopes in plain words on the consent page', async () => {
    const client = await newClient({ name: 'Groove Companion' });
    const r = await authorizeInBrowser({
      server, browser: aliceBrowser, clientId: client.client_id, redirectUri: REDIRECT,
      scope: 'user-library-read user-modify-playback-state', state: randomState(),
      codeChallenge: pkcePair().challenge, email: alice.email, password: alice.password, decision: null,
    });
    assert.equal(r.stoppedAt, 'consent', aliceBrowser.traceText());
    const text = pageText(r.page.text);
    assert.ok(text.includes('Groove Companion'), `consent page must name the app: ${text.slice(0, 600)}`);
    assert.match(text, /saved tracks/i, `user-library-read should read like "View your saved tracks": ${text.slice(0, 600)}`);
    const buttons = r.form.buttons.filter((b) => b.name === 'decision').map((b) => b.value).sort();
    assert.deepEqual(buttons, ['allow', 'deny']);
    assert.ok(r.form.hidden.some(([n]) => n === 'csrf_token'), 'consent form carries csrf_token');
  });

  it('redirects with error=access_denied when the user denies', async () => {
    const client = await newClient({ name: 'Denied App' });
    const state = randomState();
    const r = await authorizeInBrowser({
      server, browser: aliceBrowser, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
      state, codeChallenge: pkcePair().challenge, email: alice.email, password: alice.password, decision: 'deny',
    });
    assert.equal(r.stoppedAt, 'redirect', aliceBrowser.traceText());
    assert.ok(r.location.startsWith(`${REDIRECT}?`), r.location);
    assert.equal(r.error, 'access_denied');
    assert.equal(r.code, undefined);
    assert.equal(r.state, state);
    assert.equal(r.iss, server.issuer);
  });

  function assertSecurityHeaders(page, what) {
    const ctx = `${what} (HTTP ${page.status})`;
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors\s+'none'/i, `${ctx}: Content-Security-Policy must contain frame-ancestors 'none', got ${JSON.stringify(csp)}`);
    assert.equal((page.headers.get('x-content-type-options') ?? '').toLowerCase(), 'nosniff', `${ctx}: X-Content-Type-Options`);
    assert.ok(page.headers.get('referrer-policy'), `${ctx}: Referrer-Policy missing`);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html\b/i, `${ctx}: content-type`);
  }

  it('sends security headers on login, signup, consent and error pages', async () => {
    const client = await newClient({ name: 'Headers App' });
    const fresh = new Browser(server);
    const start = await authorizeInBrowser({
      server, browser: fresh, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
      state: randomState(), codeChallenge: pkcePair().challenge,
    });
    assert.equal(start.stoppedAt, 'login', fresh.traceText());
    assertSecurityHeaders(start.page, 'login page');

    const signup = await new Browser(server).get('/signup');
    assert.equal(signup.status, 200);
    assertSecurityHeaders(signup, 'signup page');

    const consent = await authorizeInBrowser({
      server, browser: fresh, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
      state: randomState(), codeChallenge: pkcePair().challenge, email: alice.email, password: alice.password, decision: null,
    });
    assert.equal(consent.stoppedAt, 'consent', fresh.traceText());
    assertSecurityHeaders(consent.page, 'consent page');

    const err = await fresh.get(authorizeUrl(server, { clientId: 'no-such-client', redirectUri: REDIRECT, scope: 'user-read-private', state: 'x', codeChallenge: pkcePair().challenge }));
    assert.equal(err.status, 400);
    assertSecurityHeaders(err, 'error page');
  });

  it('sets the session cookie HttpOnly and SameSite=Lax', async () => {
    const client = await newClient({ name: 'Cookie App' });
    const fresh = new Browser(server);
    const r = await authorizeInBrowser({
      server, browser: fresh, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
      state: randomState(), codeChallenge: pkcePair().challenge, email: alice.email, password: alice.password,
    });
    assert.equal(r.stoppedAt, 'redirect', fresh.traceText());
    assert.equal(r.loginResponse.status, 303, `successful login answers 303:\n${fresh.traceText()}`);
    const set = fresh.jar.log.find((c) => c.name === 'sp_session' && c.value);
    assert.ok(set, `login must set sp_session; saw cookies: ${fresh.jar.log.map((c) => c.raw).join(' | ')}`);
    assert.equal(set.attrs.httponly, true, `sp_session must be HttpOnly: ${set.raw}`);
    assert.equal(String(set.attrs.samesite).toLowerCase(), 'lax', `sp_session must be SameSite=Lax: ${set.raw}`);
  });

  it('lets a new person sign up and then authorize an app', async () => {
    const client = await newClient({ name: 'Signup App' });
    const browser = new Browser(server);
    const page = await browser.get('/signup');
    assert.equal(page.status, 200, describeResponse({ ...page, json: undefined }));
    const { kind, form } = classifyPage(page);
    assert.equal(kind, 'signup', `GET /signup must serve <form method=post action=/signup>:\n${page.text.slice(0, 1500)}`);
    const email = `bob.${randomState().toLowerCase().replace(/[^a-z0-9]/g, '')}@example.com`;
    const posted = await browser.submit(page, form, { email, display_name: 'Bob Signup', password: 'bob-battery-staple-9' });
    // Sign-up answers the same for a new and a taken email (no account enumeration): 303 to the
    // sign-in form (Post/Redirect/Get); the new account's password signs in.
    assert.equal(posted.status, 303, `signup must redirect to the sign-in form:\n${posted.text.slice(0, 1500)}`);
    assert.equal(`${posted.location.pathname}${posted.location.search}`, '/login?signed_up=1&continue=%2F');
    const res = await browser.get(posted.location);
    assert.equal(res.status, 200);
    const signIn = classifyPage(res);
    assert.equal(signIn.kind, 'login', `signup must answer with the sign-in form:\n${res.text.slice(0, 1500)}`);
    assert.match(pageText(res.text), /your account is ready/);
    const login = await browser.submit(res, signIn.form, { username: email, password: 'bob-battery-staple-9' });
    assert.equal(login.status, 303, `the new account signs in:\n${login.text.slice(0, 1500)}`);
    assert.ok(browser.jar.get('sp_session'), 'sign-in must start a session (sp_session)');

    const flow = await authorizeInBrowser({
      server, browser, clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-email',
      state: randomState(), codeChallenge: pkcePair().challenge,
    });
    // The session from that sign-in must suffice: no login page, just consent.
    assert.equal(flow.stoppedAt, 'redirect', `expected consent then redirect without login:\n${browser.traceText()}`);
    assert.equal(flow.loginShown, false);
    assert.ok(flow.code);
  });

  it('answers /healthz and /readyz with 200', async () => {
    for (const p of ['/healthz', '/readyz']) {
      const r = await fetch(new URL(p, server.url));
      await r.arrayBuffer();
      assert.equal(r.status, 200, p);
    }
  });

  describe('admin CLI (DESIGN §6)', () => {
    const oneLine = (r) => r.stderr.trim().length > 0 && r.stderr.trim().split('\n').length === 1;

    it('user create prints {id, email, display_name}; a duplicate email fails with one stderr line', async () => {
      assert.ok(alice.id !== undefined && alice.id !== null && String(alice.id).length > 0);
      assert.equal(alice.email, ALICE.email);
      assert.equal(alice.display_name, ALICE.displayName);
      assert.equal(alice.password_hash, undefined, 'no password hash in the output');
      const dup = await server.run(['admin', 'user', 'create', '--email', ALICE.email, '--display-name', 'Again', '--password-stdin', '--json'], { input: 'another-password-123\n' });
      assert.notEqual(dup.code, 0, `duplicate email must fail; stdout ${dup.stdout}`);
      assert.ok(oneLine(dup), `one clear line on stderr, got ${JSON.stringify(dup.stderr)}`);
    });

    it('client create prints the registration; --scopes restricts, default allows every known scope', async () => {
      const meta = (await getJson(server, '/.well-known/oauth-authorization-server')).json;
      const all = await server.createClient({ name: 'All Scopes', redirectUris: [REDIRECT, 'https://app.example/cb2'], webOrigins: ['https://app.example'] });
      assert.equal(typeof all.client_id, 'string');
      assert.equal(typeof all.client_secret, 'string');
      assert.equal(all.name, 'All Scopes');
      assert.equal(all.public, false);
      assert.deepEqual(all.redirect_uris, [REDIRECT, 'https://app.example/cb2']);
      assert.deepEqual(all.web_origins, ['https://app.example']);
      // Without --scopes every known scope is allowed (the flows above request many with such
      // clients), and the registration lists them all: the scopes the metadata advertises.
      assert.deepEqual([...all.scopes].sort(), [...meta.scopes_supported].sort());

      const some = await server.createClient({ name: 'Few Scopes', redirectUris: [REDIRECT], scopes: 'user-read-private user-read-email' });
      assert.deepEqual([...some.scopes].sort(), ['user-read-email', 'user-read-private']);

      const pubc = await server.createClient({ name: 'Public', redirectUris: [REDIRECT], isPublic: true });
      assert.equal(pubc.public, true);
      assert.equal(pubc.client_secret, undefined, 'public clients get no secret');
    });

    it('client list / show / delete', async () => {
      const c = await newClient({ name: 'Short Lived' });
      const list = await server.adminJson(['client', 'list']);
      assert.ok(Array.isArray(list));
      const listed = list.find((x) => x.client_id === c.client_id);
      assert.ok(listed, 'client list includes the new client');
      assert.equal(listed.client_secret, undefined, 'list must not reveal secrets');
      const shown = await server.adminJson(['client', 'show', c.client_id]);
      assert.equal(shown.client_id, c.client_id);
      assert.equal(shown.name, 'Short Lived');
      assert.deepEqual(shown.redirect_uris, [REDIRECT]);
      assert.equal(shown.client_secret, undefined, 'show must not reveal the secret');

      assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] }));
      const del = await server.run(['admin', 'client', 'delete', c.client_id]);
      assert.equal(del.code, 0, `delete failed: ${del.stderr}`);
      const gone = await server.run(['admin', 'client', 'show', c.client_id, '--json']);
      assert.notEqual(gone.code, 0, 'show of a deleted client fails');
      const again = await server.run(['admin', 'client', 'delete', c.client_id]);
      assert.notEqual(again.code, 0, 'delete of an unknown client fails');
      assert.ok(oneLine(again), `one clear line on stderr, got ${JSON.stringify(again.stderr)}`);
      assert.ok(!(await server.adminJson(['client', 'list'])).some((x) => x.client_id === c.client_id));
      // A deleted client no longer authenticates.
      const r = await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [c.client_id, c.client_secret] });
      assertOAuthError(r, 'invalid_client', 401);
    });
  });

  describe('loopback redirect URIs (RFC 8252 §7.3)', () => {
    let native;
    // Loopback ports other than this server's own (it listens on a free port the harness picks,
    // which may be one of these): a redirect to them leaves the server.
    let fixedPort;
    let anyPort;
    before(async () => {
      [fixedPort, anyPort] = [43210, 51234].map((p) => (p === server.port ? p + 1 : p));
      native = await server.createClient({
        name: 'Native App', redirectUris: ['http://127.0.0.1/cb', `http://127.0.0.1:${fixedPort}/fixed`], isPublic: true,
      });
    });

    it('accepts any port on 127.0.0.1 for a loopback URI registered without a port', async () => {
      const redirectUri = `http://127.0.0.1:${anyPort}/cb`;
      const { auth, tok } = await codeFlow(native, { redirectUri, scope: 'user-read-private' });
      assert.ok(auth.location.startsWith(`${redirectUri}?`), auth.location);
      const t = assertTokenOk(tok, 'public client exchange with loopback redirect');
      assertSameScopes(t.scope, 'user-read-private');
    });

    it('rejects a different path on the loopback host with an error page', async () => {
      // Logged in, so the only thing between us and a redirect is redirect_uri validation.
      const page = await aliceBrowser.get(authorizeUrl(server, {
        clientId: native.client_id, redirectUri: `http://127.0.0.1:${anyPort}/other`, scope: 'user-read-private',
        state: randomState(), codeChallenge: pkcePair().challenge,
      }));
      assert.equal(page.status, 400, `expected the 400 error page, got ${page.status} ${page.location ?? ''}`);
      assert.equal(page.headers.get('location'), null, 'must not redirect');
      assert.match(page.headers.get('content-type') ?? '', /^text\/html\b/i);
    });

    it('matches a loopback URI registered with a port on that port only', async () => {
      const { auth, tok } = await codeFlow(native, { redirectUri: `http://127.0.0.1:${fixedPort}/fixed`, scope: 'user-read-private' });
      assert.ok(auth.location.startsWith(`http://127.0.0.1:${fixedPort}/fixed?`), auth.location);
      assertTokenOk(tok, 'the registered port');
      for (const redirectUri of [`http://127.0.0.1:${anyPort}/fixed`, 'http://127.0.0.1/fixed']) {
        const page = await aliceBrowser.get(authorizeUrl(server, {
          clientId: native.client_id, redirectUri, scope: 'user-read-private',
          state: randomState(), codeChallenge: pkcePair().challenge,
        }));
        assert.equal(page.status, 400, `${redirectUri}: expected the 400 error page, got ${page.status} ${page.location ?? ''}`);
        assert.equal(page.headers.get('location'), null, 'must not redirect');
      }
    });
  });
});
