// Clear reasons on the wire (issue 15), over real HTTP against the real server:
//  - a refused bearer token says why in WWW-Authenticate (RFC 6750 §3: error="invalid_token",
//    error_description="expired" | "revoked" | "malformed" | "wrong audience" | ...), the body
//    staying Spotify's error object;
//  - a 429 names its reason inside Spotify's error object ("RATE_LIMITED" for the app's rolling
//    30 s limit, "QUOTA_EXCEEDED" for the daily quota) with Retry-After;
//  - calls cost limit units by the work they do: heavy searches spend an app's limit in
//    proportionally fewer calls than cheap reads.
// Every token here comes from a real server's token endpoint; none is minted by the test.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, basicAuth, findForm } from './lib/server.mjs';
import {
  REDIRECT, WEBAPI_ENV, sleep, api, describeCall, expectOk, assertApiError, assertInvalidToken, clientToken,
  userSession, createRateLimitedClient,
} from './lib/webapi.mjs';

const REMOVE = '/account/apps/remove';

/** The parameters of a `WWW-Authenticate: Bearer k="v", ...` challenge. */
function challenge(r) {
  const wa = r.headers.get('www-authenticate') ?? '';
  assert.match(wa, /^Bearer /, describeCall(r));
  const params = {};
  for (const m of wa.slice(7).matchAll(/([a-z_]+)="([^"]*)"/g)) params[m[1]] = m[2];
  return params;
}

/** 401 invalid_token whose error_description is exactly `reason`. */
function assertRefusedBecause(r, reason) {
  assertInvalidToken(r, reason);
  const p = challenge(r);
  assert.equal(p.realm, 'stagepass', describeCall(r));
  assert.equal(p.error_description, reason, describeCall(r));
}

/** Spotify's 429: {"error":{"status":429,"message","reason"}} with integer Retry-After in [1, max]. */
function assert429(r, reason, maxRetryAfter) {
  const e = assertApiError(r, 429);
  assert.equal(e.reason, reason, describeCall(r));
  assert.deepEqual(Object.keys(e).sort(), ['message', 'reason', 'status'], describeCall(r));
  const ra = r.headers.get('retry-after');
  assert.match(ra ?? '', /^\d+$/, `Retry-After must be integer seconds: ${describeCall(r)}`);
  assert.ok(Number(ra) >= 1 && Number(ra) <= maxRetryAfter, `Retry-After ${ra} not in [1, ${maxRetryAfter}]`);
  return Number(ra);
}

