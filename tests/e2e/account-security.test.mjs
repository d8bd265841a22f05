// Account → Security: the person's security log (newest first, paged), sign out everywhere,
// and change password (current password required, other sessions ended, apps optionally
// disconnected) — through the real pages with a cookie jar.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, findForm, pageText } from './lib/server.mjs';
import { api, expectOk, assertInvalidToken, userTokens } from './lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';
const PASSWORD = 'sec-password-123';

describe('Account → Security', () => {
  let server;
  let app;
  let n = 0;
  const newUser = async () => {
    n += 1;
    const u = await server.createUser({ email: `sec${n}@example.com`, displayName: `Sec ${n}`, password: PASSWORD });
    return { ...u, password: PASSWORD };
  };
  const signedIn = async (user, password = PASSWORD) => {
    const b = new Browser(server);
    const r = await b.login(user.email, password);
    assert.equal(r.status, 303, `sign-in: ${r.status}`);
    return b;
  };
  const securityPage = async (b, query = '') => {
    const page = await b.get(`/account/security${query}`);
    assert.equal(page.status, 200, `GET /account/security → ${page.status}`);
    return page;
  };
  const submit = (b, page, action, fields = {}) => b.submit(page, findForm(page.text, page.url, action), fields);

  before(async () => {
    server = await startServer({ label: 'sp-security', env: { STAGEPASS_LOGIN_MAX_FAILURES: '100' } });
    app = await server.createClient({ name: 'Security Test App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  it('sends signed-out visitors to sign in first', async () => {
    const r = await new Browser(server).get('/account/security');
    assert.equal(r.status, 303);
    assert.equal(r.location.pathname, '/login');
    assert.equal(r.location.searchParams.get('continue'), '/account/security');
  });

  it('shows sign-ins and failures with IP and user agent, newest first, and pages older ones', async () => {
    const user = await newUser();
    for (let i = 0; i < 22; i++) {
      assert.equal((await new Browser(server).login(user.email, 'wrong-password-xyz')).status, 403, `failed sign-in ${i + 1}`);
    }
    const b = await signedIn(user);
    const page = await securityPage(b);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const text = pageText(page.text);
    assert.ok(text.indexOf('Signed in') < text.indexOf('Failed sign-in'), 'newest (the sign-in) first');
    assert.match(text, /127\.0\.0\.1/);
    assert.match(page.text, /event-sign_in_failed/);
    const older = page.text.match(/href="\/account\/security\?before=(\d+)"/);
    assert.ok(older, 'a link to older activity');
    const second = await securityPage(b, `?before=${older[1]}`);
    const firstCount = (page.text.match(/class="event /g) ?? []).length;
    const secondCount = (second.text.match(/class="event /g) ?? []).length;
    // 22 failures and 1 sign-in: 20 events on the first page, the other 3 on the older one.
    assert.equal(firstCount, 20);
    assert.equal(secondCount, 3, 'the older page holds the rest');
    assert.doesNotMatch(second.text, /href="\/account\/security\?before=/, 'and is the last one');
  });

  it('changes the password only with the current one, ends other sessions, keeps this one', async () => {
    const user = await newUser();
    const other = await signedIn(user);
    const b = await signedIn(user);
    let page = await securityPage(b);
    const wrong = await submit(b, page, '/account/security/password', { current_password: 'not-it-at-all', new_password: 'brand-new-pass-1' });
    assert.equal(wrong.status, 403);
    assert.match(pageText(wrong.text), /current password is not correct/);
    page = await securityPage(b);
    const posted = await submit(b, page, '/account/security/password', { current_password: PASSWORD, new_password: 'brand-new-pass-1' });
    // Post/Redirect/Get: 303 to the page, in this browser's new session; a reload re-posts nothing.
    assert.equal(posted.status, 303);
    assert.equal(`${posted.location.pathname}${posted.location.search}`, '/account/security?changed=1');
    const ok = await securityPage(b, '?changed=1');
    assert.match(pageText(ok.text), /Password changed\. Your other sessions were signed out\./);
    const changes = (ok.text.match(/event-password_changed/g) ?? []).length;
    assert.equal(changes, 1);
    const reloaded = await securityPage(b, '?changed=1'); // this session lives on
    assert.equal((reloaded.text.match(/event-password_changed/g) ?? []).length, changes, 'a reload changes nothing');
    // The page's forms belong to the new session: another change goes through with the new password.
    const again = await submit(b, reloaded, '/account/security/password', { current_password: 'brand-new-pass-1', new_password: 'brand-new-pass-2' });
    assert.equal(again.status, 303);
    await securityPage(b);
    const kicked = await other.get('/account/security');
    assert.equal(kicked.status, 303, 'the other session was signed out');
    assert.equal((await new Browser(server).login(user.email, PASSWORD)).status, 403, 'old password refused');
    assert.equal((await new Browser(server).login(user.email, 'brand-new-pass-2')).status, 303, 'new password works');
    const log = pageText((await securityPage(b)).text);
    assert.match(log, /Password changed/);
    assert.match(log, /Failed password change/);
  });

  it('can disconnect every app while changing the password', async () => {
    const user = await newUser();
    const t = await userTokens(server, { client: app, user, scope: 'user-read-email' });
    expectOk(await api(server, t.access_token, 'GET', '/me'), 200);
    const b = await signedIn(user);
    const page = await securityPage(b);
    const r = await submit(b, page, '/account/security/password',
      { current_password: PASSWORD, new_password: 'another-pass-22', disconnect_apps: 'yes' });
    assert.equal(r.status, 303);
    assert.equal(`${r.location.pathname}${r.location.search}`, '/account/security?changed=2');
    assert.match(pageText((await securityPage(b, '?changed=2')).text), /every app lost access/);
    assertInvalidToken(await api(server, t.access_token, 'GET', '/me'), 'token of a disconnected app');
  });

  it('signs out everywhere, this session included', async () => {
    const user = await newUser();
    const a = await signedIn(user);
    const b = await signedIn(user);
    const page = await securityPage(a);
    const r = await submit(a, page, '/account/security/sign-out-everywhere');
    assert.equal(r.status, 303);
    for (const browser of [a, b]) assert.equal((await browser.get('/account/security')).status, 303);
    const c = await signedIn(user);
    assert.match(pageText((await securityPage(c)).text), /Signed out everywhere/);
  });

  it('refuses posts without the CSRF token', async () => {
    const user = await newUser();
    const b = await signedIn(user);
    for (const path of ['/account/security/sign-out-everywhere', '/account/security/password']) {
      const r = await b.request(path, { method: 'POST', form: { current_password: PASSWORD, new_password: 'x-new-password-1' } });
      assert.equal(r.status, 403, path);
    }
    await securityPage(b);
  });
});
