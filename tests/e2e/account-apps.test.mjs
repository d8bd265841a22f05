// Account → Apps over plain HTTP (the lib's form-posting browser): who may see and remove
// what, CSRF, the confirmation step, "last used" aggregated from Web API calls, and that a
// removal is enforced by the Web API on the very next request.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, Browser, findForm, pageText, tokenRequest, assertOAuthError } from './lib/server.mjs';
import { REDIRECT, WEBAPI_ENV, api, describeCall, expectOk, assertInvalidToken, userTokens, sleep } from './lib/webapi.mjs';

const REMOVE = '/account/apps/remove';

/** The apps page of a signed-in browser: {page, forms: [{grantId, form}], text}. */
async function appsPage(browser) {
  const page = await browser.get('/account/apps');
  assert.equal(page.status, 200, `GET /account/apps → ${page.status}\n${browser.traceText()}`);
  const forms = [];
  for (const m of page.text.matchAll(/<form\b[\s\S]*?<\/form>/gi)) {
    const form = findForm(m[0], page.url, REMOVE);
    if (form) forms.push({ grantId: new Map(form.hidden).get('grant_id'), form });
  }
  return { page, forms, text: pageText(page.text) };
}

describe('Account → Apps', () => {
  let server;
  let client;
  let alice;
  let bob;

  before(async () => {
    server = await startServer({ label: 'sp-account-apps', env: WEBAPI_ENV, timeoutMs: 30000 });
    client = await server.createClient({ name: 'Crate Digger', redirectUris: [REDIRECT] });
    alice = { ...(await server.createUser({ email: 'alice@example.com', displayName: 'Alice' })), browser: new Browser(server) };
    bob = { ...(await server.createUser({ email: 'bob@example.com', displayName: 'Bob' })), browser: new Browser(server) };
  });
  after(async () => { await server?.stop(); });

  const connect = (who, scope = 'user-read-email user-library-read') =>
    userTokens(server, { client, user: who, scope, browser: who.browser });

  it('signed out: GET sends to sign in and comes back; POST too', async () => {
    const b = new Browser(server);
    const r = await b.get('/account/apps');
    assert.equal(r.status, 303);
    assert.equal(r.location.pathname, '/login');
    assert.equal(r.location.searchParams.get('continue'), '/account/apps');
    const login = await b.get('/login'); // a CSRF cookie and token for the POST below
    const csrf = new Map(findForm(login.text, login.url, '/login').hidden).get('csrf_token');
    const p = await b.request(REMOVE, { form: { csrf_token: csrf, grant_id: 'x' } });
    assert.equal(p.status, 303);
    assert.equal(p.location.pathname, '/login');
  });

  it('lists the app with its scopes in plain words, security headers and "Never" used', async () => {
    await connect(alice);
    const { page, forms, text } = await appsPage(alice.browser);
    assert.equal(forms.length, 1, text);
    assert.match(text, /Crate Digger/);
    assert.match(text, /View your email address/);
    assert.match(text, /View your saved tracks/);
    assert.match(text, /Last used Never/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.ok(forms[0].form.hidden.some(([n, v]) => n === 'csrf_token' && v.length > 20), 'the form carries the CSRF token');
  });

  it('"last used" follows Web API calls, aggregated (a flush every 5 s)', async () => {
    const tok = await connect(alice);
    expectOk(await api(server, tok.access_token, 'GET', '/me'), 200);
    const deadline = Date.now() + 15000;
    let text = '';
    while (Date.now() < deadline) {
      ({ text } = await appsPage(alice.browser));
      if (!/Last used Never/.test(text)) break;
      await sleep(500);
    }
    assert.match(text, /Last used \d{2} \w{3} \d{4}, \d{2}:\d{2} UTC/, text);
  });

  it('refuses a POST without the CSRF token (403) and removes nothing', async () => {
    const tok = await connect(alice);
    const { forms } = await appsPage(alice.browser);
    const r = await alice.browser.request(REMOVE, { form: { grant_id: forms[0].grantId, confirm: 'yes' } });
    assert.equal(r.status, 403);
    expectOk(await api(server, tok.access_token, 'GET', '/me'), 200);
  });

  it('the first POST only asks for confirmation; the token keeps working', async () => {
    const tok = await connect(alice);
    const { page, forms } = await appsPage(alice.browser);
    const confirm = await alice.browser.submit(page, forms[0].form);
    assert.equal(confirm.status, 200);
    assert.match(pageText(confirm.text), /Remove Crate Digger ?\? It will lose access at once/);
    const again = findForm(confirm.text, confirm.url, REMOVE);
    assert.deepEqual(new Map(again.hidden).get('confirm'), 'yes');
    expectOk(await api(server, tok.access_token, 'GET', '/me'), 200);
  });

  it("another person's grant (or an unknown id) is not found, and stays", async () => {
    const bobTok = await connect(bob);
    const bobGrant = (await appsPage(bob.browser)).forms[0].grantId;
    const { page, forms } = await appsPage(alice.browser);
    for (const grantId of [bobGrant, 'no-such-grant']) {
      for (const confirm of [{}, { confirm: 'yes' }]) {
        const r = await alice.browser.submit(page, forms[0].form, confirm, { overrideHidden: { grant_id: grantId } });
        assert.equal(r.status, 404, `${grantId} ${JSON.stringify(confirm)} → ${r.status}`);
      }
    }
    expectOk(await api(server, bobTok.access_token, 'GET', '/me'), 200);
  });

  it('the confirmed POST revokes at once: 401 on the next call, refresh invalid_grant, logged', async () => {
    const tok = await connect(alice);
    const { page, forms } = await appsPage(alice.browser);
    const confirmPage = await alice.browser.submit(page, forms[0].form);
    const done = await alice.browser.submit(confirmPage, findForm(confirmPage.text, confirmPage.url, REMOVE));
    assert.equal(done.status, 303);
    assert.equal(done.location.pathname, '/account/apps');
    const me = await api(server, tok.access_token, 'GET', '/me');
    assertInvalidToken(me, 'right after removal');
    assert.equal(me.status, 401, describeCall(me));
    assertOAuthError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: tok.refresh_token },
      { basic: [client.client_id, client.client_secret] }), 'invalid_grant');
    const after = await alice.browser.get(done.location);
    assert.match(pageText(after.text), /Crate Digger no longer has access to your account/);
    assert.equal((await appsPage(alice.browser)).forms.length, 0);
    const audit = await server.run(['admin', 'events', '--since', '1h', '--user', alice.id]);
    assert.ok(audit.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .some((e) => e.type === 'app_removed' && e.client_id === client.client_id),
    'an app_removed event is in the person\'s audit stream');
    // Confirming again (e.g. a double submit) lands on the list without an error.
    const twice = await alice.browser.submit(confirmPage, findForm(confirmPage.text, confirmPage.url, REMOVE));
    assert.equal(twice.status, 303);
  });
});
