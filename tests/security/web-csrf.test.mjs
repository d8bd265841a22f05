// Cross-site request forgery on the pages: the CSRF token must belong to the visitor's
// session (a token minted before sign-in, or an attacker's own token planted together with
// its cookie, is refused once the person is signed in), the CSRF cookie is replaced at sign-in
// and sign-out, and on an https issuer both cookies carry the __Host- prefix (Secure, Path=/,
// no Domain: a sibling subdomain cannot plant them).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, findForm, pageText } from '../e2e/lib/server.mjs';
import { hiddenOf, signedIn, setCookies, cookieSetBy } from './lib/web-pages.mjs';

const PASSWORD = 'csrf-test-password-1';

describe('security: CSRF tokens bound to the session', () => {
  let server;
  let n = 0;
  const newUser = async () => {
    n += 1;
    const u = await server.createUser({ email: `csrf${n}@example.com`, password: PASSWORD });
    return { ...u, password: PASSWORD };
  };
  before(async () => {
    server = await startServer({ label: 'sp-sec-csrf', env: { STAGEPASS_LOGIN_MAX_FAILURES: 1000 } });
  });
  after(async () => { await server?.stop(); });

  const signOutEverywhere = (b, token) =>
    b.request('/account/security/sign-out-everywhere', { form: { csrf_token: token } });

  it('refuses a token minted before sign-in once the person is signed in (403, still signed in)', async () => {
    const user = await newUser();
    const b = new Browser(server);
    const loginPage = await b.get('/login');
    const before = hiddenOf(loginPage, '/login').get('csrf_token');
    const r = await b.submit(loginPage, findForm(loginPage.text, loginPage.url, '/login'), { username: user.email, password: PASSWORD });
    assert.equal(r.status, 303);
    const forged = await signOutEverywhere(b, before);
    assert.equal(forged.status, 403, `a pre-sign-in token must not work: HTTP ${forged.status} Location ${forged.location}`);
    assert.equal((await b.get('/account/security')).status, 200, 'the session survived the refused POST');
  });

  it("refuses an attacker's own cookie + token pair planted in a signed-in victim's browser", async () => {
    const victim = await signedIn(server, await newUser(), assert);
    const attacker = new Browser(server);
    const attackerPage = await attacker.get('/login');
    const attackerToken = hiddenOf(attackerPage, '/login').get('csrf_token');
    const attackerSeed = attacker.jar.get('sp_csrf');
    assert.ok(attackerSeed, 'the attacker got a CSRF cookie');
    // Cookie tossing: the attacker overwrites the victim's CSRF cookie with its own.
    victim.jar.cookies.set('sp_csrf|/', { name: 'sp_csrf', value: attackerSeed, path: '/' });
    const forged = await signOutEverywhere(victim, attackerToken);
    assert.equal(forged.status, 403, `planted pair: HTTP ${forged.status} Location ${forged.location}`);
  });

  it('accepts the token the signed-in page itself served', async () => {
    const b = await signedIn(server, await newUser(), assert);
    const page = await b.get('/account/security');
    const token = hiddenOf(page, '/account/security/sign-out-everywhere').get('csrf_token');
    const ok = await signOutEverywhere(b, token);
    assert.equal(ok.status, 303);
    assert.equal(ok.location.pathname, '/login');
  });

  it('replaces the CSRF cookie at sign-in and at sign-out', async () => {
    const user = await newUser();
    const b = new Browser(server);
    const loginPage = await b.get('/login');
    const seed0 = b.jar.get('sp_csrf');
    const r = await b.submit(loginPage, findForm(loginPage.text, loginPage.url, '/login'), { username: user.email, password: PASSWORD });
    assert.equal(r.status, 303);
    const seed1 = cookieSetBy(r, 'sp_csrf');
    assert.ok(seed1 && seed1 !== seed0, `sign-in must set a new CSRF cookie: ${setCookies(r).join(' | ')}`);
    const home = await b.get('/');
    const logout = findForm(home.text, home.url, '/logout');
    assert.ok(logout, 'the signed-in home page has a sign-out form');
    const out = await b.submit(home, logout);
    assert.equal(out.status, 303, `sign-out: ${out.status} ${pageText(out.text).slice(0, 200)}`);
    const seed2 = cookieSetBy(out, 'sp_csrf');
    assert.ok(seed2 && seed2 !== seed1, `sign-out must set a new CSRF cookie: ${setCookies(out).join(' | ')}`);
  });
});

describe('security: __Host- cookies when the issuer is https', () => {
  let server;
  const user = { email: 'host.prefix@example.com', password: PASSWORD };
  before(async () => {
    // A TLS-terminating proxy in front: the issuer is https, the listener plain loopback http.
    server = await startServer({
      label: 'sp-sec-host-cookies',
      env: { STAGEPASS_ISSUER: 'https://accounts.stagepass.test', STAGEPASS_INSECURE_HTTP: 1 },
    });
    await server.createUser(user);
  });
  after(async () => { await server?.stop(); });

  const assertHostCookie = (raw, name) => {
    assert.ok(raw, `no ${name} cookie set`);
    assert.match(raw, new RegExp(`^${name}=`));
    assert.match(raw, /;\s*Secure\b/i, raw);
    assert.match(raw, /;\s*Path=\/(;|$)/i, raw);
    assert.doesNotMatch(raw, /;\s*Domain=/i, raw);
  };

  it('names the CSRF and session cookies __Host-sp_csrf and __Host-sp_session (Secure, Path=/)', async () => {
    const b = new Browser(server);
    const page = await b.get('/login');
    assertHostCookie(setCookies(page).find((c) => c.startsWith('__Host-sp_csrf=')), '__Host-sp_csrf');
    assert.ok(!setCookies(page).some((c) => c.startsWith('sp_csrf=')), setCookies(page).join(' | '));
    const r = await b.submit(page, findForm(page.text, page.url, '/login'), { username: user.email, password: user.password });
    assert.equal(r.status, 303, pageText(r.text).slice(0, 300));
    const session = setCookies(r).find((c) => c.startsWith('__Host-sp_session='));
    assertHostCookie(session, '__Host-sp_session');
    assert.match(session, /HttpOnly/i);
    assert.equal((await b.get('/account/security')).status, 200, 'signed in through the __Host- cookie');
  });

  it('ignores the unprefixed names (a cookie a subdomain could plant)', async () => {
    const b = await signedIn(server, user, assert);
    const value = b.jar.get('__Host-sp_session');
    assert.ok(value, 'signed in through __Host-sp_session');
    const planted = new Browser(server);
    planted.jar.cookies.set('sp_session|/', { name: 'sp_session', value, path: '/' });
    const r = await planted.get('/account/security');
    assert.equal(r.status, 303, 'an unprefixed session cookie does not sign anyone in');
  });
});
