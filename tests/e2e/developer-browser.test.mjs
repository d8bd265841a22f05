// The developer dashboard in a real browser (headless Chromium driven by playwright-core):
// sign up, create an app, copy its secret from the page and use it for a client-credentials
// grant over HTTP, rotate it and use the new one while the old one still works, see both
// secrets live with their last use, add a person to the allowlist, see the usage charts,
// connect the app as a person, edit the redirect URIs with a wrong one and see
// the error next to the field, reload the page after the create and after the rotation
// (Post/Redirect/Get: nothing is posted again, no secret is shown again), delete the app and see its grant and tokens gone. A screenshot
// of each page goes to build/test-artifacts/screenshots/developer-*.png (not committed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  REPO_ROOT, startServer, freePort, tokenRequest, pkcePair, randomState, assertOAuthError, assertTokenOk,
} from './lib/server.mjs';
import { WEBAPI_ENV, api, expectOk, assertInvalidToken } from './lib/webapi.mjs';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(REPO_ROOT, 'build', 'test-artifacts', 'screenshots');

/** A one-route redirect-URI server on a free loopback port: codeReceived() resolves the /cb query. */
async function startCallbackServer() {
  const port = await freePort();
  let deliver;
  const received = new Promise((resolve) => { deliver = resolve; });
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, `http://127.0.0.1:${port}`);
    if (u.pathname === '/cb') deliver(u.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Test app</title><p>Signed in to the test app.</p>');
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { port, codeReceived: () => received, close: () => new Promise((r) => srv.close(r)) };
}

