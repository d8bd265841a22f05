// Web API (/v1) access control over real HTTP: every scope refusal (403 + RFC 6750 header),
// client-credentials tokens on user routes (401), bearer token checks, revocation (code
// replay, refresh-token reuse, client deletion), expiry, CORS and per-app rate limits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, authorizeInBrowser, tokenRequest, pkcePair, randomState, assertOAuthError, assertTokenOk,
} from './lib/server.mjs';
import {
  ALL_SCOPES, REDIRECT, WEBAPI_ENV, sleep, api, describeCall, expectOk, assertApiError, assertInvalidToken,
  assertInsufficientScope, clientToken, userSession, discoverCatalog, createRateLimitedClient,
} from './lib/webapi.mjs';

const without = (scope) => ALL_SCOPES.filter((s) => s !== scope);

describe('Web API access control', () => {
  let server;
  let client;
  let alice;
  let cc;
  let cat;
  let full;
  let pub; // alice's public playlist (with one track)
  let priv; // alice's private playlist (with one track)

  before(async () => {
    server = await startServer({ label: 'sp-webapi-auth', env: WEBAPI_ENV, timeoutMs: 30000 });
    client = await server.createClient({ name: 'Web Player', redirectUris: [REDIRECT], webOrigins: ['https://player.example'] });
    alice = await userSession(server, client, { email: 'alice@example.com', displayName: 'Alice Example' });
    cc = await clientToken(server, client);
    cat = await discoverCatalog(server, cc, { want: 3 });
    full = await alice.tokenFor(ALL_SCOPES);
    const mk = async (isPublic) => {
      const p = expectOk(await api(server, full, 'POST', `/users/${alice.user.id}/playlists`, { body: { name: isPublic ? 'Open' : 'Closed', public: isPublic } }), 201);
      expectOk(await api(server, full, 'POST', `/playlists/${p.id}/tracks`, { body: { uris: [`stagepass:track:${cat.tracks[0].id}`] } }), 201);
      return p;
    };
    pub = await mk(true);
    priv = await mk(false);
  });
  after(async () => { await server?.stop(); });

  const tr = () => cat.tracks[1].id;
  const ar = () => cat.artists[0].id;
  const uri = () => `stagepass:track:${cat.tracks[1].id}`;

  /** [method, path, {query, body}, needed scope] — one request per route of the scope table. */
  const scopeTable = () => [
    ['GET', '/me/tracks', {}, 'user-library-read'],
    ['GET', '/me/tracks/contains', { query: { ids: tr() } }, 'user-library-read'],
    ['PUT', '/me/tracks', { query: { ids: tr() } }, 'user-library-modify'],
    ['DELETE', '/me/tracks', { query: { ids: tr() } }, 'user-library-modify'],
    ['GET', '/me/playlists', {}, 'playlist-read-private'],
    ['POST', `/users/${alice.user.id}/playlists`, { body: { name: 'Public one', public: true } }, 'playlist-modify-public'],
    ['POST', `/users/${alice.user.id}/playlists`, { body: { name: 'Private one', public: false } }, 'playlist-modify-private'],
    ['POST', `/playlists/${pub.id}/tracks`, { body: { uris: [uri()] } }, 'playlist-modify-public'],
    ['PUT', `/playlists/${pub.id}/tracks`, { body: { range_start: 0, insert_before: 1 } }, 'playlist-modify-public'],
    ['PUT', `/playlists/${pub.id}/tracks`, { body: { uris: [uri()] } }, 'playlist-modify-public'],
    ['DELETE', `/playlists/${pub.id}/tracks`, { body: { tracks: [{ uri: uri() }] } }, 'playlist-modify-public'],
    ['PUT', `/playlists/${pub.id}`, { body: { name: 'Renamed' } }, 'playlist-modify-public'],
    ['POST', `/playlists/${priv.id}/tracks`, { body: { uris: [uri()] } }, 'playlist-modify-private'],
    ['PUT', `/playlists/${priv.id}/tracks`, { body: { range_start: 0, insert_before: 1 } }, 'playlist-modify-private'],
    ['PUT', `/playlists/${priv.id}/tracks`, { body: { uris: [uri()] } }, 'playlist-modify-private'],
    ['DELETE', `/playlists/${priv.id}/tracks`, { body: { tracks: [{ uri: uri() }] } }, 'playlist-modify-private'],
    ['PUT', `/playlists/${priv.id}`, { body: { name: 'Renamed' } }, 'playlist-modify-private'],
    ['GET', '/me/player', {}, 'user-read-playback-state'],
    ['GET', '/me/player/devices', {}, 'user-read-playback-state'],
    // Spotify: "user-read-currently-playing and/or user-read-playback-state" - either one suffices.
    ['GET', '/me/player/currently-playing', { drop: ['user-read-playback-state'] }, 'user-read-currently-playing'],
    ['PUT', '/me/player', { body: { device_ids: ['some-device'] } }, 'user-modify-playback-state'],
    ['PUT', '/me/player/play', { body: { uris: [uri()] } }, 'user-modify-playback-state'],
    ['PUT', '/me/player/pause', {}, 'user-modify-playback-state'],
    ['POST', '/me/player/next', {}, 'user-modify-playback-state'],
    ['POST', '/me/player/previous', {}, 'user-modify-playback-state'],
    ['PUT', '/me/player/volume', { query: { volume_percent: 50 } }, 'user-modify-playback-state'],
    ['PUT', '/me/player/shuffle', { query: { state: 'true' } }, 'user-modify-playback-state'],
    ['PUT', '/me/player/repeat', { query: { state: 'context' } }, 'user-modify-playback-state'],
    ['PUT', '/me/player/seek', { query: { position_ms: 1000 } }, 'user-modify-playback-state'],
    ['POST', '/me/player/queue', { query: { uri: uri() } }, 'user-modify-playback-state'],
    ['GET', '/me/following', { query: { type: 'artist' } }, 'user-follow-read'],
    ['GET', '/me/following/contains', { query: { type: 'artist', ids: ar() } }, 'user-follow-read'],
    ['PUT', '/me/following', { query: { type: 'artist', ids: ar() } }, 'user-follow-modify'],
    ['DELETE', '/me/following', { query: { type: 'artist', ids: ar() } }, 'user-follow-modify'],
    ['GET', '/me/top/artists', {}, 'user-top-read'],
    ['GET', '/me/top/tracks', {}, 'user-top-read'],
    ['GET', '/me/player/recently-played', {}, 'user-read-recently-played'],
  ];

  describe('scope refusals (403, WWW-Authenticate error="insufficient_scope", scope=)', () => {
    // The table is built from ids known only after before(); the titles are fixed here.
    const titles = [
      'GET /me/tracks', 'GET /me/tracks/contains', 'PUT /me/tracks', 'DELETE /me/tracks', 'GET /me/playlists',
      'POST /users/{me}/playlists public', 'POST /users/{me}/playlists private',
      'POST /playlists/{public}/tracks', 'PUT /playlists/{public}/tracks (reorder)', 'PUT /playlists/{public}/tracks (replace)',
      'DELETE /playlists/{public}/tracks', 'PUT /playlists/{public}',
      'POST /playlists/{private}/tracks', 'PUT /playlists/{private}/tracks (reorder)', 'PUT /playlists/{private}/tracks (replace)',
      'DELETE /playlists/{private}/tracks', 'PUT /playlists/{private}',
      'GET /me/player', 'GET /me/player/devices', 'GET /me/player/currently-playing', 'PUT /me/player (transfer)',
      'PUT /me/player/play', 'PUT /me/player/pause', 'POST /me/player/next', 'POST /me/player/previous',
      'PUT /me/player/volume', 'PUT /me/player/shuffle', 'PUT /me/player/repeat', 'PUT /me/player/seek', 'POST /me/player/queue',
      'GET /me/following', 'GET /me/following/contains', 'PUT /me/following', 'DELETE /me/following',
      'GET /me/top/artists', 'GET /me/top/tracks', 'GET /me/player/recently-played',
    ];
    titles.forEach((title, i) => {
      it(`${title}: refused without its scope`, async () => {
        const [method, path, { drop = [], ...opts }, needed] = scopeTable()[i];
        const tok = await alice.tokenFor(without(needed).filter((s) => !drop.includes(s)));
        const r = await api(server, tok, method, path, opts);
        assertInsufficientScope(r, needed);
      });
    });

    it('GET /me/player/currently-playing: user-read-playback-state alone is enough (Spotify\'s and/or)', async () => {
      const tok = await alice.tokenFor(ALL_SCOPES.filter((s) => s !== 'user-read-currently-playing'));
      const r = await api(server, tok, 'GET', '/me/player/currently-playing');
      // Allowed, and alice (created with the admin CLI) has no device: nothing is playing.
      assert.equal(r.status, 204, describeCall(r));
      assert.equal(r.text, '');
    });

    it('GET /me/player/currently-playing: refused without both playback-read scopes', async () => {
      const tok = await alice.tokenFor(ALL_SCOPES.filter((s) => s !== 'user-read-currently-playing' && s !== 'user-read-playback-state'));
      assertInsufficientScope(await api(server, tok, 'GET', '/me/player/currently-playing'), 'user-read-currently-playing');
    });

    it('a refused write changes nothing', async () => {
      const before = expectOk(await api(server, full, 'GET', `/playlists/${pub.id}`), 200);
      const tok = await alice.tokenFor(without('playlist-modify-public'));
      assertInsufficientScope(await api(server, tok, 'POST', `/playlists/${pub.id}/tracks`, { body: { uris: [uri()] } }), 'playlist-modify-public');
      const afterwards = expectOk(await api(server, full, 'GET', `/playlists/${pub.id}`), 200);
      assert.equal(afterwards.snapshot_id, before.snapshot_id);
      assert.equal(afterwards.tracks.total, before.tracks.total);
      const lib = await alice.tokenFor(without('user-library-modify'));
      assertInsufficientScope(await api(server, lib, 'PUT', '/me/tracks', { query: { ids: tr() } }), 'user-library-modify');
      assert.deepEqual(expectOk(await api(server, full, 'GET', '/me/tracks/contains', { query: { ids: tr() } }), 200), [false]);
    });
  });

  describe('client-credentials tokens on user routes', () => {
    const userRoutes = [
      ['GET', '/me'], ['GET', '/me/tracks'], ['GET', '/me/tracks/contains?ids=ID'], ['PUT', '/me/tracks?ids=ID'],
      ['DELETE', '/me/tracks?ids=ID'], ['GET', '/me/playlists'], ['POST', '/users/ME/playlists'],
      ['GET', '/me/player'], ['GET', '/me/player/devices'], ['GET', '/me/player/currently-playing'],
      ['PUT', '/me/player/pause'], ['POST', '/me/player/next'], ['GET', '/me/following?type=artist'],
      ['PUT', '/me/following?type=artist&ids=AR'], ['GET', '/me/top/tracks'], ['GET', '/me/player/recently-played'],
    ];
    for (const [method, path] of userRoutes) {
      it(`${method} ${path} → 401 "Valid user authentication required"`, async () => {
        const p = path.replace('ID', tr()).replace('ME', alice.user.id).replace('AR', ar());
        const body = method === 'POST' && p.endsWith('/playlists') ? { name: 'Robot list', public: false } : undefined;
        const r = await api(server, cc, method, p, { body });
        assertApiError(r, 401, { message: 'Valid user authentication required' });
      });
    }

    it('catalog routes accept client-credentials tokens', async () => {
      expectOk(await api(server, cc, 'GET', '/search', { query: { q: 'a', type: 'track' } }), 200);
      expectOk(await api(server, cc, 'GET', `/tracks/${tr()}`), 200);
      expectOk(await api(server, cc, 'GET', `/artists/${ar()}`), 200);
      expectOk(await api(server, cc, 'GET', `/playlists/${pub.id}`), 200);
    });
  });

  describe('bearer token checks', () => {
    it('missing token → 401 with WWW-Authenticate: Bearer and the error object', async () => {
      for (const path of ['/me', '/search?q=a&type=track', `/tracks/${tr()}`]) {
        const r = await api(server, undefined, 'GET', path);
        assertApiError(r, 401);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer\b/i, describeCall(r));
      }
    });

    it('a token in the query (?access_token=) is refused with 400 invalid_request', async () => {
      // RFC 6750 §2.3 allows it, RFC 9700 §4.3.2 advises against it: the gateway refuses it.
      for (const path of ['/me', '/search']) {
        const r = await api(server, undefined, 'GET', path, { query: { access_token: full, q: 'a', type: 'track' } });
        assertApiError(r, 400);
        assert.match(r.headers.get('www-authenticate') ?? '', /\berror="invalid_request"/, describeCall(r));
      }
    });

    it('a token in a form body is not read: 401 as without a token, and nothing changes', async () => {
      const r = await api(server, undefined, 'PUT', '/me/tracks', { query: { ids: tr() }, body: `access_token=${full}`, contentType: 'application/x-www-form-urlencoded' });
      assertApiError(r, 401, { message: 'No token provided' });
      assert.deepEqual(expectOk(await api(server, full, 'GET', '/me/tracks/contains', { query: { ids: tr() } }), 200), [false]);
    });

    it('other schemes and malformed tokens → 401 invalid_token', async () => {
      const bad = [
        ['garbage', 'not-a-token'],
        ['three junk parts', 'aaa.bbb.ccc'],
        ['tampered payload', (() => {
          const [h, p, s] = full.split('.');
          const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
          payload.sub = 'someone-else';
          return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
        })()],
        ['tampered signature', (() => {
          const [h, p, s] = full.split('.');
          const sig = Buffer.from(s, 'base64url');
          sig[0] ^= 0xff;
          return `${h}.${p}.${sig.toString('base64url')}`;
        })()],
        ['alg none', (() => {
          const [, p] = full.split('.');
          return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
        })()],
      ];
      for (const [what, token] of bad) {
        const r = await api(server, token, 'GET', '/me');
        assertInvalidToken(r, what);
      }
      const basic = await api(server, undefined, 'GET', '/me', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
      assertApiError(basic, 401);
      assert.match(basic.headers.get('www-authenticate') ?? '', /^Bearer\b/i, describeCall(basic));
    });

    it('a refresh token or client secret is not an access token', async () => {
      const t = await freshGrant();
      assertInvalidToken(await api(server, t.refresh_token, 'GET', '/me'), 'refresh token as bearer');
      assertInvalidToken(await api(server, client.client_secret, 'GET', '/me'), 'client secret as bearer');
    });
  });

  /** A new code flow for alice (consent remembered) → token response. */
  async function codeAndVerifier(scope = 'user-read-private') {
    const pk = pkcePair();
    const auth = await authorizeInBrowser({
      server, browser: alice.browser, clientId: client.client_id, redirectUri: REDIRECT, scope,
      state: randomState(), codeChallenge: pk.challenge, email: alice.user.email, password: alice.user.password,
    });
    assert.equal(auth.stoppedAt, 'redirect', alice.browser.traceText());
    return { code: auth.code, verifier: pk.verifier };
  }
  const exchange = ({ code, verifier }) => tokenRequest(server, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { basic: [client.client_id, client.client_secret] });
  async function freshGrant(scope) {
    return assertTokenOk(await exchange(await codeAndVerifier(scope)));
  }

  describe('revocation reaches the Web API at once', () => {
    it('code replay: the first exchange\'s access token is refused on the very next call', async () => {
      const cv = await codeAndVerifier();
      const first = assertTokenOk(await exchange(cv));
      expectOk(await api(server, first.access_token, 'GET', '/me'), 200);
      assertOAuthError(await exchange(cv), 'invalid_grant');
      assertInvalidToken(await api(server, first.access_token, 'GET', '/me'), 'access token of a replayed code');
    });

    it('refresh-token reuse: every access token of the grant is refused', async () => {
      const t1 = await freshGrant();
      const r2 = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t1.refresh_token }, { basic: [client.client_id, client.client_secret] });
      const t2 = assertTokenOk(r2, 'rotation');
      const t3 = assertTokenOk(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t2.refresh_token }, { basic: [client.client_id, client.client_secret] }), 'second rotation');
      expectOk(await api(server, t1.access_token, 'GET', '/me'), 200);
      expectOk(await api(server, t3.access_token, 'GET', '/me'), 200);
      // RT1 again after its successor was used (inside the grace window a lone retry of RT1
      // would be answered): reuse.
      const reuse = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t1.refresh_token }, { basic: [client.client_id, client.client_secret] });
      assertOAuthError(reuse, 'invalid_grant');
      assertInvalidToken(await api(server, t1.access_token, 'GET', '/me'), 'AT1 after RT1 reuse');
      assertInvalidToken(await api(server, t3.access_token, 'GET', '/me'), 'AT3 after RT1 reuse');
      assertOAuthError(await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: t3.refresh_token }, { basic: [client.client_id, client.client_secret] }), 'invalid_grant');
    });

    /** Deletes `doomed` with the admin CLI, then waits (≤ 5 s) until `token` gets 401 on `path`. */
    async function deleteAndWait(doomed, token, path) {
      const del = await server.run(['admin', 'client', 'delete', doomed.client_id]);
      assert.equal(del.code, 0, del.stderr);
      // The CLI is another process: the server learns of it by polling the store (every
      // second), so a short, bounded delay is allowed here — unlike the in-server revocations.
      const t0 = Date.now();
      let r;
      do {
        r = await api(server, token, 'GET', path);
        if (r.status === 401) break;
        await sleep(100);
      } while (Date.now() - t0 < 5000);
      return { r, waited: Date.now() - t0 };
    }

    it('deleting the client (admin CLI) refuses its users\' tokens within seconds', async () => {
      const doomed = await server.createClient({ name: 'Doomed', redirectUris: [REDIRECT] });
      const s = await userSession(server, doomed, { email: 'carol@example.com', displayName: 'Carol' });
      const ut = await s.tokenFor(['user-read-private']);
      expectOk(await api(server, ut, 'GET', '/me'), 200);
      const { r, waited } = await deleteAndWait(doomed, ut, '/me');
      assertInvalidToken(r, `user token of a deleted client (waited ${waited} ms)`);
    });

    it('deleting the client (admin CLI) refuses its client-credentials tokens within seconds', async () => {
      const doomed = await server.createClient({ name: 'Doomed Backend', redirectUris: [REDIRECT] });
      const ct = await clientToken(server, doomed);
      expectOk(await api(server, ct, 'GET', `/tracks/${tr()}`), 200);
      const { r, waited } = await deleteAndWait(doomed, ct, `/tracks/${tr()}`);
      assertInvalidToken(r, `client-credentials token of a deleted client (waited ${waited} ms)`);
    });
  });

  describe('CORS', () => {
    const ORIGIN = 'https://player.example';

    it('preflight OPTIONS /v1/me allows Authorization without credentials', async () => {
      // Bearer tokens are no ambient credential, so every origin may call the API: "*".
      for (const origin of [ORIGIN, 'https://any-site.example']) {
        const r = await api(server, undefined, 'OPTIONS', '/me', { headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
        assert.equal(r.status, 204, `preflight: ${describeCall(r)}`);
        assert.equal(r.headers.get('access-control-allow-origin'), '*', `Access-Control-Allow-Origin for ${origin}`);
        const acah = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',').map((s) => s.trim());
        assert.ok(acah.includes('authorization'), `Access-Control-Allow-Headers must list authorization (a "*" does not cover it): ${acah}`);
        const acam = (r.headers.get('access-control-allow-methods') ?? '').toUpperCase().split(',').map((s) => s.trim());
        assert.ok(acam.includes('GET'), `Access-Control-Allow-Methods: ${acam}`);
        assert.equal(r.headers.get('access-control-allow-credentials'), null, 'the Web API must not allow credentials');
      }
    });

    it('preflight for a write with content-type is allowed', async () => {
      const r = await api(server, undefined, 'OPTIONS', '/me/tracks', { headers: { origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' } });
      assert.equal(r.status, 204, describeCall(r));
      const acah = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',').map((s) => s.trim());
      assert.ok(acah.includes('authorization') && acah.includes('content-type'), `allow-headers: ${acah}`);
      const acam = r.headers.get('access-control-allow-methods');
      assert.ok(acam && acam.toUpperCase().includes('PUT'), `Access-Control-Allow-Methods must include PUT: ${acam}`);
    });

    it('actual responses carry Access-Control-Allow-Origin (success and errors), never credentials', async () => {
      // A fresh grant: the revocation tests above revoked the one `full` belongs to.
      const live = (await freshGrant()).access_token;
      const calls = [
        await api(server, live, 'GET', '/me', { headers: { origin: ORIGIN } }),
        await api(server, cc, 'GET', '/search', { query: { q: 'a', type: 'track' }, headers: { origin: ORIGIN } }),
        await api(server, undefined, 'GET', '/me', { headers: { origin: ORIGIN } }),
        await api(server, cc, 'GET', '/tracks/zzzzzzzzzzzzzzzzzzzzzz', { headers: { origin: ORIGIN } }),
      ];
      assert.deepEqual(calls.map((r) => r.status), [200, 200, 401, 404], calls.map(describeCall).join('\n'));
      for (const r of calls) {
        assert.equal(r.headers.get('access-control-allow-origin'), '*', `Access-Control-Allow-Origin on ${describeCall(r)}`);
        assert.equal(r.headers.get('access-control-allow-credentials'), null, describeCall(r));
      }
    });

    it('/api/token answers CORS for a registered web origin only', async () => {
      const pre = (origin) => fetch(`${server.url}/api/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      // The list of registered origins is refreshed every 5 s (docs/operations.md): allow 6 s.
      let ok;
      for (const deadline = Date.now() + 6000; ;) {
        ok = await pre(ORIGIN);
        await ok.arrayBuffer();
        if (ok.headers.get('access-control-allow-origin') === ORIGIN || Date.now() > deadline) break;
        await sleep(250);
      }
      assert.equal(ok.status, 204, 'preflight from a registered origin');
      assert.equal(ok.headers.get('access-control-allow-origin'), ORIGIN, 'registered origin is echoed');
      assert.match(ok.headers.get('vary') ?? '', /\borigin\b/i, 'an echoed origin needs Vary: Origin');
      const evil = await pre('https://evil.example');
      await evil.arrayBuffer();
      const evilAcao = evil.headers.get('access-control-allow-origin');
      assert.equal(evil.status, 204, 'the preflight itself is answered alike');
      assert.ok(evilAcao === null, `an unregistered origin must get no Access-Control-Allow-Origin (got ${evilAcao})`);

      const real = await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret], headers: { origin: ORIGIN } });
      assertTokenOk(real);
      assert.equal(real.headers.get('access-control-allow-origin'), ORIGIN, 'token response to a registered origin carries ACAO');
      const realEvil = await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret], headers: { origin: 'https://evil.example' } });
      assert.equal(realEvil.headers.get('access-control-allow-origin'), null, 'no ACAO for an unregistered origin');
    });
  });
});

describe('Web API token expiry (STAGEPASS_ACCESS_TOKEN_TTL=2, STAGEPASS_CLOCK_SKEW=0)', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-webapi-exp', env: { ...WEBAPI_ENV, STAGEPASS_ACCESS_TOKEN_TTL: '2', STAGEPASS_CLOCK_SKEW: '0' }, timeoutMs: 30000 });
  });
  after(async () => { await server?.stop(); });

  it('refuses user and client-credentials tokens once expired', async () => {
    const client = await server.createClient({ name: 'Short Tokens', redirectUris: [REDIRECT] });
    const s = await userSession(server, client, { email: 'dave@example.com', displayName: 'Dave' });
    const ut = await s.tokenFor(['user-read-private']);
    const ct = await clientToken(server, client);
    expectOk(await api(server, ut, 'GET', '/me'), 200);
    expectOk(await api(server, ct, 'GET', '/search', { query: { q: 'a', type: 'artist' } }), 200);
    await sleep(3500);
    assertInvalidToken(await api(server, ut, 'GET', '/me'), 'expired user token');
    assertInvalidToken(await api(server, ct, 'GET', '/search', { query: { q: 'a', type: 'artist' } }), 'expired client-credentials token');
  });
});

describe('Web API rate limits (STAGEPASS_RATE_LIMIT=5 per app per 30 s; --rate-limit override)', () => {
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-webapi-rl', env: { ...WEBAPI_ENV, STAGEPASS_RATE_LIMIT: '5' }, timeoutMs: 30000 });
  });
  after(async () => { await server?.stop(); });

  // A search of the small catalog's artists costs one unit; a track search for "a" scans
  // hundreds of matches and costs more (docs/operations.md, "Web API limits and call costs").
  const search = (tok) => api(server, tok, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } });

  function assert429(r) {
    assertApiError(r, 429);
    const ra = r.headers.get('retry-after');
    assert.match(ra ?? '', /^\d+$/, `Retry-After must be integer seconds: ${describeCall(r)} (Retry-After: ${ra})`);
    assert.ok(Number(ra) >= 1 && Number(ra) <= 30, `Retry-After within the 30 s window: ${ra}`);
  }

  it('answers 429 with Retry-After past the limit, per app', async () => {
    const a = await server.createClient({ name: 'App A', redirectUris: [REDIRECT] });
    const b = await server.createClient({ name: 'App B', redirectUris: [REDIRECT] });
    const ta = await clientToken(server, a);
    const tb = await clientToken(server, b);
    for (let i = 0; i < 5; i++) expectOk(await search(ta), 200);
    assert429(await search(ta));
    assert429(await search(ta));
    expectOk(await search(tb), 200); // another app has its own budget
  });

  it('honours a per-app --rate-limit override, and Retry-After tells the truth', async () => {
    const c = await createRateLimitedClient(server, { name: 'App C', rateLimit: 2 });
    assert.equal(c.rate_limit, 2, `client create echoes rate_limit: ${JSON.stringify(c)}`);
    const tc = await clientToken(server, c);
    for (let i = 0; i < 2; i++) expectOk(await search(tc), 200);
    const limited = await search(tc);
    assert429(limited);
    // The window is rolling: after Retry-After seconds the app may call again.
    await sleep(Number(limited.headers.get('retry-after')) * 1000 + 300);
    expectOk(await search(tc), 200);
  });
});
