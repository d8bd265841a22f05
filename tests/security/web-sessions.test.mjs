// Session hijack and fixation: a password change replaces the session id (whoever copied the
// old cookie is out), signing in again ends the session the browser presented, and a session
// left idle for STAGEPASS_SESSION_IDLE_TTL ends even though its absolute lifetime has not.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, findForm, pageText } from '../e2e/lib/server.mjs';
import { signedIn, cookieSetBy } from './lib/web-pages.mjs';

const PASSWORD = 'session-test-password-1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A browser that presents `value` as its session cookie (what a thief would do). */
function withSessionCookie(server, value) {
  const b = new Browser(server);
  b.jar.cookies.set('sp_session|/', { name: 'sp_session', value, path: '/' });
  return b;
}

const isSignedIn = async (b) => {
  const r = await b.get('/account/security');
  assert.ok([200, 303].includes(r.status), `GET /account/security → ${r.status}`);
  if (r.status === 303) assert.equal(r.location.pathname, '/login');
  return r.status === 200;
};

describe('security: session ids', () => {
  let server;
  let n = 0;
  const newUser = async () => {
    n += 1;
    const u = await server.createUser({ email: `sess${n}@example.com`, password: PASSWORD });
    return { ...u, password: PASSWORD };
  };
  before(async () => {
    server = await startServer({ label: 'sp-sec-sessions', env: { STAGEPASS_LOGIN_MAX_FAILURES: 1000 } });
  });
  after(async () => { await server?.stop(); });

  it('gives a new session id after a password change; the old id no longer signs in', async () => {
    const user = await newUser();
    const b = await signedIn(server, user, assert);
    const old = b.jar.get('sp_session');
    const thief = withSessionCookie(server, old);
    assert.equal(await isSignedIn(thief), true, 'the copied cookie works before the change');
    const page = await b.get('/account/security');
    const r = await b.submit(page, findForm(page.text, page.url, '/account/security/password'),
      { current_password: PASSWORD, new_password: 'a-brand-new-password-2' });
    // Post/Redirect/Get: 303 to the security page, setting the new session cookie.
    assert.equal(r.status, 303, pageText(r.text).slice(0, 300));
    const fresh = cookieSetBy(r, 'sp_session');
    assert.ok(fresh && fresh !== old, 'the answer sets a new session cookie');
    const shown = await b.get(r.location);
    assert.equal(shown.status, 200);
    assert.match(pageText(shown.text), /Password changed/);
    assert.equal(await isSignedIn(thief), false, 'the old session id is dead');
    assert.equal(await isSignedIn(b), true, 'the person stays signed in with the new id');
    // The page it leads to carries a working form (CSRF bound to the new session).
    const again = await b.submit(shown, findForm(shown.text, shown.url, '/account/security/password'),
      { current_password: 'a-brand-new-password-2', new_password: 'a-third-password-3' });
    assert.equal(again.status, 303, pageText(again.text).slice(0, 300));
  });

  it('ends the session a browser presented when it signs in again', async () => {
    const user = await newUser();
    const b = await signedIn(server, user, assert);
    const first = b.jar.get('sp_session');
    const r = await b.login(user.email, PASSWORD);
    assert.equal(r.status, 303);
    const second = b.jar.get('sp_session');
    assert.notEqual(second, first);
    assert.equal(await isSignedIn(withSessionCookie(server, first)), false, 'the first session was ended');
    assert.equal(await isSignedIn(b), true);
  });

  it("ends the presented session even when it belongs to someone else (no fixation)", async () => {
    const planted = (await signedIn(server, await newUser(), assert)).jar.get('sp_session');
    const victim = withSessionCookie(server, planted);
    const r = await victim.login((await newUser()).email, PASSWORD);
    assert.equal(r.status, 303);
    assert.notEqual(victim.jar.get('sp_session'), planted);
    assert.equal(await isSignedIn(withSessionCookie(server, planted)), false);
  });
});

describe('security: idle sessions end (STAGEPASS_SESSION_IDLE_TTL=4)', () => {
  let server;
  const user = { email: 'idle@example.com', password: PASSWORD };
  before(async () => {
    server = await startServer({ label: 'sp-sec-idle', env: { STAGEPASS_SESSION_IDLE_TTL: 4 } });
    await server.createUser(user);
  });
  after(async () => { await server?.stop(); });

  it('signs out a session left idle longer than the idle TTL, keeps one in use', async () => {
    const idle = await signedIn(server, user, assert);
    const active = await signedIn(server, user, assert);
    for (let i = 0; i < 4; i++) {
      await sleep(1500);
      assert.equal(await isSignedIn(active), true, `active session, visit ${i + 1}`);
    }
    // 6 s without a visit: past the 4 s idle TTL, far from the 14-day absolute one.
    assert.equal(await isSignedIn(idle), false, 'the idle session ended');
    assert.equal(await isSignedIn(active), true, 'the session in use lives on');
  });
});
