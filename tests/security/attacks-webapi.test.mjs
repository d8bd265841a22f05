// Attacks on the Web API (the resource server): bearer tokens where they must not travel
// (RFC 6750 §2.2, §2.3; RFC 9700 §4.3.2), ambiguous credentials, other people's objects,
// hostile JSON bodies. Errors are Spotify's object plus RFC 6750's WWW-Authenticate.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tokenRequest, assertTokenOk } from '../e2e/lib/server.mjs';
import { REDIRECT, startDefaultServer, signedIn, grantTokens, rawExchange } from './attacks-lib.mjs';

const ALL = [
  'user-read-private', 'user-read-email', 'user-library-read', 'user-library-modify', 'playlist-read-private',
  'playlist-modify-public', 'playlist-modify-private', 'user-modify-playback-state',
].join(' ');

/** Calls /v1 with fetch: {status, headers, json, text}. */
async function call(server, method, path, { token, headers = {}, body, contentType = 'application/json' } = {}) {
  const h = new Headers(headers);
  if (token) h.set('authorization', `Bearer ${token}`);
  if (body !== undefined) h.set('content-type', contentType);
  const res = await fetch(`${server.url}/v1${path}`, { method, headers: h, body, redirect: 'manual' });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json, what: `${method} ${path}` };
}

/** Spotify's error object with `status`, and nothing else. */
function assertApiError(r, status, what = r.what) {
  const ctx = `${what}: HTTP ${r.status} WWW-Authenticate: ${r.headers.get('www-authenticate')}\n${r.text.slice(0, 300)}`;
  assert.equal(r.status, status, ctx);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/, ctx);
  assert.deepEqual(Object.keys(r.json ?? {}), ['error'], ctx);
  assert.equal(r.json.error.status, status, ctx);
  assert.equal(typeof r.json.error.message, 'string', ctx);
}

