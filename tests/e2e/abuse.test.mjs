// Usage and abuse signals per app (issue 15), through the real server: repeated wrong client
// secrets from one address raise `abuse_secret_guessing` in the audit stream; with the
// automatic action on, the app is suspended: its token requests get invalid_client saying
// why and its access tokens stop working; operators suspend and lift suspensions with the
// CLI; /metrics shows each app's usage series, and a restart keeps them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, tokenRequest, assertOAuthError, assertTokenOk, Browser, authorizeUrl } from './lib/server.mjs';
import { api, userTokens, WEBAPI_ENV, sleep } from './lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';
const USER = { email: 'abuse@example.com', displayName: 'Abe', password: 'abuse-password-123' };
const GUESSES = 20; // STAGEPASS_ABUSE_INVALID_CLIENT_THRESHOLD's default

async function events(server) {
  const r = await server.run(['admin', 'events', '--since', '1h']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// Polls until `check` returns a truthy value (the detectors act on a background tick, about a
// second); fails after 20 s with `what`.
async function eventually(what, check) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`not within 20 s: ${what}`);
    await sleep(200);
  }
}

async function guessSecrets(server, app) {
  for (let i = 0; i < GUESSES; i++) {
    const r = await tokenRequest(server, { grant_type: 'client_credentials' },
      { basic: [app.client_id, `sps_wrong-guess-${i}`] });
    assertOAuthError(r, 'invalid_client', 401);
  }
}

async function metricsText(server) {
  const r = await fetch(`${server.url}/metrics`);
  assert.equal(r.status, 200);
  return r.text();
}

describe('abuse signals with the default settings (no automatic action)', () => {
  let server;
  let app;
  let user;
  before(async () => {
    server = await startServer({ label: 'sp-abuse-default', env: WEBAPI_ENV });
    user = await server.createUser(USER);
    app = await server.createClient({ name: 'Guessed App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  it('records secret guessing from one address in the audit stream, and leaves the app working', async () => {
    await guessSecrets(server, app);
    const found = await eventually('abuse_secret_guessing in `admin events`', async () =>
      (await events(server)).find((e) => e.type === 'abuse_secret_guessing'));
    assert.equal(found.client_id, app.client_id);
    assert.equal(found.ip, '127.0.0.1');
    assert.match(found.detail, /20 failed client authentications/);
    assert.doesNotMatch(JSON.stringify(found), /wrong-guess/, 'no guessed secret in the event');
    // Off by default: no suspension, and the real secret still works.
    assert.ok(!(await events(server)).some((e) => e.type === 'client_suspended'));
    assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' },
      { basic: [app.client_id, app.client_secret] }));
    const shown = await server.adminJson(['client', 'show', app.client_id]);
    assert.equal(shown.suspended_at, undefined);
  });

  it('shows the per-app usage series in /metrics, and keeps them across a restart', async () => {
    const t = await userTokens(server, { client: app, user: { ...USER, id: user.id }, scope: 'user-read-email' });
    for (let i = 0; i < 3; i++) assert.equal((await api(server, t.access_token, 'GET', '/me')).status, 200);
    assert.equal((await api(server, t.access_token, 'GET', '/me/tracks')).status, 403); // no scope: an error
    const id = app.client_id;
    const want = [
      `stagepass_app_requests{client_id="${id}",group="profile",window="1h"} 3`,
      `stagepass_app_requests{client_id="${id}",group="library",window="24h"} 1`,
      `stagepass_app_errors{client_id="${id}",window="30d"} 1`,
      `stagepass_app_active_users{client_id="${id}",window="1h"} 1`,
      `stagepass_app_active_grants{client_id="${id}",window="1h"} 1`,
    ];
    const text = await eventually('the app\'s series in /metrics', async () => {
      const m = await metricsText(server);
      return want.every((line) => m.includes(line)) ? m : null;
    });
    // The token endpoint counts too: the code exchange and the client-credentials grant.
    assert.match(text, new RegExp(`stagepass_app_requests\\{client_id="${id}",group="token",window="1h"\\} [1-9]`));
    await server.restart();
    const after = await metricsText(server);
    for (const line of want) assert.ok(after.includes(line), `${line} after the restart\n${after.slice(-3000)}`);
  });
});

