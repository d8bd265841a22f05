// Attacks through `continue`, the page a person returns to after signing in: response
// splitting (CR/LF into the Location header) and open redirects (another origin, or a path a
// browser reads as one). Only a same-origin path of safe characters may be continued to;
// anything else sends the person to "/". Checked through the real sign-in, sign-up and
// sign-in form pages.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, findForm, pageText } from '../e2e/lib/server.mjs';
import { hiddenOf, setCookies } from './lib/web-pages.mjs';

const ALICE = { email: 'alice.continue@example.com', password: 'alice-continue-pass-1' };

// Each would leave the site, split the response, or be read by some browser as another origin.
const HOSTILE = [
  ['CR LF and an injected header', '/x\r\nSet-Cookie: injected=1; Path=/'],
  ['a bare LF', '/x\nLocation: https://evil.example/'],
  ['a bare CR', '/x\rX-Injected: 1'],
  ['a NUL byte', '/x\u0000y'],
  ['a TAB (browsers drop it: "/\\t/evil" is "//evil")', '/\t/evil.example/'],
  ['a protocol-relative URL', '//evil.example/'],
  ['a backslash after the slash', '/\\evil.example/'],
  ['a backslash later on', '/a\\b'],
  ['an absolute URL', 'https://evil.example/'],
  ['a javascript: URL', 'javascript:alert(1)'],
  ['a relative path', 'account/apps'],
  ['a raw non-ASCII byte sequence', '/caf\u00e9'],
  ['a space', '/a b'],
  ['a DEL control byte', '/a\u007f'],
  ['a path far too long', '/' + 'a'.repeat(9000)],
];

describe('security: `continue` after sign-in (response splitting, open redirect)', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-sec-continue', env: { STAGEPASS_LOGIN_MAX_FAILURES: 1000 } });
    await server.createUser({ email: ALICE.email, password: ALICE.password });
  });
  after(async () => { await server?.stop(); });

  /** POST /login with the right password and `continue` = value (the form's token, not its continue). */
  async function signInContinuing(value) {
    const b = new Browser(server);
    const page = await b.get('/login');
    const form = findForm(page.text, page.url, '/login');
    return b.submit(page, form, { username: ALICE.email, password: ALICE.password }, { overrideHidden: { continue: value } });
  }

  for (const [what, value] of HOSTILE) {
    it(`sign-in with continue carrying ${what} lands on "/" and sets nothing else`, async () => {
      const r = await signInContinuing(value);
      assert.equal(r.status, 303, `HTTP ${r.status}\n${pageText(r.text).slice(0, 300)}`);
      assert.equal(r.headers.get('location'), '/', `Location must be "/" for ${JSON.stringify(value.slice(0, 60))}`);
      assert.equal(r.headers.get('x-injected'), null);
      const cookies = setCookies(r);
      assert.ok(cookies.every((c) => /^(sp_session|sp_csrf|__Host-sp_session|__Host-sp_csrf)=/.test(c)),
        `only the site's own cookies may be set: ${cookies.join(' | ')}`);
    });
  }

  it('keeps a same-site path with a query (the /authorize request a sign-in resumes)', async () => {
    const back = '/authorize?client_id=abc&scope=user-read-email+user-library-read&state=s%2F1~x';
    const r = await signInContinuing(back);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), back);
  });

  it('does not carry a hostile continue into the sign-in or sign-up form', async () => {
    const b = new Browser(server);
    for (const path of ['/login', '/signup']) {
      for (const [, value] of HOSTILE.slice(0, 8)) {
        const page = await b.get(`${path}?continue=${encodeURIComponent(value)}`);
        assert.equal(page.status, 200);
        assert.equal(hiddenOf(page, path).get('continue'), '/', `${path} continue=${JSON.stringify(value)}`);
      }
    }
  });

  it('answers a sign-up that carries CR LF in continue without the injected header', async () => {
    const b = new Browser(server);
    const page = await b.get('/signup');
    const form = findForm(page.text, page.url, '/signup');
    const r = await b.submit(page, form, { email: 'new.continue@example.com', display_name: 'New', password: 'new-continue-pass-1' },
      { overrideHidden: { continue: '/x\r\nSet-Cookie: injected=1' } });
    assert.ok(!setCookies(r).some((c) => c.startsWith('injected=')), setCookies(r).join(' | '));
    // Sign-up answers 303 to the sign-in page, whose form continues to '/'.
    assert.equal(r.status, 303, r.text.slice(0, 500));
    assert.equal(r.headers.get('location'), '/login?signed_up=1&continue=%2F');
    const shown = await b.get(r.location);
    const login = findForm(shown.text, shown.url, '/login');
    assert.ok(login, 'the answer is the sign-in form');
    assert.equal(new Map(login.hidden).get('continue'), '/');
  });

  it('percent-encodes what /authorize carries to the sign-in page (no raw CR/LF in Location)', async () => {
    const client = await server.createClient({ name: 'Continue App', redirectUris: ['https://app.example/cb'] });
    const u = new URL('/authorize', server.url);
    u.search = new URLSearchParams({
      client_id: client.client_id, response_type: 'code', redirect_uri: 'https://app.example/cb',
      scope: 'user-read-email', state: 'a\r\nSet-Cookie: injected=1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const b = new Browser(server);
    const r = await b.get(u);
    assert.equal(r.status, 303);
    const loc = r.headers.get('location');
    assert.ok(!/[\r\n]/.test(loc), loc);
    assert.ok(!setCookies(r).some((c) => c.startsWith('injected=')));
    assert.equal(r.location.pathname, '/login');
    const back = r.location.searchParams.get('continue');
    assert.ok(back.startsWith('/authorize?'), back);
    // Signing in resumes exactly that request (the consent page), not "/".
    const login = await b.get(r.location);
    assert.equal(hiddenOf(login, '/login').get('continue'), back);
  });

  it('percent-encodes a hostile state in the error redirect to the app (no raw CR/LF in Location)', async () => {
    const client = await server.createClient({ name: 'State App', redirectUris: ['https://app.example/cb'] });
    const state = 'a\r\nSet-Cookie: injected=1';
    const u = new URL('/authorize', server.url);
    u.search = new URLSearchParams({
      client_id: client.client_id, response_type: 'code', redirect_uri: 'https://app.example/cb',
      scope: 'no-such-scope', state, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    // Error redirects happen only after sign-in (RFC 9700 §4.11.2): sign in first.
    const b = new Browser(server);
    const signedIn = await b.login(ALICE.email, ALICE.password);
    assert.equal(signedIn.status, 303, `sign-in: HTTP ${signedIn.status}`);
    const r = await b.get(u);
    assert.equal(r.status, 303, `the error goes back to the app: HTTP ${r.status}`);
    const loc = r.headers.get('location');
    assert.ok(!/[\r\n]/.test(loc), loc);
    assert.ok(!setCookies(r).some((c) => c.startsWith('injected=')));
    assert.equal(r.location.origin + r.location.pathname, 'https://app.example/cb');
    assert.equal(r.location.searchParams.get('error'), 'invalid_scope');
    assert.equal(r.location.searchParams.get('state'), state, 'state comes back intact, encoded');
  });
});
