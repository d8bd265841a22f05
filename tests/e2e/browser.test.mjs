// User control in a real browser (headless Chromium driven by playwright-core): sign up, sign
// in, authorize an app by clicking Agree, use its token, then remove it from Account → Apps
// and check its access and refresh tokens stop working at once. A screenshot of each page
// goes to build/test-artifacts/screenshots/ (not committed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  REPO_ROOT, startServer, freePort, tokenRequest, pkcePair, randomState, assertOAuthError, assertTokenOk,
} from './lib/server.mjs';
import { WEBAPI_ENV, api, describeCall, expectOk, assertInvalidToken } from './lib/webapi.mjs';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(REPO_ROOT, 'build', 'test-artifacts', 'screenshots');
const SCOPES = {
  'user-read-email': 'View your email address',
  'user-library-read': 'View your saved tracks',
  'playlist-modify-private': 'Create, edit and follow private playlists',
};

/** A one-route redirect-URI server: resolves codeReceived() with the /cb query. */
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
  return { redirectUri: `http://127.0.0.1:${port}/cb`, codeReceived: () => received, close: () => new Promise((r) => srv.close(r)) };
}

describe('Account → Apps in a real browser', () => {
  let server;
  let cb;
  let client;
  let browser;
  let page;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: this test needs Debian's chromium (run scripts/install-deps.sh test, as make test does)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer({ label: 'sp-browser', env: WEBAPI_ENV, timeoutMs: 30000 });
    cb = await startCallbackServer();
    client = await server.createClient({ name: 'Mixtape Studio', redirectUris: [cb.redirectUri] });
    // Playwright gives every launch a fresh temporary user-data dir (no cookies carried over).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await (await browser.newContext({ viewport: { width: 420, height: 900 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    await cb?.close();
    await server?.stop();
  });

  const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const email = 'robin@example.com';
  const password = 'a long and private passphrase';

  it('signs up, signs in, agrees, uses the token, removes the app, and the tokens die', async () => {
    // Sign up: the answer is a redirect to the sign-in form (the same answer for a taken email,
    // so sign-up reveals no accounts; a reload re-posts nothing); the chosen password signs in.
    // Then sign out so sign-in from an app is exercised too.
    await page.goto(`${server.url}/signup`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Display name').fill('Robin');
    await page.getByLabel(/^Password/).fill(password);
    await shot('signup');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('status').filter({ hasText: 'your account is ready' }).waitFor();
    assert.equal(page.url(), `${server.url}/login?signed_up=1&continue=%2F`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/`);
    assert.match(await page.textContent('main'), /Signed in as Robin/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);

    // Authorize: the request sends us to sign in, then to the consent page.
    const pk = pkcePair();
    const state = randomState();
    const authorize = new URL('/authorize', server.url);
    for (const [k, v] of Object.entries({
      client_id: client.client_id, response_type: 'code', redirect_uri: cb.redirectUri,
      scope: Object.keys(SCOPES).join(' '), state, code_challenge: pk.challenge, code_challenge_method: 'S256',
    })) authorize.searchParams.set(k, v);
    await page.goto(authorize.href);
    await page.waitForURL(/\/login\?continue=/);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await shot('login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/authorize\?/);
    assert.match(await page.textContent('h1'), /Mixtape Studio wants to access your account/);
    await shot('consent');
    await page.getByRole('button', { name: 'Agree' }).click();
    const params = await cb.codeReceived();
    assert.equal(params.get('state'), state);
    assert.ok(params.get('code'), `no code at the redirect URI: ${params}`);

    // The app exchanges the code and calls the Web API.
    const tokens = assertTokenOk(await tokenRequest(server, {
      grant_type: 'authorization_code', code: params.get('code'), redirect_uri: cb.redirectUri, code_verifier: pk.verifier,
    }, { basic: [client.client_id, client.client_secret] }), 'code exchange');
    assert.equal(expectOk(await api(server, tokens.access_token, 'GET', '/me'), 200).email, email);

    // Account → Apps lists it with its scopes in plain words.
    await page.goto(`${server.url}/`);
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.waitForURL(`${server.url}/account/apps`);
    const item = page.locator('.app-item', { hasText: 'Mixtape Studio' });
    assert.equal(await item.count(), 1, await page.content());
    const text = await item.textContent();
    for (const words of Object.values(SCOPES)) assert.ok(text.includes(words), `"${words}" not shown: ${text}`);
    assert.match(text, /Access granted\s*\d{2} \w{3} \d{4}, \d{2}:\d{2} UTC/);
    assert.match(text, /Last used\s*(Never|\d{2} \w{3} \d{4})/);
    await shot('apps');

    // Remove access: a confirmation page first, then the confirmed POST.
    await item.getByRole('button', { name: 'Remove access' }).click();
    await page.waitForURL(`${server.url}/account/apps/remove`);
    assert.match(await page.textContent('h1'), /Remove Mixtape Studio\?/);
    assert.match(await page.textContent('main'), /It will lose access at once/);
    await shot('confirm');
    await page.locator('main').getByRole('button', { name: 'Remove access' }).click();
    await page.waitForURL(/\/account\/apps\?removed=/);
    assert.match(await page.textContent('.notice'), /Mixtape Studio no longer has access/);
    assert.equal(await page.locator('.app-item').count(), 0);
    await shot('apps-after');

    // At once: the access token is refused and the refresh token is dead.
    const me = await api(server, tokens.access_token, 'GET', '/me');
    assertInvalidToken(me, 'access token of a removed app');
    assert.equal(me.status, 401, describeCall(me));
    const refreshed = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      { basic: [client.client_id, client.client_secret] });
    assertOAuthError(refreshed, 'invalid_grant');
  });
});