describe('developer dashboard in a real browser', () => {
  let server;
  let cb;
  let browser;
  let page;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: this test needs Debian's chromium (run scripts/install-deps.sh test, as make test does)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer({ label: 'sp-dev-browser', env: WEBAPI_ENV, timeoutMs: 30000 });
    cb = await startCallbackServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    await cb?.close();
    await server?.stop();
  });

  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `developer-${name}.png`), fullPage: true });
  const email = 'devon@example.com';
  const password = 'a long and private passphrase';

  it('creates an app, uses its secret, rejects localhost next to the field, deletes it and its grant', async () => {
    // Sign up and sign in.
    await page.goto(`${server.url}/signup`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Display name').fill('Devon');
    await page.getByLabel(/^Password/).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('status').filter({ hasText: 'your account is ready' }).waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/`);

    // Developer → Create an app. A loopback redirect URI without a port: the test app's
    // callback server listens on whatever port it got.
    await page.getByRole('link', { name: 'Developer', exact: true }).click();
    await page.waitForURL(`${server.url}/developer`);
    assert.match(await page.textContent('main'), /You have no apps yet/);
    await shot('empty');
    await page.getByRole('link', { name: 'Create an app' }).click();
    await page.waitForURL(`${server.url}/developer/apps/new`);
    await page.getByLabel('App name').fill('Mixtape Studio');
    await page.getByLabel(/^Description/).fill('Makes mixtapes from your saved tracks.');
    await page.getByLabel(/^Redirect URIs/).fill('http://127.0.0.1/cb');
    await page.getByRole('radio', { name: /Confidential/ }).check();
    await shot('create-form');
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('status').filter({ hasText: 'App created.' }).waitFor();
    assert.match(await page.textContent('h1'), /Mixtape Studio/);

    // Copy the secret and the client id from the page.
    const clientId = (await page.locator('#client-id').textContent()).trim();
    let secret = await page.getByLabel('Client secret').inputValue();
    assert.match(clientId, /^[0-9a-f]{32}$/);
    assert.match(secret, /^sps_/);
    assert.match(await page.textContent('#secret'), /shown this once/);
    assert.ok(!page.url().includes(secret), 'the secret is in no URL');
    // The POST answered 303 to the app's page (Post/Redirect/Get): the browser is on a GET.
    assert.equal(page.url(), `${server.url}/developer/app?id=${clientId}&created=1`);
    await shot('created');

    // Reload: no second app, and the secret is not shown again.
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'The new secret was shown once and cannot be shown again' }).waitFor();
    assert.equal(await page.locator('#client-secret').count(), 0, 'the secret after a reload');
    assert.ok(!(await page.content()).includes(secret));
    await shot('created-reloaded');
    await page.goto(`${server.url}/developer`);
    assert.equal(await page.locator('li.dev-app').count(), 1, 'one app after the reload');
    assert.match(await page.textContent('#app-count'), /You have 1 of at most/);

    // The secret works for a client-credentials grant over HTTP, and the token for the Web API.
    const appTok = assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [clientId, secret] }),
      'client credentials with the secret copied from the page').access_token;
    expectOk(await api(server, appTok, 'GET', '/search', { query: { q: 'a', type: 'track', limit: 1 } }), 200);

    // The app's page, opened again, does not show the secret.
    await page.goto(`${server.url}/developer/app?id=${clientId}`);
    assert.equal(await page.locator('#client-secret').count(), 0);
    assert.match(await page.textContent('#secret'), /shown once, when the app was created/);

    // Rotate the secret with the default grace (24 h): the new one is shown once, on the answer.
    const firstSecret = secret;
    assert.equal(await page.getByLabel('Keep the current secret working for').inputValue(), '24h');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('status').filter({ hasText: 'Secret rotated.' }).waitFor();
    secret = await page.getByLabel('Client secret').inputValue();
    assert.match(secret, /^sps_/);
    assert.notEqual(secret, firstSecret);
    assert.ok(!page.url().includes(secret), 'the new secret is in no URL');
    assert.equal(page.url(), `${server.url}/developer/app?id=${clientId}&rotated=1`);
    assert.equal(await page.locator('#secret tr.live-secret').count(), 2);
    await shot('rotated');

    // Reload: no second rotation (one would end the first secret at once: at most two are
    // live), and no secret shown.
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'The new secret was shown once and cannot be shown again' }).waitFor();
    assert.equal(await page.locator('#client-secret').count(), 0, 'the new secret after a reload');
    assert.ok(!(await page.content()).includes(secret) && !(await page.content()).includes(firstSecret));
    assert.equal(await page.locator('#secret tr.live-secret').count(), 2);
    assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [clientId, firstSecret] }),
      'the first secret still works after the reload: it rotated once');
    await shot('rotated-reloaded');
    // Both work: the backend not yet moved over and the one that copied the new secret.
    assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [clientId, secret] }), 'the new secret');
    assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [clientId, firstSecret] }), 'the retiring secret');
    // Both live, each with its last use (the usage flush lags a few seconds).
    const rows = page.locator('#secret tr.live-secret');
    for (let i = 0; i < 60; i++) {
      await page.goto(`${server.url}/developer/app?id=${clientId}`);
      const used = await page.locator('#secret tr.live-secret td.last-used time').count();
      if (await rows.count() === 2 && used === 2) break;
      await page.waitForTimeout(250);
    }
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).textContent(), /Current/);
    assert.match(await rows.nth(1).textContent(), /Retiring/);
    for (let i = 0; i < 2; i++) {
      assert.match(await rows.nth(i).locator('td.last-used').textContent(), /UTC/);
      assert.equal((await rows.nth(i).locator('td.ips').textContent()).trim(), '1');
    }
    assert.equal(await page.locator('#client-secret').count(), 0, 'not shown again');
    await page.locator('#secret').scrollIntoViewIfNeeded();
    await shot('secrets-live');

    // The allowlist: a malformed email is refused next to the field; a person's is added.
    const friend = await server.createUser({ email: 'riley@example.com', displayName: 'Riley' });
    assert.match(await page.textContent('#allowlist'), /Development mode\./);
    const allowEmail = page.getByLabel('Add a person by their account email');
    // (An email with no account answers as an added one, so a malformed one shows the error.)
    await allowEmail.fill(`${'x'.repeat(300)}@example.com`);
    await page.getByRole('button', { name: 'Add to allowlist' }).click();
    await page.locator('#allowlist-email-error').waitFor();
    assert.match(await page.textContent('#allowlist-email-error'), /enter the email address of the person's account/);
    assert.equal(await page.evaluate(() => document.querySelector('#allowlist-email').nextElementSibling?.id), 'allowlist-email-error');
    await page.getByLabel('Add a person by their account email').fill(friend.email);
    await page.getByRole('button', { name: 'Add to allowlist' }).click();
    await page.getByRole('status').filter({ hasText: 'Added to the allowlist' }).waitFor();
    assert.equal((await page.locator('#allowlist tr.allowed-person td.email').textContent()).trim(), friend.email);
    await page.locator('#allowlist').scrollIntoViewIfNeeded();
    await shot('allowlist');

    // Usage: three server-rendered SVG charts.
    assert.equal(await page.locator('#usage svg').count(), 3);
    await page.locator('#usage').screenshot({ path: path.join(SHOTS, 'developer-usage.png') });

    // The developer connects their own app as a person: any port of the loopback URI matches.
    const pk = pkcePair();
    const state = randomState();
    const redirectUri = `http://127.0.0.1:${cb.port}/cb`;
    const authorize = new URL('/authorize', server.url);
    for (const [k, v] of Object.entries({
      client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'user-read-email user-library-read',
      state, code_challenge: pk.challenge, code_challenge_method: 'S256',
    })) authorize.searchParams.set(k, v);
    await page.goto(authorize.href);
    assert.match(await page.textContent('h1'), /Mixtape Studio wants to access your account/);
    await page.getByRole('button', { name: 'Agree' }).click();
    const params = await cb.codeReceived();
    assert.equal(params.get('state'), state);
    const userTok = assertTokenOk(await tokenRequest(server, {
      grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri, code_verifier: pk.verifier,
    }, { basic: [clientId, secret] }), 'code exchange');
    assert.equal(expectOk(await api(server, userTok.access_token, 'GET', '/me'), 200).email, email);
    await page.goto(`${server.url}/account/apps`);
    assert.equal(await page.locator('.app-item', { hasText: 'Mixtape Studio' }).count(), 1);

    // Edit the redirect URIs with a wrong one: the error is next to the field, as typed.
    await page.goto(`${server.url}/developer`);
    await page.getByRole('link', { name: 'Mixtape Studio' }).click();
    await page.getByRole('link', { name: 'Edit settings' }).click();
    await page.waitForURL(/\/developer\/app\/edit\?id=/);
    const uris = page.getByLabel(/^Redirect URIs/);
    assert.equal(await uris.inputValue(), 'http://127.0.0.1/cb');
    await uris.fill('http://127.0.0.1/cb\nhttp://localhost/cb');
    await page.getByRole('button', { name: 'Save' }).click();
    const error = page.locator('#redirect_uris-error');
    await error.waitFor();
    assert.match(await error.textContent(), /"http:\/\/localhost\/cb": localhost is not allowed; use the loopback literal 127\.0\.0\.1 or \[::1\]/);
    // Next to the field: the element right after the text area, which points to it.
    assert.equal(await page.evaluate(() => document.querySelector('#redirect_uris').nextElementSibling?.id), 'redirect_uris-error');
    assert.equal(await uris.getAttribute('aria-invalid'), 'true');
    assert.match(await uris.getAttribute('aria-describedby'), /\bredirect_uris-error\b/);
    assert.equal(await uris.inputValue(), 'http://127.0.0.1/cb\nhttp://localhost/cb', 'the field keeps what was typed');
    assert.equal(await page.locator('.field-error').count(), 1, 'only that field has a problem');
    await shot('edit-error');

    // Fixed, it saves.
    await uris.fill('http://127.0.0.1/cb\nhttps://mixtape.example/callback');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.match(await page.textContent('#settings'), /https:\/\/mixtape\.example\/callback/);
    await shot('saved');

    // Delete: a confirmation page first.
    await page.getByRole('button', { name: 'Delete app' }).click();
    await page.waitForURL(`${server.url}/developer/app/delete`);
    assert.match(await page.textContent('h1'), /Delete Mixtape Studio\?/);
    await shot('delete-confirm');
    expectOk(await api(server, userTok.access_token, 'GET', '/me'), 200);
    await page.locator('main').getByRole('button', { name: 'Delete app' }).click();
    await page.waitForURL(`${server.url}/developer?deleted=1`);
    assert.match(await page.textContent('.notice'), /App deleted/);
    assert.match(await page.textContent('main'), /You have no apps yet/);
    await shot('deleted');

    // The grant is gone: not under Account → Apps, and every token refused at once.
    await page.goto(`${server.url}/account/apps`);
    assert.equal(await page.locator('.app-item').count(), 0);
    assert.match(await page.textContent('main'), /No apps have access to your account/);
    await shot('grant-gone');
    assertInvalidToken(await api(server, userTok.access_token, 'GET', '/me'), 'user token of a deleted app');
    assertInvalidToken(await api(server, appTok, 'GET', '/search', { query: { q: 'a', type: 'track', limit: 1 } }), 'app token of a deleted app');
    assertOAuthError(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [clientId, secret] }), 'invalid_client', 401);
    assertOAuthError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: userTok.refresh_token },
      { basic: [clientId, secret] }), 'invalid_client', 401);

    // The documentation page, for the record.
    await page.goto(`${server.url}/developer/docs`);
    assert.equal(await page.locator('#max-apps').textContent(), '25');
    await shot('docs');
  });
});
