// Helpers for the Web API (/v1) suites: bearer calls, Spotify-shaped error and object checks,
// user tokens through the real login/consent pages, client-credentials tokens and catalog
// discovery through GET /v1/search. Additive: nothing here changes the other lib modules.
import assert from 'node:assert/strict';
import { networkError, authorizeInBrowser, Browser } from './browser.mjs';
import { tokenRequest, pkcePair, randomState, assertTokenOk, describeResponse } from './oauth.mjs';

/** Every scope the Web API knows (DESIGN §2), space-separated when joined. */
export const ALL_SCOPES = [
  'user-read-private', 'user-read-email', 'user-library-read', 'user-library-modify',
  'playlist-read-private', 'playlist-read-collaborative', 'playlist-modify-public', 'playlist-modify-private',
  'user-read-playback-state', 'user-modify-playback-state', 'user-read-currently-playing',
  'user-follow-read', 'user-follow-modify', 'user-top-read', 'user-read-recently-played',
];

export const REDIRECT = 'https://app.example/callback';
export const BASE62_ID = /^[0-9A-Za-z]{22}$/;
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Environment for a Web API test server (small generated catalog). */
export const WEBAPI_ENV = { STAGEPASS_CATALOG_SCALE: '0.02' };

/** `<issuer>/v1` of a server. */
export const apiBase = (server) => `${server.url}/v1`;

/**
 * One call to the Web API. `path` is relative to `<issuer>/v1` ("/me") or absolute
 * ("http://…", e.g. a `next` link). `token` adds `Authorization: Bearer`. `query` is an
 * object (undefined values dropped); `body` is JSON-encoded unless it is a string.
 * Resolves {status, headers, text, json, url, method}.
 */
export async function api(server, token, method, path, { query, body, headers = {}, contentType } = {}) {
  const u = /^https?:/.test(path) ? new URL(path) : new URL(`${apiBase(server)}${path}`);
  if (query) for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
  const h = new Headers(headers);
  if (token) h.set('authorization', `Bearer ${token}`);
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h.set('content-type', contentType ?? 'application/json');
  }
  let res;
  try {
    res = await fetch(u, { method, headers: h, body: payload, redirect: 'manual' });
  } catch (e) {
    throw networkError(`${method} ${u.pathname}`, e, server);
  }
  const text = await res.text();
  let json;
  try { json = text.length ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json, url: u, method };
}

/** Short description of a Web API answer for assertion messages. */
export function describeCall(r) {
  const wa = r.headers.get('www-authenticate');
  return `${r.method} ${r.url.pathname}${r.url.search} → HTTP ${r.status}${wa ? ` WWW-Authenticate: ${wa}` : ''}\n${r.text.slice(0, 1200)}`;
}

/** Asserts exactly HTTP `status` (a success the caller names: 200, 201, ...) and returns the JSON. */
export function expectOk(r, status) {
  assert.equal(typeof status, 'number', 'expectOk needs the one status the server must answer');
  assert.equal(r.status, status, `expected ${status}: ${describeCall(r)}`);
  if (r.text.length > 0) {
    assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/i, `a JSON answer needs Content-Type: application/json: ${describeCall(r)}`);
  }
  return r.json;
}

/**
 * Asserts Spotify's error object {"error":{"status":N,"message":"..."}} with HTTP `status`
 * (the one status the server must answer). `message` may be a string (exact) or a RegExp.
 */
