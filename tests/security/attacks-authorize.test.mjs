// Attacks on the authorization endpoint and the pages around it (RFC 9700 §4.1, §4.2, §4.4,
// §4.7, §4.8, §4.11, §4.12, §4.16; RFC 6749 §10.6, §10.12, §10.13), each asserting the exact
// refusal on the wire against `stagepass serve` with its shipped defaults.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Browser, authorizeInBrowser, authorizeUrl, findForm, parseForms, pageText, pkcePair, randomState,
} from '../e2e/lib/server.mjs';
import {
  REDIRECT, OTHER_REDIRECT, LOOPBACK_REDIRECT, startDefaultServer, signedIn, getCode, grantTokens,
  apiGet, rawExchange,
} from './attacks-lib.mjs';

const ALICE = { email: 'alice@example.com', displayName: 'Alice', password: 'alice-sec-suite-pw-1' };
const MALLORY = { email: 'mallory@example.com', displayName: 'Mallory', password: 'mallory-sec-suite-pw-1' };

/** A page must be the HTML error page: 400, no Location (the redirect URI is not trusted). */
function assertErrorPage(page, what) {
  const ctx = `${what}: HTTP ${page.status} Location: ${page.headers.get('location')}\n${pageText(page.text).slice(0, 300)}`;
  assert.equal(page.headers.get('location'), null, `must not redirect (${ctx})`);
  assert.equal(page.status, 400, `expected the 400 error page (${ctx})`);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html\b/i, ctx);
}

/** RFC 9700 §4.16: every page forbids framing, by CSP (level 2) and X-Frame-Options. */
function assertNotFramable(page, what) {
  const ctx = `${what}: HTTP ${page.status} ${page.url?.pathname}`;
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/, `CSP frame-ancestors 'none' (${ctx}; CSP: ${csp})`);
  assert.equal(page.headers.get('x-frame-options'), 'DENY', `X-Frame-Options: DENY (${ctx})`);
}

