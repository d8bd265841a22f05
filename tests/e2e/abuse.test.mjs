// Usage and abuse signals per app (issue 15), through the real server: repeated wrong client
// secrets from one address raise `abuse_secret_guessing` in the audit stream; with the
// automatic action on, the guessing address is refused (429 slow_down) until its window ends,
// while the app it named keeps working from its own address and is never suspended, and its
// owner sees one warning however many addresses guess (issue15-fix:abuse); operators suspend
// and lift suspensions with the CLI, and a suspended app's token requests get invalid_client
// saying why and its access tokens stop working; /metrics shows each app's usage series, and a
// restart keeps them. Other loopback addresses (127.0.0.2, ...) are other clients to the server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  startServer, tokenRequest, assertOAuthError, assertTokenOk, Browser, authorizeUrl, basicAuth, findForm, pageText,
  unescapeHtml, parseAttrs,
} from './lib/server.mjs';
import { api, userTokens, WEBAPI_ENV, sleep, assertInvalidToken } from './lib/webapi.mjs';

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

// POST /api/token from another loopback address (`from`, e.g. 127.0.0.2): to the server, a
// client on another machine.
async function tokenRequestFrom(server, from, params, basic) {
  const dispatcher = new Agent({ localAddress: from });
  try {
    const res = await undiciFetch(new URL('/api/token', server.url), {
      method: 'POST',
      dispatcher,
      headers: { authorization: basicAuth(...basic), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  } finally {
    await dispatcher.close();
  }
}

async function guessSecretsFrom(server, from, app) {
  for (let i = 0; i < GUESSES; i++) {
    const r = await tokenRequestFrom(server, from, { grant_type: 'client_credentials' }, [app.client_id, `sps_wrong-guess-${i}`]);
    assertOAuthError(r, 'invalid_client', 401);
  }
}

// An app created by a signed-in person on the dashboard: {client_id, client_secret, browser}.
// The secret is read from the page that shows it (the answer to the POST, or the page it
// redirects to).
async function dashboardApp(server, person, name) {
  await server.createUser(person);
  const browser = new Browser(server);
  assert.equal((await browser.login(person.email, person.password)).status, 303, browser.traceText());
  const form = await browser.get('/developer/apps/new');
  let page = await browser.submit(form, findForm(form.text, form.url, '/developer/apps/new'), {
    name, description: '', redirect_uris: REDIRECT, web_origins: '', type: 'confidential', 'scope:user-read-email': 'on',
  });
  if (page.status === 303) page = await browser.get(page.location.pathname + page.location.search);
  assert.equal(page.status, 200, `create: ${page.status} ${pageText(page.text).slice(0, 600)}`);
  const id = page.text.match(/<code id="client-id">([^<]*)<\/code>/)?.[1];
  const input = page.text.match(/<input\b(?=[^>]*\bid="client-secret")([^>]*)>/);
  assert.ok(id && input, 'the new app page shows its id and secret');
  return { client_id: unescapeHtml(id), client_secret: parseAttrs(input[1]).value, browser };
}

// The warnings the app's page shows its owner: [{type, detail}].
async function ownerWarnings(app) {
  const page = await app.browser.get(`/developer/app?id=${encodeURIComponent(app.client_id)}`);
  assert.equal(page.status, 200);
  const list = page.text.match(/<ul class="events warnings">([\s\S]*?)<\/ul>/)?.[1] ?? '';
  return [...list.matchAll(/<code>([^<]*)<\/code> <span class="aside">([^<]*)<\/span>/g)]
    .map((m) => ({ type: m[1], detail: unescapeHtml(m[2]) }));
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

describe('secret guessing with the automatic action on: the source is refused, the app is not touched', () => {
  const WINDOW = 8; // seconds: STAGEPASS_ABUSE_INVALID_CLIENT_WINDOW, so the block ends within the test
  let server;
  let victim;
  before(async () => {
    server = await startServer({
      label: 'sp-abuse-block',
      env: { ...WEBAPI_ENV, STAGEPASS_ABUSE_INVALID_CLIENT_BLOCK: 'on', STAGEPASS_ABUSE_INVALID_CLIENT_WINDOW: String(WINDOW) },
    });
    victim = await dashboardApp(server, { email: 'owner@example.com', displayName: 'Olive', password: 'owner-password-123' }, 'Victim App');
  });
  after(async () => { await server?.stop(); });

  it('an attacker sending wrong secrets under a victim app\'s public id gets itself refused, never the app suspended', async () => {
    const right = [victim.client_id, victim.client_secret];
    const cc = { grant_type: 'client_credentials' };
    const before = assertTokenOk(await tokenRequestFrom(server, '127.0.0.9', cc, right), 'the victim backend, before');
    await guessSecretsFrom(server, '127.0.0.2', victim);
    // The guessing address is refused before any secret is checked, even the right one.
    const refused = await tokenRequestFrom(server, '127.0.0.2', cc, right);
    assertOAuthError(refused, 'slow_down', 429);
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= WINDOW, `Retry-After ${refused.headers.get('retry-after')}`);
    assert.match(refused.json.error_description, /too many failed client authentications from this address/);
    // The app works from its own backend's address, its token too, and it is not suspended.
    assertTokenOk(await tokenRequestFrom(server, '127.0.0.9', cc, right), 'the victim backend, during the attack');
    assert.notEqual((await api(server, before.access_token, 'GET', '/tracks/x')).status, 401);
    assert.equal((await server.adminJson(['client', 'show', victim.client_id])).suspended_at, undefined);
    // The operator sees the finding with the source; the owner sees a warning.
    const found = await eventually('abuse_secret_guessing in `admin events`', async () =>
      (await events(server)).find((e) => e.type === 'abuse_secret_guessing'));
    assert.equal(found.client_id, victim.client_id);
    assert.equal(found.ip, '127.0.0.2');
    assert.doesNotMatch(JSON.stringify(found), /wrong-guess/, 'no guessed secret in the event');
    assert.ok(!(await events(server)).some((e) => e.type === 'client_suspended'));
    const warned = await eventually('the owner\'s warning', async () => {
      const w = await ownerWarnings(victim);
      return w.length ? w : null;
    });
    assert.deepEqual(warned.map((w) => w.type), ['abuse_secret_guessing']);
    assert.doesNotMatch(warned[0].detail, /127\.0\.0\.2|wrong-guess/);
    // When its window ends, the address may try again.
    await eventually('the block lifted', async () =>
      (await tokenRequestFrom(server, '127.0.0.2', cc, right)).status === 200);
  });

  it('more guessing addresses add no warning: one per app and kind per hour', async () => {
    for (const from of ['127.0.0.3', '127.0.0.4']) {
      await guessSecretsFrom(server, from, victim);
      assertOAuthError(await tokenRequestFrom(server, from, { grant_type: 'client_credentials' }, [victim.client_id, 'x']), 'slow_down', 429);
    }
    // A guess under an id that is no app: recorded without an id (it is the guesser's text).
    const ghost = { client_id: `no-such-app-${'é'.repeat(80)}` };
    await guessSecretsFrom(server, '127.0.0.5', ghost);
    await eventually('the last source handled', async () => (await events(server)).some((e) => e.ip === '127.0.0.5'));
    const guessing = (await events(server)).filter((e) => e.type === 'abuse_secret_guessing');
    assert.equal(guessing.filter((e) => e.client_id === victim.client_id).length, 1, JSON.stringify(guessing));
    const ghostEvent = guessing.find((e) => e.ip === '127.0.0.5');
    assert.equal(ghostEvent.client_id, '', 'an id that is no app is not recorded');
    assert.deepEqual((await ownerWarnings(victim)).map((w) => w.type), ['abuse_secret_guessing']);
    assert.equal((await server.adminJson(['client', 'show', victim.client_id])).suspended_at, undefined);
  });
});

describe('suspension by an operator', () => {
  let server;
  let app;
  let user;
  before(async () => {
    server = await startServer({ label: 'sp-abuse-suspend', env: WEBAPI_ENV });
    user = await server.createUser(USER);
    app = await server.createClient({ name: 'Suspended App', redirectUris: [REDIRECT] });
  });
  after(async () => { await server?.stop(); });

  it('suspends the app: invalid_client with the reason, and its access tokens stop working', async () => {
    const t = await userTokens(server, { client: app, user: { ...USER, id: user.id }, scope: 'user-read-email' });
    assert.equal((await api(server, t.access_token, 'GET', '/me')).status, 200);
    const s = await server.adminJson(['client', 'suspend', '--client-id', app.client_id, '--reason', 'leaked refresh tokens']);
    assert.equal(s.suspended, true);
    const refused = await tokenRequest(server, { grant_type: 'client_credentials' },
      { basic: [app.client_id, app.client_secret] });
    assertOAuthError(refused, 'invalid_client', 401);
    assert.equal(refused.json.error_description, 'this app is suspended: leaked refresh tokens');
    // RFC 6749 §5.2: the client used the Authorization header, so the 401 names the scheme.
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic/);
    // The refresh token too (same client authentication), and the access token everywhere.
    assertOAuthError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t.refresh_token },
      { basic: [app.client_id, app.client_secret] }), 'invalid_client', 401);
    await eventually('the access token refused', async () =>
      (await api(server, t.access_token, 'GET', '/me')).status === 401);
    const types = (await events(server)).map((e) => e.type);
    assert.ok(types.includes('client_suspended'), JSON.stringify(types));
    const shown = await server.adminJson(['client', 'show', app.client_id]);
    assert.ok(shown.suspended_at > 0);
    assert.equal(shown.suspended_reason, 'leaked refresh tokens');
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
  // issue15-fix:suspension. The refusal of the tokens issued before a suspension is durable:
  // lifting it, then restarting the server, never brings them back; new tokens work at once.
  it('a lifted suspension never brings back the tokens it refused, after a restart too', async () => {
    const basic = { basic: [app.client_id, app.client_secret] };
    await server.adminJson(['client', 'unsuspend', '--client-id', app.client_id]);
    const old = assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, basic));
    assert.equal((await api(server, old.access_token, 'GET', '/tracks/x')).status === 401, false);
    await server.adminJson(['client', 'suspend', '--client-id', app.client_id, '--reason', 'leak']);
    await eventually('the token refused while suspended', async () =>
      (await api(server, old.access_token, 'GET', '/tracks/x')).status === 401);
    await server.adminJson(['client', 'unsuspend', '--client-id', app.client_id]);
    // A token minted right after the suspension is lifted works at once.
    const fresh = assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, basic));
    assert.notEqual((await api(server, fresh.access_token, 'GET', '/tracks/x')).status, 401);
    assertInvalidToken(await api(server, old.access_token, 'GET', '/tracks/x'), 'lifted, same process');
    await server.restart();
    assertInvalidToken(await api(server, old.access_token, 'GET', '/tracks/x'), 'lifted, after a restart');
    assert.notEqual((await api(server, fresh.access_token, 'GET', '/tracks/x')).status, 401);
  });
});
