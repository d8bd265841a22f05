// Password guessing in parallel: the throttle must count an attempt before its password is
// checked, so N guesses sent at once test at most STAGEPASS_LOGIN_MAX_FAILURES passwords
// (the rest answer 429 + Retry-After), on the sign-in form and on the change-password form.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, findForm, pageText } from '../e2e/lib/server.mjs';
import { signedIn } from './lib/web-pages.mjs';

const PARALLEL = 20;
const MAX_FAILURES = 5; // the shipped default of STAGEPASS_LOGIN_MAX_FAILURES

describe('security: parallel password guesses against one account', () => {
  // One server per test: the per-IP counter (all guesses come from 127.0.0.1) starts at zero.
  let server;
  beforeEach(async () => {
    server = await startServer({ label: 'sp-sec-throttle' });
  });
  afterEach(async () => { await server?.stop(); });

  it(`${PARALLEL} parallel wrong sign-ins check at most ${MAX_FAILURES} passwords, the rest get 429`, async () => {
    const victim = await server.createUser({ email: 'victim.login@example.com', password: 'victims-password-1' });
    // Each guess from its own browser (own CSRF cookie), all forms fetched first, then fired at once.
    const guesses = [];
    for (let i = 0; i < PARALLEL; i++) {
      const b = new Browser(server);
      const page = await b.get('/login');
      guesses.push({ b, page, form: findForm(page.text, page.url, '/login'), password: `wrong-guess-${i}` });
    }
    const answers = await Promise.all(guesses.map((g) => g.b.submit(g.page, g.form, { username: victim.email, password: g.password })));
    const statuses = answers.map((r) => r.status);
    const checked = answers.filter((r) => r.status === 403 && /Incorrect email or password/.test(pageText(r.text)));
    const throttled = answers.filter((r) => r.status === 429);
    // Each attempt is reserved before its password is checked, one at a time: exactly the
    // limit's worth are checked, whichever they are, and the rest are throttled.
    assert.equal(checked.length, MAX_FAILURES, `passwords checked; statuses ${statuses}`);
    assert.equal(throttled.length, PARALLEL - MAX_FAILURES, `every other answer is 429: ${statuses}`);
    for (const r of throttled) assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    // And the owner's right password is refused while the account is throttled.
    const owner = await new Browser(server).login(victim.email, 'victims-password-1');
    assert.equal(owner.status, 429);
  });

  it(`${PARALLEL} parallel wrong current passwords on the change-password form check at most ${MAX_FAILURES}`, async () => {
    const user = await server.createUser({ email: 'victim.change@example.com', password: 'changers-password-1' });
    const b = await signedIn(server, user, assert);
    const page = await b.get('/account/security');
    const form = findForm(page.text, page.url, '/account/security/password');
    assert.ok(form, 'the security page has the change-password form');
    const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
      b.submit(page, form, { current_password: `wrong-current-${i}`, new_password: `new-password-${i}-xyz` })));
    const statuses = answers.map((r) => r.status);
    const checked = answers.filter((r) => r.status === 403 && /current password is not correct/.test(pageText(r.text)));
    const throttled = answers.filter((r) => r.status === 429);
    assert.equal(checked.length, MAX_FAILURES, `current passwords checked; statuses ${statuses}`);
    assert.equal(throttled.length, PARALLEL - MAX_FAILURES, `every other answer is 429: ${statuses}`);
    for (const r of throttled) assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.ok(answers.every((r) => !/Password changed/.test(pageText(r.text))));
  });
});