describe('attacks: Web API', () => {
  let server;
  let client;
  let alice;
  let mallory;
  let aliceToken;
  let malloryToken;
  let track; // a catalog track id
  let malloryPrivate; // mallory's private playlist
  let malloryPublic; // mallory's public playlist

  before(async () => {
    server = await startDefaultServer('sp-sec-webapi');
    client = await server.createClient({ name: 'API Target', redirectUris: [REDIRECT] });
    alice = await server.createUser({ email: 'alice@example.com', displayName: 'Alice', password: 'alice-webapi-suite-pw' });
    mallory = await server.createUser({ email: 'mallory@example.com', displayName: 'Mallory', password: 'mallory-webapi-suite-pw' });
    aliceToken = (await grantTokens(server, { browser: await signedIn(server, alice), user: alice, client, scope: ALL })).access_token;
    malloryToken = (await grantTokens(server, { browser: await signedIn(server, mallory), user: mallory, client, scope: ALL })).access_token;
    const cc = assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] })).access_token;
    track = (await call(server, 'GET', '/search?q=a&type=track&limit=1', { token: cc })).json.tracks.items[0].id;
    const mk = async (isPublic) => (await call(server, 'POST', `/users/${mallory.id}/playlists`, { token: malloryToken, body: JSON.stringify({ name: isPublic ? 'Open' : 'Secret', public: isPublic }) })).json;
    malloryPrivate = await mk(false);
    malloryPublic = await mk(true);
    assert.ok(malloryPrivate?.id && malloryPublic?.id, 'mallory has two playlists');
  });
  after(async () => { await server?.stop(); });

  const saved = async () => (await call(server, 'GET', `/me/tracks/contains?ids=${track}`, { token: aliceToken })).json;

  describe('where a bearer token may travel', () => {
    it('refuses a token in the query string with 400 invalid_request, even beside a valid header (RFC 9700 §4.3.2)', async () => {
      for (const path of [`/me?access_token=${aliceToken}`, `/search?q=a&type=track&access_token=${aliceToken}`]) {
        for (const token of [undefined, aliceToken]) {
          const r = await call(server, 'GET', path, { token });
          assertApiError(r, 400, `GET ${path.split('access_token')[0]}access_token=… ${token ? 'with' : 'without'} a header`);
          assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]*", error="invalid_request"$/);
        }
      }
    });

    it('ignores a token in a form body (only the Authorization header carries tokens) and changes nothing', async () => {
      const before = await saved();
      const r = await call(server, 'PUT', `/me/tracks?ids=${track}`, { body: `access_token=${aliceToken}`, contentType: 'application/x-www-form-urlencoded' });
      assertApiError(r, 401);
      // RFC 6750 §3.1: a request with no authentication information gets no error code.
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]*"$/);
      assert.deepEqual(await saved(), before, 'the library did not change');
    });

    it('refuses two Authorization headers with 400 invalid_request', async () => {
      const u = new URL(server.url);
      for (const second of [`Bearer ${malloryToken}`, `Bearer ${aliceToken}`, 'Basic YTpi']) {
        const r = await rawExchange(server, `GET /v1/me HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${aliceToken}\r\nAuthorization: ${second}\r\nConnection: close\r\n\r\n`);
        assert.deepEqual(r.responses.map((x) => x.status), [400], r.data.toString('latin1').slice(0, 300));
        assert.match(r.responses[0].get('www-authenticate') ?? '', /error="invalid_request"/);
      }
    });

    it('refuses other schemes, empty and padded bearer values', async () => {
      for (const auth of ['Basic YWxpY2U6cGFzcw==', 'Bearer', 'Bearer ', `Token ${aliceToken}`, `Bearer ${aliceToken} extra`, `Bearer ${aliceToken},${aliceToken}`, `MAC ${aliceToken}`]) {
        const r = await call(server, 'GET', '/me', { headers: { authorization: auth } });
        assertApiError(r, 401, `Authorization: ${auth.slice(0, 20)}…`);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      }
    });

    it('never lets a browser send credentials cross-origin (no Access-Control-Allow-Credentials)', async () => {
      const r = await call(server, 'GET', '/me', { token: aliceToken, headers: { origin: 'https://evil.example', cookie: 'sp_session=x' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-credentials'), null);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const noBearer = await call(server, 'GET', '/me', { headers: { origin: 'https://evil.example', cookie: r.headers.get('set-cookie') ?? 'sp_session=x' } });
      assertApiError(noBearer, 401, 'a session cookie is not an API credential');
    });
  });

  describe('other people\'s objects (object-level authorization)', () => {
    it('cannot read another person\'s private playlist', async () => {
      assertApiError(await call(server, 'GET', `/playlists/${malloryPrivate.id}`, { token: aliceToken }), 404);
      assertApiError(await call(server, 'GET', `/playlists/${malloryPrivate.id}/tracks`, { token: aliceToken }), 404);
      assert.equal((await call(server, 'GET', `/playlists/${malloryPrivate.id}`, { token: malloryToken })).status, 200, 'control: the owner reads it');
    });

    it('cannot change, add to, reorder or empty another person\'s playlist', async () => {
      const uris = JSON.stringify({ uris: [`stagepass:track:${track}`] });
      // A private playlist of someone else does not exist for alice (404); a public one she
      // may see but not change (403).
      for (const [p, status] of [[malloryPrivate, 404], [malloryPublic, 403]]) {
        for (const [method, path, body] of [
          ['PUT', `/playlists/${p.id}`, JSON.stringify({ name: 'pwned' })],
          ['POST', `/playlists/${p.id}/tracks`, uris],
          ['PUT', `/playlists/${p.id}/tracks`, uris],
          ['DELETE', `/playlists/${p.id}/tracks`, JSON.stringify({ tracks: [{ uri: `stagepass:track:${track}` }] })],
        ]) {
          const r = await call(server, method, path, { token: aliceToken, body });
          assertApiError(r, status, `${method} ${path} (${p.public ? 'public' : 'private'})`);
        }
      }
      const after = (await call(server, 'GET', `/playlists/${malloryPublic.id}`, { token: malloryToken })).json;
      assert.equal(after.name, 'Open', 'the playlist is unchanged');
      assert.equal(after.tracks.total, 0);
    });

    it('cannot create a playlist for another person', async () => {
      const r = await call(server, 'POST', `/users/${mallory.id}/playlists`, { token: aliceToken, body: JSON.stringify({ name: 'planted' }) });
      assertApiError(r, 403);
    });
  });

  describe('hostile JSON bodies', () => {
    // Refused when the body is read (not JSON, or not a JSON object): "Error parsing JSON."
    // (400) on every endpoint.
    const unreadable = {
      'deeply nested arrays': `${'['.repeat(30000)}${']'.repeat(30000)}`,
      'deeply nested objects': `${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}`,
      'nested ids': `{"ids":${'['.repeat(20000)}${']'.repeat(20000)}}`,
      'unterminated': '{"ids":["',
      'not UTF-8': Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x73, 0x22, 0x3a, 0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d, 0x7d]),
      'NaN': '{"name":NaN}',
      'a string, not an object': '"just a string"',
    };
    // JSON objects the reader takes; each endpoint then answers them as it answers any body.
    const readable = {
      'huge number': '{"name":"x","public":1e999999}',
      'duplicate keys': '{"name":"a","name":{"x":[1,2,3]}}',
    };

    it('answers every hostile body with a 4xx Spotify error, never a 5xx, and keeps serving', async () => {
      const endpoints = [
        ['POST', `/users/${alice.id}/playlists`, { 'huge number': [400, 'Invalid public'], 'duplicate keys': [400, 'Invalid name'] }],
        ['PUT', '/me/tracks', { 'huge number': [400, 'Missing required field: ids'], 'duplicate keys': [400, 'Missing required field: ids'] }],
        // The body is read before the player: alice has no device.
        ['PUT', '/me/player/play', Object.fromEntries(Object.keys(readable).map((k) => [k, [404, 'Player command failed: No active device found']]))],
      ];
      for (const [method, path, answers] of endpoints) {
        for (const [what, body] of Object.entries(unreadable)) {
          const r = await call(server, method, path, { token: aliceToken, body });
          assertApiError(r, 400, `${method} ${path} with ${what}`);
          assert.equal(r.json.error.message, 'Error parsing JSON.', `${method} ${path} with ${what}`);
        }
        for (const [what, body] of Object.entries(readable)) {
          const [status, message] = answers[what];
          const r = await call(server, method, path, { token: aliceToken, body });
          assertApiError(r, status, `${method} ${path} with ${what}`);
          assert.equal(r.json.error.message, message, `${method} ${path} with ${what}`);
        }
      }
      assert.equal((await call(server, 'GET', '/me', { token: aliceToken })).status, 200, 'the API still serves');
    });

    it('refuses more ids than the documented maximum (50) with 400', async () => {
      const ids = Array.from({ length: 2000 }, () => track);
      assertApiError(await call(server, 'PUT', '/me/tracks', { token: aliceToken, body: JSON.stringify({ ids }) }), 400);
      assertApiError(await call(server, 'GET', `/me/tracks/contains?ids=${ids.slice(0, 500).join(',')}`, { token: aliceToken }), 400);
    });
  });
});