describe('abuse signals with automatic suspension on secret guessing', () => {
  let server;
  let app;
  let user;
  before(async () => {
    server = await startServer({
      label: 'sp-abuse-suspend',
      env: {
        ...WEBAPI_ENV,
        // On here to test the action. It is off by default because whoever can send wrong
        // secrets for an app's id (a public value) could then suspend the app.
        STAGEPASS_ABUSE_INVALID_CLIENT_SUSPEND: 'on',
      },
    });
    user = await server.createUser(USER);
    app = await server.createClient({ name: 'Suspended App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  it('suspends the app: invalid_client with the reason, and its access tokens stop working', async () => {
    const t = await userTokens(server, { client: app, user: { ...USER, id: user.id }, scope: 'user-read-email' });
    assert.equal((await api(server, t.access_token, 'GET', '/me')).status, 200);
    await guessSecrets(server, app);
    const refused = await eventually('invalid_client for the right secret', async () => {
      const r = await tokenRequest(server, { grant_type: 'client_credentials' },
        { basic: [app.client_id, app.client_secret] });
      return r.status === 401 ? r : null;
    });
    assertOAuthError(refused, 'invalid_client', 401);
    assert.match(refused.json.error_description, /^this app is suspended: automatic, after abuse_secret_guessing/);
    // RFC 6749 §5.2: the client used the Authorization header, so the 401 names the scheme.
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic/);
    // The refresh token too (same client authentication), and the access token everywhere.
    assertOAuthError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t.refresh_token },
      { basic: [app.client_id, app.client_secret] }), 'invalid_client', 401);
    assert.equal((await api(server, t.access_token, 'GET', '/me')).status, 401);
    const types = (await events(server)).map((e) => e.type);
    assert.ok(types.includes('abuse_secret_guessing') && types.includes('client_suspended'), JSON.stringify(types));
    const shown = await server.adminJson(['client', 'show', app.client_id]);
    assert.ok(shown.suspended_at > 0);
    assert.match(shown.suspended_reason, /abuse_secret_guessing/);
    // No new consent either: /authorize sends the signed-in person back to the app with an
    // error (RFC 6749 §4.1.2.1).
    const browser = new Browser(server);
    await browser.login(USER.email, USER.password);
    const az = await browser.get(authorizeUrl(server, {
      clientId: app.client_id, redirectUri: REDIRECT, scope: 'user-read-email', state: 'st1',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    }));
    assert.ok(az.status >= 300 && az.status < 400, `authorize answered ${az.status}\n${browser.traceText()}`);
    assert.equal(`${az.location.origin}${az.location.pathname}`, REDIRECT, browser.traceText());
    assert.equal(az.location.searchParams.get('error'), 'unauthorized_client');
    assert.equal(az.location.searchParams.get('state'), 'st1');
    // A guesser (wrong secret) learns nothing of the suspension.
    const guess = await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [app.client_id, 'sps_x'] });
    assertOAuthError(guess, 'invalid_client', 401);
    assert.doesNotMatch(guess.json.error_description ?? '', /suspended/);
  });

  it('lets an operator lift the suspension, and suspend with a reason of their own', async () => {
    const lifted = await server.adminJson(['client', 'unsuspend', '--client-id', app.client_id]);
    assert.deepEqual(lifted, { client_id: app.client_id, suspended: false });
    const basic = { basic: [app.client_id, app.client_secret] };
    // A token issued within STAGEPASS_CLOCK_SKEW (10 s) of the suspension stays refused (the
    // suspension covers tokens issued up to then plus the skew): take fresh ones until one works.
    const t = await eventually('a new token that works after the suspension was lifted', async () => {
      const fresh = assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, basic));
      return (await api(server, fresh.access_token, 'GET', '/tracks/x')).status !== 401 ? fresh : null;
    });
    const s = await server.adminJson(['client', 'suspend', '--client-id', app.client_id, '--reason', 'terms of use review']);
    assert.equal(s.suspended, true);
    assert.equal(s.reason, 'terms of use review');
    const r = await tokenRequest(server, { grant_type: 'client_credentials' }, basic);
    assertOAuthError(r, 'invalid_client', 401);
    assert.equal(r.json.error_description, 'this app is suspended: terms of use review');
    // The client-credentials token minted before the suspension stops working within a poll.
    await eventually('the earlier token refused', async () =>
      (await api(server, t.access_token, 'GET', '/tracks/x')).status === 401);
    const bad = await server.run(['admin', 'client', 'suspend', '--client-id', 'no-such-app']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no client no-such-app/);
  });
});