export function assertApiError(r, status, { message } = {}) {
  const ctx = describeCall(r);
  assert.equal(typeof status, 'number', 'assertApiError needs the one status the server must answer');
  assert.equal(r.status, status, `expected HTTP ${status}: ${ctx}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/i, `error body must be JSON: ${ctx}`);
  assert.ok(r.json && typeof r.json.error === 'object' && r.json.error !== null, `body must be {"error":{...}}: ${ctx}`);
  assert.equal(r.json.error.status, r.status, `error.status must equal the HTTP status: ${ctx}`);
  assert.equal(typeof r.json.error.message, 'string', `error.message must be a string: ${ctx}`);
  assert.ok(r.json.error.message.length > 0, `error.message must not be empty: ${ctx}`);
  if (typeof message === 'string') assert.equal(r.json.error.message, message, ctx);
  else if (message instanceof RegExp) assert.match(r.json.error.message, message, ctx);
  return r.json.error;
}

/** 401 with `WWW-Authenticate: Bearer realm=..., error="invalid_token"` and the error body. */
export function assertInvalidToken(r, what = '') {
  assertApiError(r, 401);
  const wa = r.headers.get('www-authenticate') ?? '';
  assert.match(wa, /^Bearer\b/i, `${what}: WWW-Authenticate must use the Bearer scheme: ${describeCall(r)}`);
  assert.match(wa, /\brealm="[^"]*"/i, `${what}: WWW-Authenticate must carry realm: ${describeCall(r)}`);
  assert.match(wa, /\berror="invalid_token"/, `${what}: WWW-Authenticate must carry error="invalid_token": ${describeCall(r)}`);
}

/** 403 with `WWW-Authenticate: Bearer ... error="insufficient_scope", scope="<needed>"`. */
export function assertInsufficientScope(r, needed) {
  assertApiError(r, 403);
  const wa = r.headers.get('www-authenticate') ?? '';
  assert.match(wa, /^Bearer\b/i, `WWW-Authenticate must use the Bearer scheme: ${describeCall(r)}`);
  assert.match(wa, /\berror="insufficient_scope"/, `WWW-Authenticate must carry error="insufficient_scope": ${describeCall(r)}`);
  const m = /\bscope="([^"]*)"/.exec(wa);
  assert.ok(m, `WWW-Authenticate must name the needed scope: ${describeCall(r)}`);
  assert.ok(m[1].split(' ').includes(needed), `WWW-Authenticate scope must include ${needed}: ${describeCall(r)}`);
}

/** Paging object {href, items, limit, next, offset, previous, total} under `<issuer>/v1<path>`. */
export function assertPaging(server, page, { path, limit, offset, what = path } = {}) {
  const ctx = `${what}: ${JSON.stringify(page)?.slice(0, 800)}`;
  assert.ok(page && typeof page === 'object', `paging object expected: ${ctx}`);
  for (const k of ['href', 'items', 'limit', 'next', 'offset', 'previous', 'total']) assert.ok(k in page, `paging object lacks ${k}: ${ctx}`);
  assert.ok(Array.isArray(page.items), `items must be an array: ${ctx}`);
  assert.equal(typeof page.href, 'string', ctx);
  if (path) assert.ok(page.href.startsWith(`${apiBase(server)}${path}`), `href must be under ${apiBase(server)}${path}: ${ctx}`);
  assert.ok(Number.isInteger(page.limit) && Number.isInteger(page.offset) && Number.isInteger(page.total), `limit/offset/total must be integers: ${ctx}`);
  if (limit !== undefined) assert.equal(page.limit, limit, `limit: ${ctx}`);
  if (offset !== undefined) assert.equal(page.offset, offset, `offset: ${ctx}`);
  assert.ok(page.items.length <= page.limit, `more items than limit: ${ctx}`);
  const hasMore = page.offset + page.items.length < page.total;
  if (hasMore) {
    assert.equal(typeof page.next, 'string', `next must be a URL while items remain: ${ctx}`);
    assert.ok(page.next.startsWith(`${apiBase(server)}/`), `next must be under ${apiBase(server)}: ${ctx}`);
  } else {
    assert.equal(page.next, null, `next must be null on the last page: ${ctx}`);
  }
  if (page.offset === 0) assert.equal(page.previous, null, `previous must be null on the first page: ${ctx}`);
  else {
    assert.equal(typeof page.previous, 'string', `previous must be a URL past the first page: ${ctx}`);
    assert.ok(page.previous.startsWith(`${apiBase(server)}/`), `previous must be under ${apiBase(server)}: ${ctx}`);
  }
  return page;
}

function assertCommon(server, o, kind, ctx) {
  assert.equal(o.type, kind, `type: ${ctx}`);
  assert.match(o.id, BASE62_ID, `id must be 22 base62 characters: ${ctx}`);
  assert.equal(o.uri, `stagepass:${kind}:${o.id}`, `uri: ${ctx}`);
  assert.equal(typeof o.href, 'string', `href: ${ctx}`);
  assert.ok(o.href.startsWith(`${apiBase(server)}/`), `href must be under ${apiBase(server)}: ${ctx}`);
  assert.ok(o.href.endsWith(`/${o.id}`), `href must end with the id: ${ctx}`);
  assert.ok(o.external_urls && typeof o.external_urls === 'object' && !Array.isArray(o.external_urls), `external_urls must be an object: ${ctx}`);
  for (const v of Object.values(o.external_urls)) assert.equal(typeof v, 'string', `external_urls values are URLs: ${ctx}`);
  if (kind !== 'user') {
    assert.equal(typeof o.name, 'string', `name: ${ctx}`);
    assert.ok(o.name.length > 0, `name must not be empty: ${ctx}`);
  }
}

export function assertImages(images, ctx) {
  assert.ok(Array.isArray(images), `images must be an array: ${ctx}`);
  for (const im of images) {
    assert.equal(typeof im.url, 'string', `image url: ${ctx}`);
    assert.ok('height' in im && 'width' in im, `image needs height and width: ${ctx}`);
    for (const d of ['height', 'width']) assert.ok(im[d] === null || Number.isInteger(im[d]), `image ${d}: ${ctx}`);
  }
}

/** Simplified or full artist. */
export function assertArtist(server, a, { full = false } = {}) {
  const ctx = `artist ${JSON.stringify(a)?.slice(0, 600)}`;
  assertCommon(server, a, 'artist', ctx);
  if (full) {
    assert.ok(a.followers && Number.isInteger(a.followers.total), `followers.total: ${ctx}`);
    assert.ok(Array.isArray(a.genres), `genres: ${ctx}`);
    assertImages(a.images, ctx);
    assert.ok(Number.isInteger(a.popularity) && a.popularity >= 0 && a.popularity <= 100, `popularity 0..100: ${ctx}`);
  }
}

/** Simplified or full album. */
export function assertAlbum(server, a, { full = false } = {}) {
  const ctx = `album ${JSON.stringify(a)?.slice(0, 600)}`;
  assertCommon(server, a, 'album', ctx);
  assert.ok(['album', 'single', 'compilation'].includes(a.album_type), `album_type: ${ctx}`);
  assert.ok(Number.isInteger(a.total_tracks) && a.total_tracks >= 1, `total_tracks: ${ctx}`);
  assert.ok(Array.isArray(a.artists) && a.artists.length >= 1, `artists: ${ctx}`);
  for (const ar of a.artists) assertArtist(server, ar);
  assertImages(a.images, ctx);
  assert.equal(typeof a.release_date, 'string', `release_date: ${ctx}`);
  assert.ok(['year', 'month', 'day'].includes(a.release_date_precision), `release_date_precision: ${ctx}`);
  const re = { year: /^\d{4}$/, month: /^\d{4}-\d{2}$/, day: /^\d{4}-\d{2}-\d{2}$/ }[a.release_date_precision];
  assert.match(a.release_date, re, `release_date matches its precision: ${ctx}`);
  if (full) {
    assertPaging(server, a.tracks, { path: `/albums/${a.id}/tracks`, what: `album ${a.id} tracks` });
    assert.equal(a.tracks.total, a.total_tracks, `tracks.total = total_tracks: ${ctx}`);
    for (const t of a.tracks.items) assertTrack(server, t, { simplified: true });
    assert.ok(Number.isInteger(a.popularity), `popularity: ${ctx}`);
  }
}

/** Full track (with album) or simplified track (no album). */
export function assertTrack(server, t, { simplified = false } = {}) {
  const ctx = `track ${JSON.stringify(t)?.slice(0, 600)}`;
  assertCommon(server, t, 'track', ctx);
  assert.ok(Array.isArray(t.artists) && t.artists.length >= 1, `artists: ${ctx}`);
  for (const a of t.artists) assertArtist(server, a);
  assert.ok(Number.isInteger(t.duration_ms) && t.duration_ms > 0, `duration_ms: ${ctx}`);
  assert.equal(typeof t.explicit, 'boolean', `explicit: ${ctx}`);
  assert.ok(Number.isInteger(t.track_number) && t.track_number >= 1, `track_number: ${ctx}`);
  assert.ok(Number.isInteger(t.disc_number) && t.disc_number >= 1, `disc_number: ${ctx}`);
  if (!simplified) {
    assertAlbum(server, t.album);
    assert.ok(Number.isInteger(t.popularity) && t.popularity >= 0 && t.popularity <= 100, `popularity 0..100: ${ctx}`);
  }
}

/** Public part of a user object (no private fields checked here). */
export function assertUser(server, u, id) {
  const ctx = `user ${JSON.stringify(u)?.slice(0, 600)}`;
  assertCommon(server, u, 'user', ctx);
  if (id !== undefined) assert.equal(u.id, id, ctx);
}

export function assertPlaylist(server, p, { full = false } = {}) {
  const ctx = `playlist ${JSON.stringify(p)?.slice(0, 800)}`;
  assertCommon(server, p, 'playlist', ctx);
  assert.equal(typeof p.public, 'boolean', `public: ${ctx}`);
  assert.equal(typeof p.collaborative, 'boolean', `collaborative: ${ctx}`);
  assert.equal(typeof p.snapshot_id, 'string', `snapshot_id: ${ctx}`);
  assert.ok(p.snapshot_id.length > 0, `snapshot_id: ${ctx}`);
  assert.ok(p.owner && typeof p.owner === 'object', `owner: ${ctx}`);
  assertUser(server, p.owner);
  assertImages(p.images, ctx);
  assert.ok(p.tracks && typeof p.tracks === 'object', `tracks: ${ctx}`);
  assert.ok(Number.isInteger(p.tracks.total), `tracks.total: ${ctx}`);
  assert.equal(typeof p.tracks.href, 'string', `tracks.href: ${ctx}`);
  assert.ok(p.tracks.href.startsWith(`${apiBase(server)}/playlists/${p.id}/tracks`), `tracks.href: ${ctx}`);
  if (full) assertPaging(server, p.tracks, { path: `/playlists/${p.id}/tracks`, what: `playlist ${p.id} tracks` });
}

/** client_credentials token for a confidential client. */
export async function clientToken(server, client) {
  const r = await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] });
  return assertTokenOk(r, 'client_credentials').access_token;
}

/**
 * Authorizes `user` for `client` with `scope` through the real pages (login and consent as
 * needed, on `browser`) and exchanges the code. Resolves the token response JSON.
 */
export async function userTokens(server, { client, user, scope, browser }) {
  const b = browser ?? new Browser(server);
  const pk = pkcePair();
  const state = randomState();
  const scopeText = Array.isArray(scope) ? scope.join(' ') : scope;
  const auth = await authorizeInBrowser({
    server, browser: b, clientId: client.client_id, redirectUri: client.redirect_uris?.[0] ?? REDIRECT,
    scope: scopeText, state, codeChallenge: pk.challenge, email: user.email, password: user.password,
  });
  assert.equal(auth.stoppedAt, 'redirect', `authorize did not reach the redirect URI:\n${b.traceText()}\n${auth.page?.text?.slice(0, 800) ?? ''}`);
  assert.ok(auth.code, `no code: ${auth.location}`);
  const params = { grant_type: 'authorization_code', code: auth.code, redirect_uri: client.redirect_uris?.[0] ?? REDIRECT, code_verifier: pk.verifier };
  const r = client.public
    ? await tokenRequest(server, { ...params, client_id: client.client_id })
    : await tokenRequest(server, params, { basic: [client.client_id, client.client_secret] });
  return assertTokenOk(r, `code exchange (${scopeText})`);
}

/** A user with a logged-in browser: tokenFor(scopes) gives an access token for those scopes. */
export async function userSession(server, client, { email, displayName, password = 'correct horse battery staple 7' }) {
  const user = await server.createUser({ email, displayName, password });
  return sessionFor(server, client, user);
}

/** Like userSession for a user that already exists: `user` = {email, password, id?}. */
export function sessionFor(server, client, user) {
  const browser = new Browser(server);
  const cache = new Map();
  const tokenFor = async (scope) => {
    const key = [].concat(scope).join(' ');
    if (!cache.has(key)) cache.set(key, (await userTokens(server, { client, user, scope: key, browser })).access_token);
    return cache.get(key);
  };
  return { user, browser, tokenFor };
}

/**
 * Finds catalog ids through GET /v1/search with the given token: at least `want` distinct
 * tracks, albums and artists (full objects as returned by search).
 */
export async function discoverCatalog(server, token, { want = 12 } = {}) {
  const tracks = new Map();
  const albums = new Map();
  const artists = new Map();
  const queries = ['a', 'e', 'o', 'i', 'u', 'n', 's', 'r', 't', 'l'];
  for (const q of queries) {
    const page = expectOk(await api(server, token, 'GET', '/search', { query: { q, type: 'track,album,artist', limit: 50 } }), 200);
    for (const t of page.tracks.items) tracks.set(t.id, t);
    for (const a of page.albums.items) albums.set(a.id, a);
    for (const a of page.artists.items) artists.set(a.id, a);
    if (tracks.size >= want && albums.size >= want && artists.size >= want) break;
  }
  assert.ok(tracks.size >= want && albums.size >= want && artists.size >= want,
    `catalog discovery through /v1/search found ${tracks.size} tracks, ${albums.size} albums, ${artists.size} artists (want ${want} each)`);
  return { tracks: [...tracks.values()], albums: [...albums.values()], artists: [...artists.values()] };
}

/** A syntactically valid id (22 base62 characters) that names nothing in the catalog. */
export const UNKNOWN_ID = 'zzzzzzzzzzzzzzzzzzzzzz';

/** Runs `stagepass admin client create ... --rate-limit N --json` (per-app override). */
export function createRateLimitedClient(server, { name = 'Limited App', redirectUri = REDIRECT, rateLimit }) {
  return server.adminJson(['client', 'create', '--name', name, '--redirect-uri', redirectUri, '--rate-limit', String(rateLimit)]);
}

export { describeResponse };

/**
 * An empty success of a write. Like Spotify, the server answers saved tracks and playlist
 * details with 200 and following and player commands with 204 (src/api/endpoints); `status`
 * is the one the endpoint must answer.
 */
export function expectEmptyWrite(r, status) {
  assert.ok(status === 200 || status === 204, `expectEmptyWrite needs 200 or 204, got ${status}`);
  assert.equal(r.status, status, `expected an empty ${status}: ${describeCall(r)}`);
  assert.equal(r.text, '', `an empty write answer has no body: ${describeCall(r)}`);
}

/** GET /me/player/devices: the device list (asserted to be `{devices: [...]}`). */
async function playerDevices(server, tok) {
  const dev = expectOk(await api(server, tok, 'GET', '/me/player/devices'), 200);
  assert.ok(dev && Array.isArray(dev.devices), `{devices: [...]}: ${JSON.stringify(dev)}`);
  return dev.devices;
}

/**
 * The player of a person with no device (every account but the demo listener's): GET
 * /me/player and currently-playing answer 204 and every command 404 "Player command failed:
 * No active device found". `tok` needs the playback scopes; `uris` ≥ 4 track URIs.
 */
export async function assertPlayerWithoutDevice(server, tok, uris) {
  assert.deepEqual(await playerDevices(server, tok), [], 'this person has no player device');
  const st = await api(server, tok, 'GET', '/me/player');
  assert.equal(st.status, 204, `no device: GET /me/player → 204: ${describeCall(st)}`);
  assert.equal(st.text, '', '204 has no body');
  const cp = await api(server, tok, 'GET', '/me/player/currently-playing');
  assert.equal(cp.status, 204, `no device: currently-playing → 204: ${describeCall(cp)}`);
  const commands = [
    ['PUT', '/me/player/play', { body: { uris: uris.slice(0, 3) } }],
    ['PUT', '/me/player/pause', {}],
    ['POST', '/me/player/next', {}],
    ['POST', '/me/player/previous', {}],
    ['PUT', '/me/player/volume', { query: { volume_percent: 40 } }],
    ['PUT', '/me/player/shuffle', { query: { state: 'true' } }],
    ['PUT', '/me/player/repeat', { query: { state: 'track' } }],
    ['PUT', '/me/player/seek', { query: { position_ms: 1000 } }],
    ['POST', '/me/player/queue', { query: { uri: uris[3] } }],
  ];
  for (const [method, path, opts] of commands) {
    assertApiError(await api(server, tok, method, path, opts), 404, { message: 'Player command failed: No active device found' });
  }
}

/**
 * The player of a person with at least two devices (the demo listener): commands answer 204
 * and their effect shows in GET /me/player, and a transfer moves playback to the other
 * device. `tok` needs the playback scopes; `uris` ≥ 4 track URIs.
 */
export async function exercisePlayerOnDevices(server, tok, uris) {
  const id = (u) => u.split(':').pop();
  const devices = await playerDevices(server, tok);
  assert.ok(devices.length >= 2, `two devices or more: ${JSON.stringify(devices)}`);
  let active = 0;
  for (const d of devices) {
    const ctx = JSON.stringify(d);
    assert.equal(typeof d.id, 'string', ctx);
    assert.equal(typeof d.name, 'string', ctx);
    assert.equal(typeof d.type, 'string', ctx);
    assert.equal(typeof d.is_active, 'boolean', ctx);
    assert.equal(typeof d.is_restricted, 'boolean', ctx);
    assert.ok(d.volume_percent === null || (Number.isInteger(d.volume_percent) && d.volume_percent >= 0 && d.volume_percent <= 100), ctx);
    if (d.is_active) active++;
  }
  assert.equal(active, 1, `one active device: ${JSON.stringify(devices)}`);
  const device = devices.find((d) => d.is_active);
  const state = async () => {
    const r = await api(server, tok, 'GET', '/me/player');
    return expectOk(r, 200);
  };
  const s0 = await state();
  for (const k of ['device', 'repeat_state', 'shuffle_state', 'is_playing', 'progress_ms', 'item', 'timestamp', 'currently_playing_type']) {
    assert.ok(k in s0, `playback state lacks ${k}: ${JSON.stringify(s0).slice(0, 600)}`);
  }
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player/play', { query: { device_id: device.id }, body: { uris: uris.slice(0, 3) } }), 204);
  let s = await state();
  assert.equal(s.is_playing, true, JSON.stringify(s).slice(0, 400));
  assert.equal(s.item?.id, id(uris[0]), 'play with uris starts the first');
  assert.equal(s.device?.id, device.id);
  assertTrack(server, s.item);
  const cp = expectOk(await api(server, tok, 'GET', '/me/player/currently-playing'), 200);
  assert.equal(cp.item?.id, id(uris[0]));
  assert.equal(cp.is_playing, true);
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player/pause'), 204);
  assert.equal((await state()).is_playing, false, 'pause');
  expectEmptyWrite(await api(server, tok, 'POST', '/me/player/next'), 204);
  assert.equal((await state()).item?.id, id(uris[1]), 'next');
  expectEmptyWrite(await api(server, tok, 'POST', '/me/player/previous'), 204);
  assert.equal((await state()).item?.id, id(uris[0]), 'previous');
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player/volume', { query: { volume_percent: 37 } }), 204);
  assert.equal((await state()).device?.volume_percent, 37, 'volume');
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player/repeat', { query: { state: 'context' } }), 204);
  assert.equal((await state()).repeat_state, 'context', 'repeat');
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player/seek', { query: { position_ms: 5000 } }), 204);
  s = await state();
  assert.ok(s.progress_ms >= 5000 && s.progress_ms < s.item.duration_ms, `seek: progress_ms ${s.progress_ms}`);
  expectEmptyWrite(await api(server, tok, 'POST', '/me/player/queue', { query: { uri: uris[3] } }), 204);
  expectEmptyWrite(await api(server, tok, 'POST', '/me/player/next'), 204);
  assert.equal((await state()).item?.id, id(uris[3]), 'a queued track plays next');
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player/shuffle', { query: { state: 'true' } }), 204);
  assert.equal((await state()).shuffle_state, true, 'shuffle');
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player/play'), 204);
  assert.equal((await state()).is_playing, true, 'play without a body resumes');
  for (const [path, query] of [['/me/player/volume', { volume_percent: 101 }], ['/me/player/repeat', { state: 'sometimes' }], ['/me/player/seek', { position_ms: -1 }]]) {
    assertApiError(await api(server, tok, 'PUT', path, { query }), 400);
  }
  const other = devices.find((d) => d.id !== device.id);
  expectEmptyWrite(await api(server, tok, 'PUT', '/me/player', { body: { device_ids: [other.id] } }), 204);
  assert.equal((await state()).device?.id, other.id, 'transfer moves playback');
  const after = await playerDevices(server, tok);
  assert.deepEqual(after.filter((d) => d.is_active).map((d) => d.id), [other.id], 'the target is the one active device');
}
