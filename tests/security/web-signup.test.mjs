// Account enumeration and abuse through sign-up: the answer must be the same whether or not
// the email already has an account (status, page text, cookies), sign-up is throttled per IP
// (429 + Retry-After), and a sign-up for a taken email changes nothing about that account.
// A new account is ready at once: the answer is a 303 to the sign-in form (Post/Redirect/Get;
// the email is not carried in the URL), and the password chosen at sign-up signs in.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, findForm, pageText } from '../e2e/lib/server.mjs';
import { hiddenOf, setCookies } from './lib/web-pages.mjs';

const TAKEN = { email: 'taken@example.com', password: 'the-owners-password-1' };

/** POST /signup from a fresh browser; returns {browser, res (the POST's answer), shown (the page a 303 leads to)}. */
async function signUp(server, { email, display_name = 'Someone', password = 'a-new-password-1', browser = new Browser(server) }) {
  const page = await browser.get('/signup');
  const form = findForm(page.text, page.url, '/signup');
  assert.ok(form, `GET /signup has no sign-up form (${page.status})`);
  const res = await browser.submit(page, form, { email, display_name, password });
  const shown = res.status === 303 ? await browser.get(res.location) : undefined;
  return { browser, res, shown };
}

/** What a person (or a script) can compare between two answers: status, text, cookie names, Location. */
function observable(res, email) {
  const text = pageText(res.text).replaceAll(email, '<email>');
  const html = res.text.replaceAll(email, '<email>').replace(/name="csrf_token" value="[^"]*"/g, 'name="csrf_token" value=""');
  return {
    status: res.status,
    location: res.headers.get('location'),
    cookies: setCookies(res).map((c) => c.split('=')[0]).sort(),
    text,
    html,
  };
}

describe('security: sign-up does not reveal which emails have an account', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-sec-signup' });
    await server.createUser({ email: TAKEN.email, password: TAKEN.password, displayName: 'Owner' });
  });
  after(async () => { await server?.stop(); });

  it('answers a taken email exactly as a new one (status, page, cookies), never "already exists"', async () => {
    const fresh = 'fresh.signup@example.com';
    const a = observable((await signUp(server, { email: fresh })).res, fresh);
    const b = observable((await signUp(server, { email: TAKEN.email })).res, TAKEN.email);
    const c = observable((await signUp(server, { email: 'TAKEN@Example.com' })).res, 'taken@example.com');
    assert.doesNotMatch(b.text, /already exists|already registered|in use/i);
    assert.deepEqual(b, a, 'taken email vs new email');
    assert.deepEqual(c, a, 'taken email in other case vs new email');
    assert.ok(!a.cookies.includes('sp_session'), 'no session is handed out by sign-up itself');
  });

  it('lets the new person sign in with the password chosen at sign-up (the answer is the sign-in form)', async () => {
    const email = 'robin.signup@example.com';
    const { browser, res, shown } = await signUp(server, { email, password: 'robins-new-password-1' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/login?signed_up=1&continue=%2F', 'no email in the URL');
    assert.match(pageText(shown.text), /your account is ready: sign in/i);
    const form = findForm(shown.text, shown.url, '/login');
    assert.ok(form, 'the answer leads to the sign-in form');
    const r = await browser.submit(shown, form, { username: email, password: 'robins-new-password-1' });
    assert.equal(r.status, 303, pageText(r.text).slice(0, 300));
    assert.ok(browser.jar.get('sp_session'), 'signed in');
    assert.equal((await browser.get('/account/security')).status, 200);
  });

  it('changes nothing about a taken account (the owner keeps their password, the newcomer gets nothing)', async () => {
    const { browser, shown } = await signUp(server, { email: TAKEN.email, password: 'attacker-password-1' });
    const form = findForm(shown.text, shown.url, '/login');
    const r = await browser.submit(shown, form, { username: TAKEN.email, password: 'attacker-password-1' });
    assert.equal(r.status, 403, 'the newcomer password does not open the account');
    const owner = await new Browser(server).login(TAKEN.email, TAKEN.password);
    assert.equal(owner.status, 303, 'the owner still signs in');
  });

  it('still refuses malformed input with a clear message (400)', async () => {
    const { res } = await signUp(server, { email: 'not-an-email' });
    assert.equal(res.status, 400);
    assert.match(pageText(res.text), /valid email/i);
    const short = (await signUp(server, { email: 'short@example.com', password: 'short' })).res;
    assert.equal(short.status, 400);
    assert.match(pageText(short.text), /at least 8 characters/);
  });
});

describe('security: sign-up is throttled per IP (STAGEPASS_SIGNUP_MAX_PER_IP=3)', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-sec-signup-throttle', env: { STAGEPASS_SIGNUP_MAX_PER_IP: 3 } });
  });
  after(async () => { await server?.stop(); });

  it('answers the 4th sign-up from one IP with 429 and Retry-After, and creates no account', async () => {
    for (let i = 1; i <= 3; i++) {
      const { res } = await signUp(server, { email: `bulk${i}@example.com` });
      assert.equal(res.status, 303, `sign-up #${i}: ${res.status}`);
    }
    const { browser, res } = await signUp(server, { email: 'bulk4@example.com', password: 'bulk-four-password' });
    assert.equal(res.status, 429, `4th sign-up: HTTP ${res.status}\n${pageText(res.text).slice(0, 300)}`);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'Retry-After in seconds');
    assert.match(pageText(res.text), /try again/i);
    assert.equal(hiddenOf(res, '/signup').get('continue'), '/', 'the sign-up form is shown again');
    const login = await browser.login('bulk4@example.com', 'bulk-four-password');
    assert.equal(login.status, 403, 'the throttled sign-up created no account');
  });
});