describe('attacks: authorization endpoint and pages', () => {
  let server;
  let alice;
  let mallory;
  let aliceBrowser; // signed in; consented to conf for user-read-private
  let conf; // confidential, REDIRECT + OTHER_REDIRECT
  let pub; // public, REDIRECT
  let native; // public, http://127.0.0.1/callback (any port, RFC 8252 §7.3)
  let narrow; // confidential, allowed scopes: user-read-private user-read-email

  before(async () => {
    server = await startDefaultServer('sp-sec-authorize');
    alice = await server.createUser(ALICE);
    mallory = await server.createUser(MALLORY);
    conf = await server.createClient({ name: 'Demo Player', redirectUris: [REDIRECT, OTHER_REDIRECT] });
    pub = await server.createClient({ name: 'Public Player', redirectUris: [REDIRECT], isPublic: true });
    native = await server.createClient({ name: 'Native Player', redirectUris: [LOOPBACK_REDIRECT], isPublic: true });
    narrow = await server.createClient({ name: 'Narrow App', redirectUris: [REDIRECT], scopes: 'user-read-private user-read-email' });
    aliceBrowser = await signedIn(server, alice);
    await getCode(server, { browser: aliceBrowser, user: alice, client: conf });
  });
  after(async () => { await server?.stop(); });

  const authorize = (browser, { client = conf, redirectUri = REDIRECT, scope = 'user-read-private', ...rest } = {}) =>
    browser.get(authorizeUrl(server, {
      clientId: client.client_id, redirectUri, scope, state: 'st', codeChallenge: pkcePair().challenge, ...rest,
    }));

  /**
   * Every URI in `uris` is refused with the error page, whether or not the visitor is signed
   * in and whether or not the request has another error that would otherwise redirect. The
   * registered URI itself is accepted (so the refusals are about the URI, nothing else).
   */
  async function refusedRedirects(client, registered, uris) {
    // Control: alice consented to conf in before(), so the registered URI gets a code at once.
    const ok = await authorize(aliceBrowser, { client, redirectUri: registered });
    assert.equal(ok.status, 303, `control: the registered redirect URI ${registered} must be accepted (HTTP ${ok.status} ${ok.location})`);
    assert.ok(ok.location.href.startsWith(`${registered}?`), `control: ${ok.location}`);
    assert.ok(ok.location.searchParams.get('code'), `control: a code for ${registered}: ${ok.location}`);
    for (const uri of uris) {
      for (const [who, b] of [['signed out', new Browser(server)], ['signed in', aliceBrowser]]) {
        assertErrorPage(await authorize(b, { client, redirectUri: uri }), `${JSON.stringify(uri)} (${who})`);
        assertErrorPage(await authorize(b, { client, redirectUri: uri, responseType: 'token' }), `${JSON.stringify(uri)} with response_type=token (${who})`);
      }
    }
  }

  describe('redirect URI validation (RFC 9700 §4.1.3: exact string matching)', () => {
    it('refuses prefix and suffix variants of the registered URI', async () => {
      await refusedRedirects(conf, REDIRECT, [
        'https://app.example/callbac', 'https://app.example/callbackx', 'https://app.example/callback/',
        'https://app.example/callback/extra', 'https://app.example/callback?x=1', 'https://app.example/callback?',
        'https://app.example/callback.evil.example', 'https://app.example/', 'https://app.example',
      ]);
    });

    it('refuses other hosts: subdomains, look-alike and suffix domains, IDN homographs, trailing dot', async () => {
      await refusedRedirects(conf, REDIRECT, [
        'https://evil.app.example/callback', 'https://app.example.evil.example/callback', 'https://appexample/callback',
        'https://app.example./callback', 'https://\u0430pp.example/callback', 'https://xn--pp-8kc.example/callback',
        'https://evil.example/callback',
      ]);
    });

    it('refuses userinfo (@) and backslash tricks', async () => {
      await refusedRedirects(conf, REDIRECT, [
        'https://app.example@evil.example/callback', 'https://evil.example@app.example/callback',
        'https://app.example:443@evil.example/callback', 'https://app.example%40evil.example/callback',
        'https://app.example\\@evil.example/callback', 'https://evil.example\\app.example/callback',
        'https://evil.example\\.app.example/callback',
      ]);
    });

    it('refuses path traversal and dot segments', async () => {
      await refusedRedirects(conf, REDIRECT, [
        'https://app.example/callback/../evil', 'https://app.example/evil/../callback', 'https://app.example/./callback',
        'https://app.example/callback/%2e%2e/evil', 'https://app.example/%2e%2e/callback', 'https://app.example//callback',
      ]);
    });

    it('refuses case changes (scheme, host, path)', async () => {
      await refusedRedirects(conf, REDIRECT, [
        'HTTPS://app.example/callback', 'https://APP.EXAMPLE/callback', 'https://app.example/Callback', 'Https://App.Example/Callback',
      ]);
    });

    it('refuses percent-encoded equivalents and double encoding', async () => {
      await refusedRedirects(conf, REDIRECT, [
        'https://app.example/%63allback', 'https://app%2Eexample/callback', 'https://app.example/callback%2F',
        'https%3A%2F%2Fapp.example%2Fcallback', 'https://app.example/callback%00', 'https://app.example/callback%23x',
      ]);
    });

    it('refuses a fragment, another port, another scheme, and surrounding whitespace or control bytes', async () => {
      await refusedRedirects(conf, REDIRECT, [
        'https://app.example/callback#', 'https://app.example/callback#frag', 'https://app.example:443/callback',
        'https://app.example:8443/callback', 'http://app.example/callback', 'javascript:alert(1)//app.example/callback',
        'data:text/html,<script>alert(1)</script>', ' https://app.example/callback', 'https://app.example/callback ',
        'https://app.example/callback\r\nX-Injected: 1', 'https://app.example/callback\u0000', '',
      ]);
    });

    it('allows only the port to vary for a loopback redirect URI (RFC 8252 §7.3), nothing else', async () => {
      const b = await signedIn(server, alice);
      // Control: another loopback port is accepted. A public client with a loopback redirect
      // is shown the consent page every time (RFC 8252 §8.6), so acceptance is that page.
      const okPort = await authorize(b, { client: native, redirectUri: 'http://127.0.0.1:51000/callback' });
      assert.equal(okPort.status, 200, `control: another loopback port is accepted (HTTP ${okPort.status} ${okPort.location})`);
      assert.ok(findForm(okPort.text, okPort.url, '/authorize'), 'control: the consent form');
      for (const uri of [
        'http://localhost:51000/callback', 'http://[::1]:51000/callback', 'http://127.0.0.2:51000/callback',
        'http://127.1:51000/callback', 'http://2130706433:51000/callback', 'http://127.0.0.1.evil.example:51000/callback',
        'http://127.0.0.1:51000@evil.example/callback', 'http://evil.example#@127.0.0.1/callback',
        'http://127.0.0.1:51000/callback/../evil', 'http://127.0.0.1:51000/Callback', 'http://127.0.0.1:51000/callback?x=1',
        'http://127.0.0.1:0x50/callback', 'http://127.0.0.1:51000/callback#f', 'https://127.0.0.1:51000/callback',
      ]) {
        for (const [who, br] of [['signed out', new Browser(server)], ['signed in', b]]) {
          assertErrorPage(await authorize(br, { client: native, redirectUri: uri }), `${uri} (${who})`);
        }
      }
    });

    it('refuses a missing, empty or repeated redirect_uri with the error page', async () => {
      const pk = pkcePair();
      for (const [what, query] of [
        ['missing', `client_id=${conf.client_id}&response_type=code&scope=user-read-private&state=s&code_challenge=${pk.challenge}&code_challenge_method=S256`],
        ['empty', `client_id=${conf.client_id}&redirect_uri=&response_type=code&state=s&code_challenge=${pk.challenge}&code_challenge_method=S256`],
        ['repeated (registered first)', `client_id=${conf.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&response_type=code&state=s&code_challenge=${pk.challenge}&code_challenge_method=S256`],
        ['repeated (attacker first)', `client_id=${conf.client_id}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&state=s&code_challenge=${pk.challenge}&code_challenge_method=S256`],
        ['repeated client_id', `client_id=${conf.client_id}&client_id=${pub.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&state=s&code_challenge=${pk.challenge}&code_challenge_method=S256`],
      ]) {
        assertErrorPage(await aliceBrowser.get(`/authorize?${query}`), what);
      }
    });

    it('registration refuses plain-http (except loopback), localhost, fragments, userinfo and bare schemes (RFC 9700 §2.6)', async () => {
      for (const uri of ['http://app.example/callback', 'http://localhost:8080/cb', 'https://localhost/cb', 'http://app.localhost/cb',
        'https://app.example/cb#frag', 'https://user@app.example/cb', 'javascript:alert(1)', 'myapp:/cb', '/relative', 'https:///cb',
        // Hosts a browser maps to loopback (UTS #46 full-width forms, percent-decoding).
        'https://１２７．０．０．１/cb', 'https://ｌｏｃａｌｈｏｓｔ/cb', 'https://%EF%BD%8C%EF%BD%8F%EF%BD%83alhost/cb']) {
        const r = await server.run(['admin', 'client', 'create', '--name', 'Bad', '--redirect-uri', uri, '--json']);
        assert.notEqual(r.code, 0, `${uri} was registered: ${r.stdout}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, `one clear line on stderr: ${r.stderr}`);
      }
      const ok = await server.run(['admin', 'client', 'create', '--name', 'Good', '--redirect-uri', 'com.example.app:/cb', '--redirect-uri', 'http://[::1]/cb', '--json']);
      assert.equal(ok.code, 0, `control: ${ok.stderr}`);
    });

    it('a consent form whose redirect_uri was tampered with is refused with the error page', async () => {
      const fresh = await server.createClient({ name: 'Tamper Target', redirectUris: [REDIRECT] });
      const r = await authorizeInBrowser({
        server, browser: aliceBrowser, clientId: fresh.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: randomState(), codeChallenge: pkcePair().challenge, decision: null,
      });
      assert.equal(r.stoppedAt, 'consent', aliceBrowser.traceText());
      const page = await aliceBrowser.submit(r.page, r.form, { decision: 'allow' }, { overrideHidden: { redirect_uri: 'https://evil.example/callback' } });
      assertErrorPage(page, 'consent POST with redirect_uri=https://evil.example/callback');
    });
  });

  describe('open redirection (RFC 9700 §4.11.2, RFC 6749 §4.1.2.1)', () => {
    it('never redirects for an unknown client, whatever the redirect_uri', async () => {
      for (const b of [new Browser(server), aliceBrowser]) {
        for (const uri of ['https://evil.example/cb', REDIRECT]) {
          assertErrorPage(await authorize(b, { client: { client_id: 'no-such-client' }, redirectUri: uri }), `unknown client → ${uri}`);
          assertErrorPage(await authorize(b, { client: { client_id: 'no-such-client' }, redirectUri: uri, scope: 'bogus' }), `unknown client, bad scope → ${uri}`);
        }
        assertErrorPage(await b.get(`/authorize?redirect_uri=${encodeURIComponent('https://evil.example/cb')}&response_type=code`), 'no client_id');
      }
    });

    it('signs the visitor in before redirecting an erroneous request to a registered URI', async () => {
      // RFC 9700 §4.11.2: "The authorization server MUST always authenticate the user first
      // ... before redirecting the user" — else an invalid scope turns /authorize into a
      // redirector to any registered URI for anyone who follows a link.
      for (const [params, error] of [
        [{ scope: 'no-such-scope' }, 'invalid_scope'],
        [{ responseType: 'token' }, 'unsupported_response_type'],
        [{ codeChallengeMethod: 'plain' }, 'invalid_request'],
      ]) {
        const anon = new Browser(server);
        const page = await authorize(anon, params);
        assert.equal(page.status, 303, `${JSON.stringify(params)}: HTTP ${page.status}`);
        assert.equal(page.location?.origin, server.origin, `${JSON.stringify(params)} redirected a signed-out visitor off-site to ${page.location}`);
        assert.equal(page.location.pathname, '/login', `${JSON.stringify(params)}: ${page.location}`);
        // After signing in, the error goes back to the registered URI as usual.
        const after = await anon.login(alice.email, alice.password, { continueTo: page.location.searchParams.get('continue') });
        assert.equal(after.status, 303);
        const back = await anon.get(after.location);
        assert.equal(back.status, 303, anon.traceText());
        assert.ok(back.location.href.startsWith(`${REDIRECT}?`), `${JSON.stringify(params)}: ${back.location}`);
        assert.equal(back.location.searchParams.get('error'), error, `${JSON.stringify(params)}: ${back.location}`);
      }
    });
  });

  describe('PKCE at the authorization endpoint (RFC 9700 §2.1.1, §4.8)', () => {
    /**
     * A request that must come back to the registered URI with `error` (and state, iss; no
     * code). `mutate(url)` may edit the query before it is sent.
     */
    async function expectErrorRedirect({ client = conf, mutate = () => {}, ...params }, error) {
      const state = randomState();
      const u = authorizeUrl(server, { clientId: client.client_id, redirectUri: REDIRECT, scope: 'user-read-private', state, ...params });
      mutate(u);
      const page = await aliceBrowser.get(u);
      const ctx = `${u.search}: HTTP ${page.status} ${page.location}`;
      assert.equal(page.status, 303, ctx);
      assert.ok(page.location.href.startsWith(`${REDIRECT}?`), ctx);
      const p = page.location.searchParams;
      assert.equal(p.get('error'), error, ctx);
      assert.equal(p.get('code'), null, ctx);
      assert.equal(p.get('state'), state, ctx);
      assert.equal(p.get('iss'), server.issuer, ctx);
    }

    it('refuses code_challenge_method=plain (the verifier would travel in the request)', async () => {
      const pk = pkcePair();
      await expectErrorRedirect({ codeChallenge: pk.verifier, codeChallengeMethod: 'plain' }, 'invalid_request');
      await expectErrorRedirect({ client: pub, codeChallenge: pk.verifier, codeChallengeMethod: 'plain' }, 'invalid_request');
    });

    it('refuses a code_challenge without a method (RFC 7636 would default to plain)', async () => {
      await expectErrorRedirect({ codeChallenge: pkcePair().challenge, mutate: (u) => u.searchParams.delete('code_challenge_method') }, 'invalid_request');
    });

    it('refuses a method without a challenge, unknown methods and malformed challenges', async () => {
      await expectErrorRedirect({ codeChallengeMethod: 'S256' }, 'invalid_request');
      for (const m of ['s256', 'S512', 'none']) {
        await expectErrorRedirect({ codeChallenge: pkcePair().challenge, codeChallengeMethod: m }, 'invalid_request');
      }
      for (const c of ['a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}/`, `${'a'.repeat(42)}=`]) {
        await expectErrorRedirect({ codeChallenge: c }, 'invalid_request');
      }
    });

    it('refuses a public client that sends no code_challenge (RFC 9700 §2.1.1: public clients MUST use PKCE)', async () => {
      await expectErrorRedirect({ client: pub }, 'invalid_request');
    });

    it('refuses the implicit and hybrid response types (RFC 9700 §2.1.2)', async () => {
      for (const rt of ['token', 'id_token', 'code token', 'code id_token', 'none']) {
        await expectErrorRedirect({ responseType: rt, codeChallenge: pkcePair().challenge }, 'unsupported_response_type');
      }
    });
  });

  describe('mix-up (RFC 9700 §4.4, RFC 9207)', () => {
    it('puts iss = the metadata issuer on codes, errors and denials', async () => {
      const meta = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
      assert.equal(meta.issuer, server.issuer, 'RFC 8414 §3.3: issuer equals the URL the metadata was fetched from');
      assert.equal(meta.authorization_response_iss_parameter_supported, true);
      const c = await getCode(server, { browser: aliceBrowser, user: alice, client: conf });
      assert.equal(c.iss, meta.issuer, 'code response');
      const err = await aliceBrowser.get(authorizeUrl(server, { clientId: conf.client_id, redirectUri: REDIRECT, scope: 'no-such-scope', state: 's', codeChallenge: pkcePair().challenge }));
      assert.equal(err.location.searchParams.get('iss'), meta.issuer, `error response: ${err.location}`);
      const fresh = await server.createClient({ name: 'Deny Me', redirectUris: [REDIRECT] });
      const denied = await authorizeInBrowser({
        server, browser: aliceBrowser, clientId: fresh.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: 's', codeChallenge: pkcePair().challenge, decision: 'deny',
      });
      assert.equal(denied.error, 'access_denied', denied.location);
      assert.equal(denied.iss, meta.issuer, `denial: ${denied.location}`);
      const oidc = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
      assert.equal(oidc.issuer, meta.issuer, 'both metadata documents name the same issuer');
    });
  });

  describe('scope escalation at the authorization endpoint (RFC 9700 §2.3)', () => {
    it('refuses a scope the client is not allowed with invalid_scope', async () => {
      const b = await signedIn(server, alice);
      for (const scope of ['user-library-modify', 'user-read-private user-library-modify', 'no-such-scope']) {
        const page = await authorize(b, { client: narrow, scope });
        assert.equal(page.status, 303, `${scope}: HTTP ${page.status}`);
        assert.ok(page.location.href.startsWith(`${REDIRECT}?`), page.location.href);
        assert.equal(page.location.searchParams.get('error'), 'invalid_scope', page.location.href);
        assert.equal(page.location.searchParams.get('code'), null);
      }
    });

    it('asks again (no silent code) when a request goes beyond the consent on record', async () => {
      const page = await authorize(aliceBrowser, { scope: 'user-read-private user-library-modify' });
      assert.equal(page.status, 200, `expected the consent page, got HTTP ${page.status} ${page.location}`);
      assert.ok(findForm(page.text, page.url, '/authorize'), 'consent form');
      assert.match(pageText(page.text), /Add and remove tracks in your library/, 'the new scope is shown to the person');
    });

    it('a consent form whose scope was widened beyond the client\'s allowed scopes gets invalid_scope', async () => {
      const b = await signedIn(server, alice);
      const r = await authorizeInBrowser({
        server, browser: b, clientId: narrow.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: randomState(), codeChallenge: pkcePair().challenge, decision: null,
      });
      assert.equal(r.stoppedAt, 'consent', b.traceText());
      const page = await b.submit(r.page, r.form, { decision: 'allow' }, { overrideHidden: { scope: 'user-read-private user-library-modify' } });
      assert.equal(page.status, 303);
      assert.equal(page.location.searchParams.get('error'), 'invalid_scope', page.location.href);
      assert.equal(page.location.searchParams.get('code'), null);
    });
  });

  describe('CSRF on the pages (RFC 6749 §10.12, RFC 9700 §4.7)', () => {
    /** A CSRF token minted for someone else's browser (mallory's). */
    let foreign;
    async function foreignToken() {
      if (foreign) return foreign;
      const m = await signedIn(server, mallory);
      const page = await m.get('/account/security');
      const form = findForm(page.text, page.url, '/account/security/sign-out-everywhere');
      foreign = form.hidden.find(([n]) => n === 'csrf_token')[1];
      return foreign;
    }

    /** Submits `form` of `page` twice: without its token and with mallory's; both 403, no redirect. */
    async function refusedBoth(browser, page, form, fields, what) {
      const token = await foreignToken();
      for (const [how, opts] of [
        ['without csrf_token', { dropHidden: ['csrf_token'] }],
        ['with another browser\'s csrf_token', { overrideHidden: { csrf_token: token } }],
        ['with an empty csrf_token', { overrideHidden: { csrf_token: '' } }],
      ]) {
        const r = await browser.submit(page, form, fields, opts);
        assert.equal(r.status, 403, `${what} ${how}: HTTP ${r.status} Location ${r.location}`);
        assert.equal(r.location, null, `${what} ${how} must not redirect`);
        assertNotFramable(r, `${what} ${how} (403 page)`);
      }
    }

    it('consent: refused, and no code is issued', async () => {
      const fresh = await server.createClient({ name: 'CSRF Consent', redirectUris: [REDIRECT] });
      const b = await signedIn(server, alice);
      const r = await authorizeInBrowser({
        server, browser: b, clientId: fresh.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: randomState(), codeChallenge: pkcePair().challenge, decision: null,
      });
      assert.equal(r.stoppedAt, 'consent', b.traceText());
      await refusedBoth(b, r.page, r.form, { decision: 'allow' }, 'consent');
      // Nothing was remembered: the next request still asks.
      const again = await authorize(b, { client: fresh });
      assert.equal(again.status, 200, `consent was recorded by a forged POST (HTTP ${again.status} ${again.location})`);
    });

    it('sign-in (login CSRF): refused, no session', async () => {
      const b = new Browser(server);
      const page = await b.get('/login');
      const form = findForm(page.text, page.url, '/login');
      await refusedBoth(b, page, form, { username: alice.email, password: alice.password }, 'login');
      const apps = await b.get('/account/apps');
      assert.equal(apps.status, 303, 'still signed out');
    });

    it('sign-up: refused, no account', async () => {
      const b = new Browser(server);
      const page = await b.get('/signup');
      const form = findForm(page.text, page.url, '/signup');
      await refusedBoth(b, page, form, { email: 'csrf-victim@example.com', display_name: 'Victim', password: 'csrf-victim-pw-1' }, 'signup');
      const login = await new Browser(server).login('csrf-victim@example.com', 'csrf-victim-pw-1');
      assert.equal(login.status, 403, 'no account was created');
    });

    it('sign-out, sign-out everywhere and password change: refused, nothing changes', async () => {
      const b = await signedIn(server, alice);
      let page = await b.get('/account/security');
      assert.equal(page.status, 200);
      await refusedBoth(b, page, findForm(page.text, page.url, '/logout'), {}, 'logout');
      await refusedBoth(b, page, findForm(page.text, page.url, '/account/security/sign-out-everywhere'), {}, 'sign out everywhere');
      await refusedBoth(b, page, findForm(page.text, page.url, '/account/security/password'),
        { current_password: alice.password, new_password: 'csrf-chosen-password-1', disconnect_apps: 'yes' }, 'password change');
      page = await b.get('/account/security');
      assert.equal(page.status, 200, 'still signed in');
      const login = await new Browser(server).login(alice.email, alice.password);
      assert.equal(login.status, 303, 'the password did not change');
    });

    it('remove an app: refused, the app keeps access', async () => {
      const app = await server.createClient({ name: 'Keep Me', redirectUris: [REDIRECT] });
      const b = await signedIn(server, alice);
      const tokens = await grantTokens(server, { browser: b, user: alice, client: app });
      const list = await b.get('/account/apps');
      assert.match(pageText(list.text), /Keep Me/, 'Account → Apps lists the app');
      const forms = parseForms(list.text).filter((f) => f.action === '/account/apps/remove');
      assert.ok(forms.length > 0, 'Account → Apps has remove forms');
      for (const f of forms) await refusedBoth(b, list, f, { confirm: 'yes' }, 'remove app (confirmed)');
      assert.match(pageText((await b.get('/account/apps')).text), /Keep Me/, 'the app is still listed');
      assert.equal((await apiGet(server, tokens.access_token, '/me')).status, 200, 'the app still has access');
    });
  });

  describe('clickjacking (RFC 9700 §4.16)', () => {
    it('every page forbids framing: CSP frame-ancestors \'none\' and X-Frame-Options: DENY', async () => {
      const anon = new Browser(server);
      const b = await signedIn(server, alice);
      const fresh = await server.createClient({ name: 'Frame Me', redirectUris: [REDIRECT] });
      const consent = await authorizeInBrowser({
        server, browser: b, clientId: fresh.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: 's', codeChallenge: pkcePair().challenge, decision: null,
      });
      assert.equal(consent.stoppedAt, 'consent');
      const pages = [
        ['home (signed out)', await anon.get('/')],
        ['login', await anon.get('/login')],
        ['signup', await anon.get('/signup')],
        ['authorize error page', await anon.get('/authorize?client_id=nope&redirect_uri=https%3A%2F%2Fevil.example')],
        ['home (signed in)', await b.get('/')],
        ['consent', consent.page],
        ['account apps', await b.get('/account/apps')],
        ['account security', await b.get('/account/security')],
        ['failed sign-in', await new Browser(server).login(alice.email, 'not-her-password')],
      ];
      const apps = pages.find(([n]) => n === 'account apps')[1];
      const removeForm = parseForms(apps.text).find((f) => f.action === '/account/apps/remove');
      pages.push(['remove confirmation', await b.submit(apps, removeForm, {})]);
      for (const [name, page] of pages) {
        assert.match(page.headers.get('content-type') ?? '', /^text\/html\b/i, `${name} is a page (HTTP ${page.status})`);
        assertNotFramable(page, name);
      }
    });
  });

  describe('the authorization pages themselves', () => {
    it('no CORS on the authorization endpoint (RFC 9700 §2.6)', async () => {
      const get = await fetch(authorizeUrl(server, { clientId: conf.client_id, redirectUri: REDIRECT, scope: 'user-read-private', state: 's', codeChallenge: pkcePair().challenge }),
        { headers: { origin: 'https://evil.example' }, redirect: 'manual' });
      await get.arrayBuffer();
      assert.equal(get.headers.get('access-control-allow-origin'), null);
      const pre = await fetch(`${server.url}/authorize`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      await pre.arrayBuffer();
      assert.equal(pre.headers.get('access-control-allow-origin'), null, `preflight answered HTTP ${pre.status} with ACAO`);
    });

    it('answers credential and consent POSTs with 303, never 307/308 (RFC 9700 §4.12)', async () => {
      const b = new Browser(server);
      const login = await b.login(alice.email, alice.password);
      assert.equal(login.status, 303, 'sign-in');
      const fresh = await server.createClient({ name: 'See Other', redirectUris: [REDIRECT] });
      const r = await authorizeInBrowser({
        server, browser: b, clientId: fresh.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: 's', codeChallenge: pkcePair().challenge, decision: null,
      });
      const allow = await b.submit(r.page, r.form, { decision: 'allow' });
      assert.equal(allow.status, 303, 'consent POST');
      assert.ok(allow.location.href.startsWith(`${REDIRECT}?code=`), allow.location.href);
    });

    it('login and consent pages load nothing from elsewhere and send Referrer-Policy: no-referrer (RFC 9700 §4.2.4)', async () => {
      const fresh = await server.createClient({ name: 'Referer', redirectUris: [REDIRECT] });
      const b = await signedIn(server, alice);
      const consent = await authorizeInBrowser({
        server, browser: b, clientId: fresh.client_id, redirectUri: REDIRECT, scope: 'user-read-private',
        state: 'secret-state-value', codeChallenge: pkcePair().challenge, decision: null,
      });
      const login = await new Browser(server).get(authorizeUrl(server, { clientId: fresh.client_id, redirectUri: REDIRECT, scope: 'user-read-private', state: 's', codeChallenge: pkcePair().challenge }));
      const loginPage = await new Browser(server).get(login.location);
      for (const [name, page] of [['consent', consent.page], ['login', loginPage]]) {
        assert.equal(page.headers.get('referrer-policy'), 'no-referrer', name);
        for (const m of page.text.matchAll(/\b(?:src|href|action)\s*=\s*"([^"]*)"/gi)) {
          const u = new URL(m[1], page.url);
          assert.equal(u.origin, server.origin, `${name} links to ${u.href}`);
        }
      }
    });
  });

  describe('header injection through echoed parameters', () => {
    /** GET over a raw socket with alice's cookies: the response head exactly as sent. */
    async function rawGet(url) {
      const u = new URL(url);
      const cookie = aliceBrowser.jar.header(u);
      const r = await rawExchange(server, `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.responses.length, 1, r.data.toString('latin1').slice(0, 500));
      return r.responses[0];
    }
    const injected = (res) => res.headers.filter(([k, v]) => k === 'x-injected' || (k === 'set-cookie' && v.includes('injected')));

    it('CR/LF in state comes back percent-encoded in Location, and state round-trips exactly', async () => {
      const state = 'x\r\nSet-Cookie: injected=1\r\nX-Injected: 1';
      const res = await rawGet(authorizeUrl(server, { clientId: conf.client_id, redirectUri: REDIRECT, scope: 'user-read-private', state, codeChallenge: pkcePair().challenge }));
      assert.equal(res.status, 303, res.head);
      assert.deepEqual(injected(res), [], res.head);
      const loc = new URL(res.get('location'));
      assert.equal(loc.searchParams.get('state'), state, 'state is echoed exactly (RFC 6749 §4.1.2)');
      assert.ok(loc.searchParams.get('code'));
    });

    it('CR/LF in scope (echoed in error_description) and in redirect_uri or client_id never splits the response', async () => {
      const pk = pkcePair().challenge;
      const viaScope = await rawGet(authorizeUrl(server, { clientId: conf.client_id, redirectUri: REDIRECT, scope: 'user-read-private\r\nX-Injected: 1', state: 's', codeChallenge: pk }));
      assert.equal(viaScope.status, 303, viaScope.head);
      assert.deepEqual(injected(viaScope), [], viaScope.head);
      assert.equal(new URL(viaScope.get('location')).searchParams.get('error'), 'invalid_scope');
      const viaRedirect = await rawGet(authorizeUrl(server, { clientId: conf.client_id, redirectUri: `${REDIRECT}\r\nX-Injected: 1`, scope: 'user-read-private', state: 's', codeChallenge: pk }));
      assert.equal(viaRedirect.status, 400, viaRedirect.head);
      assert.deepEqual(injected(viaRedirect), [], viaRedirect.head);
      assert.equal(viaRedirect.get('location'), undefined);
      const viaClient = await rawGet(authorizeUrl(server, { clientId: `${conf.client_id}\r\nX-Injected: 1`, redirectUri: REDIRECT, scope: 'user-read-private', state: 's', codeChallenge: pk }));
      assert.equal(viaClient.status, 400, viaClient.head);
      assert.deepEqual(injected(viaClient), [], viaClient.head);
    });
  });

  describe('enumeration', () => {
    it('a wrong password and an unknown account get the same sign-in answer', async () => {
      const answer = async (email) => {
        const b = new Browser(server);
        const r = await b.login(email, 'definitely-wrong-password');
        const headers = [...r.headers].filter(([k]) => !['date', 'set-cookie', 'content-length'].includes(k));
        return { status: r.status, text: pageText(r.text).replaceAll(email, '<email>'), headers, cookies: [...b.jar.cookies.values()].map((c) => c.name).sort() };
      };
      const known = await answer(alice.email);
      const unknown = await answer('nobody-here@example.com');
      assert.equal(known.status, 403);
      assert.deepEqual(unknown, known, 'the answers differ: they reveal which accounts exist');
    });
  });
});