describe('a refused bearer token says why (RFC 6750 §3 error_description)', () => {
  let server;
  let apiNode; // --roles api for another audience, trusting the same issuer
  let app;
  before(async () => {
    server = await startServer({ label: 'sp-reasons', env: WEBAPI_ENV, timeoutMs: 30000 });
    app = await server.createClient({ name: 'Reasons', redirectUris: [REDIRECT] });
    apiNode = await startServer({
      label: 'sp-reasons-aud',
      args: ['--roles', 'api', '--issuer', server.issuer],
      env: { ...WEBAPI_ENV, STAGEPASS_MUSIC_DATABASE: path.join(server.tmpdir, 'music.db'), STAGEPASS_AUDIENCE: 'https://another-api.example/v1' },
      timeoutMs: 30000,
    });
  });
  after(async () => {
    await apiNode?.stop();
    await server?.stop();
  });

  it('malformed: something that is not a JWS', async () => {
    for (const token of ['not-a-token', 'a.b', 'a.b.c.d', 'eyJhbGciOiJub25lIn0.e30.']) {
      const r = await api(server, token, 'GET', '/tracks/0000000000000000000000');
      assertRefusedBecause(r, 'malformed');
      assert.equal(r.json.error.message, 'Invalid access token', describeCall(r));
    }
  });

  it('bad signature: a real token whose signature belongs to another', async () => {
    const a = await clientToken(server, app);
    const b = await clientToken(server, app);
    const spliced = a.slice(0, a.lastIndexOf('.')) + b.slice(b.lastIndexOf('.'));
    assertRefusedBecause(await api(server, spliced, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 'bad signature');
  });

  it('revoked: an access token the app revoked (RFC 7009)', async () => {
    const token = await clientToken(server, app);
    expectOk(await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
    const res = await fetch(`${server.url}/api/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(app.client_id, app.client_secret) },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    assert.equal(res.status, 200, await res.text());
    const r = await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } });
    assertRefusedBecause(r, 'revoked');
    assert.equal(r.json.error.message, 'The access token has been revoked');
  });

  it('revoked: a user token after the person removed the app', async () => {
    const s = await userSession(server, app, { email: 'rae@example.com', displayName: 'Rae' });
    const token = await s.tokenFor(['user-read-private']);
    expectOk(await api(server, token, 'GET', '/me'), 200);
    // Account → Apps → Remove, then confirm, as the person would.
    const page = await s.browser.get('/account/apps');
    const confirm = await s.browser.submit(page, findForm(page.text, page.url, REMOVE));
    assert.equal(confirm.status, 200, confirm.text.slice(0, 300));
    const done = await s.browser.submit(confirm, findForm(confirm.text, confirm.url, REMOVE));
    assert.equal(done.status, 303, done.text.slice(0, 300));
    assertRefusedBecause(await api(server, token, 'GET', '/me'), 'revoked');
  });

  it('wrong audience: a real token presented to a resource server for another API', async () => {
    const token = await clientToken(server, app);
    expectOk(await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
    // apiNode trusts the same issuer and fetched its keys, but serves https://another-api.example/v1.
    assertRefusedBecause(await api(apiNode, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 'wrong audience');
  });

  it('user token required: a client-credentials token on a user route', async () => {
    const r = await api(server, await clientToken(server, app), 'GET', '/me');
    assertRefusedBecause(r, 'user token required');
    assert.equal(r.json.error.message, 'Valid user authentication required');
  });

  it('no token: a bare challenge without error or description (RFC 6750 §3.1)', async () => {
    const r = await api(server, undefined, 'GET', '/me');
    assertApiError(r, 401);
    assert.deepEqual(challenge(r), { realm: 'stagepass' }, describeCall(r));
  });
});

describe('an expired token says "expired" (STAGEPASS_ACCESS_TOKEN_TTL=1, STAGEPASS_CLOCK_SKEW=0)', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-reasons-exp', env: { ...WEBAPI_ENV, STAGEPASS_ACCESS_TOKEN_TTL: '1', STAGEPASS_CLOCK_SKEW: '0' }, timeoutMs: 30000 });
  });
  after(async () => { await server?.stop(); });

  it('expired', async () => {
    const app = await server.createClient({ name: 'Short', redirectUris: [REDIRECT] });
    const token = await clientToken(server, app);
    await sleep(2500);
    const r = await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } });
    assertRefusedBecause(r, 'expired');
    assert.equal(r.json.error.message, 'The access token expired');
  });
});

describe('429 reasons: RATE_LIMITED and QUOTA_EXCEEDED', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-reasons-429', env: { ...WEBAPI_ENV, STAGEPASS_API_DAILY_QUOTA: '40' }, timeoutMs: 30000 });
  });
  after(async () => { await server?.stop(); });

  const read = (token, id) => api(server, token, 'GET', `/tracks/${id}`);

  it('an app created with --rate-limit 3 gets 429 RATE_LIMITED with Retry-After on its 4th call', async () => {
    const app = await createRateLimitedClient(server, { name: 'Low Limit', rateLimit: 3 });
    const token = await clientToken(server, app);
    const id = expectOk(await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200).artists.items[0].id;
    expectOk(await api(server, token, 'GET', `/artists/${id}`), 200);
    expectOk(await api(server, token, 'GET', `/artists/${id}`), 200);
    const r = await api(server, token, 'GET', `/artists/${id}`);
    assert429(r, 'RATE_LIMITED', 30);
    assert.equal(r.json.error.message, 'API rate limit exceeded');
    assert.match(r.headers.get('access-control-expose-headers') ?? '', /Retry-After/i);
  });

  it('past STAGEPASS_API_DAILY_QUOTA=40 units an app gets 429 QUOTA_EXCEEDED, another app is untouched', async () => {
    const app = await server.createClient({ name: 'Quota', redirectUris: [REDIRECT] });
    const token = await clientToken(server, app);
    const id = expectOk(await api(server, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200).artists.items[0].id;
    let calls = 1;
    let r;
    for (; calls < 60; calls++) {
      r = await api(server, token, 'GET', `/artists/${id}`);
      if (r.status !== 200) break;
    }
    assert.ok(calls <= 40, `refused after ${calls} calls of at least one unit each`);
    // The window is 24 h in one-hour steps: the first units leave when the 24th hour after them begins.
    const wait = assert429(r, 'QUOTA_EXCEEDED', 24 * 3600);
    assert.ok(wait > 30, `a spent day is not a 30 s wait: Retry-After ${wait}`);
    assert.equal(r.json.error.message, 'API daily quota exceeded');
    const other = await clientToken(server, await server.createClient({ name: 'Other', redirectUris: [REDIRECT] }));
    expectOk(await api(server, other, 'GET', `/artists/${id}`), 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`stagepass_api_quota_exceeded_total\\{client_id="${app.client_id}"\\} 1`));
  });
});

describe('call costs: heavy searches spend the limit in proportionally fewer calls', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-reasons-cost', env: { ...WEBAPI_ENV, STAGEPASS_API_DAILY_QUOTA: '0' }, timeoutMs: 30000 });
  });
  after(async () => { await server?.stop(); });

  /** Calls `path` with a fresh app limited to `limit` units per 30 s until the first 429. */
  async function callsUntil429(limit, path, query) {
    const app = await createRateLimitedClient(server, { name: `Limit ${path}`, rateLimit: limit });
    const token = await clientToken(server, app);
    let last;
    for (let n = 0; n <= limit; n++) {
      last = await api(server, token, 'GET', path, { query });
      if (last.status === 429) {
        assert429(last, 'RATE_LIMITED', 30);
        return { admitted: n };
      }
      expectOk(last, 200);
    }
    assert.fail(`no 429 within ${limit + 1} calls of ${path}: ${describeCall(last)}`);
  }

  it('a search matching every track whose name has a word starting with "s" vs a track read', async (t) => {
    const LIMIT = 300;
    const probe = await clientToken(server, await server.createClient({ name: 'Probe', redirectUris: [REDIRECT] }));
    const heavy = { q: 's', type: 'track' };
    const found = expectOk(await api(server, probe, 'GET', '/search', { query: heavy }), 200).tracks;
    const trackId = found.items[0].id;
    // docs/operations.md: a search costs 1 + matches/20 + postings/200 units; so at least 1 + matches/20.
    const atLeast = 1 + Math.floor(found.total / 20);
    assert.ok(atLeast >= 10, `the heavy search should match hundreds of tracks (total ${found.total})`);
    const reads = await callsUntil429(LIMIT, `/tracks/${trackId}`);
    const searches = await callsUntil429(LIMIT, '/search', heavy);
    t.diagnostic(`limit ${LIMIT} units / 30 s: ${reads.admitted} track reads, ${searches.admitted} searches (${found.total} matches)`);
    assert.equal(reads.admitted, LIMIT, 'a track read costs one unit');
    // Admitted while a unit is left, each then charged its full cost: ceil(LIMIT / cost) calls.
    assert.ok(searches.admitted <= Math.ceil(LIMIT / atLeast), `${searches.admitted} searches admitted; each costs ≥ ${atLeast} units`);
    assert.ok(searches.admitted >= 1);
  });
});
