// Web API (/v1) behaviour per endpoint group, driven over HTTP against the real binary with
// tokens from the real login/consent pages: profile, library, playlists, player, following,
// top items and recently played, catalog (tracks, albums, artists) and search.
// Scope refusals, token checks, CORS, rate limits, revocation and expiry: webapi-auth.test.mjs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
  ALL_SCOPES, REDIRECT, WEBAPI_ENV, ISO_TIMESTAMP, UNKNOWN_ID, sleep, apiBase, api, describeCall, expectOk,
  assertApiError, assertPaging, assertTrack, assertAlbum, assertArtist, assertPlaylist, assertUser,
  clientToken, userSession, discoverCatalog, expectEmptyWrite, assertPlayerWithoutDevice,
} from './lib/webapi.mjs';

const ids = (items, pick = (x) => x) => items.map((x) => pick(x)?.id);

describe('Web API endpoints', () => {
  let server;
  let client;
  let alice; // {user, browser, tokenFor}
  let bob;
  let cc; // client-credentials token
  let cat; // {tracks, albums, artists} discovered through search
  let full; // alice, every scope

  before(async () => {
    server = await startServer({ label: 'sp-webapi', env: WEBAPI_ENV, timeoutMs: 30000 });
    client = await server.createClient({ name: 'Web Player', redirectUris: [REDIRECT] });
    alice = await userSession(server, client, { email: 'alice@example.com', displayName: 'Alice Example' });
    bob = await userSession(server, client, { email: 'bob@example.com', displayName: 'Bob Example' });
    cc = await clientToken(server, client);
    cat = await discoverCatalog(server, cc, { want: 12 });
    full = await alice.tokenFor(ALL_SCOPES);
  });
  after(async () => { await server?.stop(); });

  const T = (i) => cat.tracks[i];
  const trackUri = (i) => `stagepass:track:${T(i).id}`;

  describe('profile', () => {
    it('GET /v1/me with user-read-private + user-read-email returns the full profile', async () => {
      const tok = await alice.tokenFor(['user-read-private', 'user-read-email']);
      const me = expectOk(await api(server, tok, 'GET', '/me'), 200);
      assertUser(server, me, alice.user.id);
      assert.equal(me.href, `${apiBase(server)}/users/${alice.user.id}`, JSON.stringify(me));
      assert.equal(me.display_name, 'Alice Example');
      assert.equal(me.email, 'alice@example.com');
      assert.equal(typeof me.country, 'string', `country with user-read-private: ${JSON.stringify(me)}`);
      assert.match(me.country, /^[A-Z]{2}$/, 'country is an ISO 3166-1 alpha-2 code');
      assert.equal(typeof me.product, 'string', `product with user-read-private: ${JSON.stringify(me)}`);
      assert.ok(me.followers && Number.isInteger(me.followers.total), `followers.total: ${JSON.stringify(me)}`);
      assert.ok(Array.isArray(me.images), 'images');
    });

    it('shows email only with user-read-email', async () => {
      const tok = await alice.tokenFor(['user-read-email']);
      const me = expectOk(await api(server, tok, 'GET', '/me'), 200);
      assert.equal(me.id, alice.user.id);
      assert.equal(me.email, 'alice@example.com');
      assert.equal(me.country, undefined, `country needs user-read-private: ${JSON.stringify(me)}`);
      assert.equal(me.product, undefined, `product needs user-read-private: ${JSON.stringify(me)}`);
    });

    it('shows country and product only with user-read-private', async () => {
      const tok = await alice.tokenFor(['user-read-private']);
      const me = expectOk(await api(server, tok, 'GET', '/me'), 200);
      assert.equal(me.id, alice.user.id);
      assert.equal(me.email, undefined, `email needs user-read-email: ${JSON.stringify(me)}`);
      assert.equal(typeof me.country, 'string');
      assert.equal(typeof me.product, 'string');
    });

    it('answers GET /v1/me for a user token with neither scope, without private fields', async () => {
      const tok = await alice.tokenFor(['user-library-read']);
      const me = expectOk(await api(server, tok, 'GET', '/me'), 200);
      assertUser(server, me, alice.user.id);
      assert.equal(me.display_name, 'Alice Example');
      for (const k of ['email', 'country', 'product']) assert.equal(me[k], undefined, `${k} must be absent: ${JSON.stringify(me)}`);
    });

    it('GET /v1/me is per user', async () => {
      const tok = await bob.tokenFor(['user-read-email']);
      const me = expectOk(await api(server, tok, 'GET', '/me'), 200);
      assert.equal(me.id, bob.user.id);
      assert.equal(me.email, 'bob@example.com');
      assert.notEqual(me.id, alice.user.id);
    });
  });

  describe('library (saved tracks)', () => {
    it('starts empty, saves (query and body), lists newest first with paging, checks and removes', async () => {
      const tok = await alice.tokenFor(['user-library-read', 'user-library-modify']);
      const empty = expectOk(await api(server, tok, 'GET', '/me/tracks'), 200);
      assertPaging(server, empty, { path: '/me/tracks', limit: 20, offset: 0 });
      assert.equal(empty.total, 0, 'a new user has an empty library');
      assert.deepEqual(empty.items, []);

      expectEmptyWrite(await api(server, tok, 'PUT', '/me/tracks', { query: { ids: T(0).id } }), 200);
      await sleep(1100); // distinct added_at seconds: the order below is then well defined
      expectEmptyWrite(await api(server, tok, 'PUT', '/me/tracks', { body: { ids: [T(1).id] } }), 200);
      await sleep(1100);
      expectEmptyWrite(await api(server, tok, 'PUT', '/me/tracks', { query: { ids: T(2).id } }), 200);

      const all = expectOk(await api(server, tok, 'GET', '/me/tracks'), 200);
      assertPaging(server, all, { path: '/me/tracks', limit: 20, offset: 0 });
      assert.equal(all.total, 3, JSON.stringify(all).slice(0, 500));
      assert.deepEqual(ids(all.items, (x) => x.track), [T(2).id, T(1).id, T(0).id], 'saved tracks are listed newest first');
      for (const item of all.items) {
        assert.match(item.added_at, ISO_TIMESTAMP, `added_at: ${JSON.stringify(item).slice(0, 200)}`);
        assertTrack(server, item.track);
      }

      const p1 = expectOk(await api(server, tok, 'GET', '/me/tracks', { query: { limit: 2 } }), 200);
      assertPaging(server, p1, { path: '/me/tracks', limit: 2, offset: 0 });
      assert.deepEqual(ids(p1.items, (x) => x.track), [T(2).id, T(1).id]);
      assert.equal(typeof p1.next, 'string');
      const p2 = expectOk(await api(server, tok, 'GET', p1.next), 200);
      assertPaging(server, p2, { path: '/me/tracks', limit: 2, offset: 2 });
      assert.deepEqual(ids(p2.items, (x) => x.track), [T(0).id]);
      assert.equal(p2.next, null);
      const back = expectOk(await api(server, tok, 'GET', p2.previous), 200);
      assert.deepEqual(ids(back.items, (x) => x.track), [T(2).id, T(1).id], 'previous leads back to the first page');

      const contains = expectOk(await api(server, tok, 'GET', '/me/tracks/contains', { query: { ids: [T(0).id, T(5).id, T(2).id].join(',') } }), 200);
      assert.deepEqual(contains, [true, false, true]);

      expectEmptyWrite(await api(server, tok, 'PUT', '/me/tracks', { query: { ids: T(0).id } }), 200);
      assert.equal(expectOk(await api(server, tok, 'GET', '/me/tracks'), 200).total, 3, 'saving a saved track again adds nothing');

      expectEmptyWrite(await api(server, tok, 'DELETE', '/me/tracks', { query: { ids: T(0).id } }), 200);
      expectEmptyWrite(await api(server, tok, 'DELETE', '/me/tracks', { body: { ids: [T(2).id] } }), 200);
      const after = expectOk(await api(server, tok, 'GET', '/me/tracks'), 200);
      assert.equal(after.total, 1);
      assert.deepEqual(ids(after.items, (x) => x.track), [T(1).id]);
      assert.deepEqual(expectOk(await api(server, tok, 'GET', '/me/tracks/contains', { query: { ids: `${T(0).id},${T(1).id},${T(2).id}` } }), 200), [false, true, false]);

      const bobs = expectOk(await api(server, await bob.tokenFor(['user-library-read']), 'GET', '/me/tracks'), 200);
      assert.equal(bobs.total, 0, 'one user\'s library is not another\'s');
    });

    it('refuses to save an id that names no track (404) and saves nothing', async () => {
      const tok = await bob.tokenFor(['user-library-read', 'user-library-modify']);
      const r = await api(server, tok, 'PUT', '/me/tracks', { query: { ids: UNKNOWN_ID } });
      assertApiError(r, 404, { message: new RegExp(`^Non existing id: track ${UNKNOWN_ID}\\b`) });
      // One unknown id refuses the whole request: the known one beside it is not saved either.
      assertApiError(await api(server, tok, 'PUT', '/me/tracks', { query: { ids: `${T(0).id},${UNKNOWN_ID}` } }), 404);
      const contains = expectOk(await api(server, tok, 'GET', '/me/tracks/contains', { query: { ids: `${UNKNOWN_ID},${T(0).id}` } }), 200);
      assert.deepEqual(contains, [false, false], 'nothing landed in the library');
      assert.equal(expectOk(await api(server, tok, 'GET', '/me/tracks'), 200).total, 0, 'no phantom track in the library');
    });
  });

  describe('paging parameters', () => {
    const paged = () => [
      ['/me/tracks', {}],
      ['/me/playlists', {}],
      ['/search', { q: 'a', type: 'track' }],
      [`/albums/${cat.albums[0].id}/tracks`, {}],
      [`/artists/${cat.artists[0].id}/albums`, {}],
      ['/me/top/tracks', {}],
    ];

    it('defaults limit to 20 and accepts 1 and 50', async () => {
      for (const [path, query] of paged()) {
        const d = expectOk(await api(server, full, 'GET', path, { query }), 200);
        const page = path === '/search' ? d.tracks : d;
        assert.equal(page.limit, 20, `${path}: default limit 20: ${JSON.stringify(page).slice(0, 300)}`);
        for (const limit of [1, 50]) {
          const r = expectOk(await api(server, full, 'GET', path, { query: { ...query, limit } }), 200);
          assert.equal((path === '/search' ? r.tracks : r).limit, limit, `${path}?limit=${limit}`);
        }
      }
    });

    it('answers 400 naming the parameter for a bad limit or offset', async () => {
      for (const [path, query] of paged()) {
        for (const limit of ['0', '51', '-1', 'abc']) {
          const r = await api(server, full, 'GET', path, { query: { ...query, limit } });
          assertApiError(r, 400, { message: /limit/i });
        }
        for (const offset of ['-1', 'x']) {
          const r = await api(server, full, 'GET', path, { query: { ...query, offset } });
          assertApiError(r, 400, { message: /offset/i });
        }
      }
    });
  });

  describe('playlists', () => {
    const create = (tok, userId, body) => api(server, tok, 'POST', `/users/${userId}/playlists`, { body });
    const itemIds = async (tok, id) => {
      const page = expectOk(await api(server, tok, 'GET', `/playlists/${id}/tracks`, { query: { limit: 50 } }), 200);
      assertPaging(server, page, { path: `/playlists/${id}/tracks` });
      return ids(page.items, (x) => x.track);
    };

    it('creates a private playlist (201) and reads it back', async () => {
      const r = await create(full, alice.user.id, { name: 'Road Trip', description: 'long drives', public: false });
      const p = expectOk(r, 201);
      assertPlaylist(server, p, { full: true });
      assert.equal(p.name, 'Road Trip');
      assert.equal(p.description, 'long drives');
      assert.equal(p.public, false);
      assert.equal(p.collaborative, false);
      assert.equal(p.owner.id, alice.user.id);
      assert.equal(p.tracks.total, 0);
      const got = expectOk(await api(server, full, 'GET', `/playlists/${p.id}`), 200);
      assertPlaylist(server, got, { full: true });
      assert.equal(got.id, p.id);
      assert.equal(got.snapshot_id, p.snapshot_id, 'snapshot_id is stable without changes');
      const mine = expectOk(await api(server, full, 'GET', '/me/playlists', { query: { limit: 50 } }), 200);
      assertPaging(server, mine, { path: '/me/playlists' });
      const listed = mine.items.find((x) => x.id === p.id);
      assert.ok(listed, 'GET /me/playlists lists the new playlist');
      assertPlaylist(server, listed);
    });

    it('changes details (name, description, public)', async () => {
      const p = expectOk(await create(full, alice.user.id, { name: 'Draft', public: false }), 201);
      expectEmptyWrite(await api(server, full, 'PUT', `/playlists/${p.id}`, { body: { name: 'Final', description: 'done' } }), 200);
      let got = expectOk(await api(server, full, 'GET', `/playlists/${p.id}`), 200);
      assert.equal(got.name, 'Final');
      assert.equal(got.description, 'done');
      assert.equal(got.public, false);
      expectEmptyWrite(await api(server, full, 'PUT', `/playlists/${p.id}`, { body: { public: true } }), 200);
      got = expectOk(await api(server, full, 'GET', `/playlists/${p.id}`), 200);
      assert.equal(got.public, true);
      assert.equal(got.name, 'Final', 'fields not sent stay as they were');
    });

    it('adds, reorders, replaces and removes items, each change giving a new snapshot_id', async () => {
      const p = expectOk(await create(full, alice.user.id, { name: 'Mix', public: false }), 201);
      const snaps = [p.snapshot_id];
      const snap = (r, status) => {
        const j = expectOk(r, status);
        assert.equal(typeof j?.snapshot_id, 'string', `answer carries snapshot_id: ${describeCall(r)}`);
        assert.ok(!snaps.includes(j.snapshot_id), `a change gives a new snapshot_id: ${describeCall(r)}`);
        snaps.push(j.snapshot_id);
        return j.snapshot_id;
      };
      snap(await api(server, full, 'POST', `/playlists/${p.id}/tracks`, { body: { uris: [trackUri(0), trackUri(1), trackUri(2)] } }), 201);
      assert.deepEqual(await itemIds(full, p.id), [T(0).id, T(1).id, T(2).id]);

      const page = expectOk(await api(server, full, 'GET', `/playlists/${p.id}/tracks`), 200);
      for (const item of page.items) {
        assert.match(item.added_at, ISO_TIMESTAMP, JSON.stringify(item).slice(0, 200));
        assert.equal(item.added_by?.id, alice.user.id, `added_by: ${JSON.stringify(item).slice(0, 300)}`);
        assert.equal(item.is_local, false);
        assertTrack(server, item.track);
      }

      snap(await api(server, full, 'POST', `/playlists/${p.id}/tracks`, { body: { uris: [trackUri(3)], position: 0 } }), 201);
      assert.deepEqual(await itemIds(full, p.id), [T(3).id, T(0).id, T(1).id, T(2).id], 'position 0 inserts first');

      // uris in the query, with the spotify: prefix
      snap(await api(server, full, 'POST', `/playlists/${p.id}/tracks`, { query: { uris: `spotify:track:${T(4).id}` } }), 201);
      assert.deepEqual(await itemIds(full, p.id), [T(3).id, T(0).id, T(1).id, T(2).id, T(4).id]);
      const last = expectOk(await api(server, full, 'GET', `/playlists/${p.id}/tracks`, { query: { offset: 4, limit: 1 } }), 200);
      assert.equal(last.items[0].track.uri, `stagepass:track:${T(4).id}`, 'a spotify: URI is stored as the track');

      // reorder: move the first item to the end
      snap(await api(server, full, 'PUT', `/playlists/${p.id}/tracks`, { body: { range_start: 0, insert_before: 5, range_length: 1, snapshot_id: snaps.at(-1) } }), 200);
      assert.deepEqual(await itemIds(full, p.id), [T(0).id, T(1).id, T(2).id, T(4).id, T(3).id]);
      // reorder: move the last two to the front
      snap(await api(server, full, 'PUT', `/playlists/${p.id}/tracks`, { body: { range_start: 3, insert_before: 0, range_length: 2 } }), 200);
      assert.deepEqual(await itemIds(full, p.id), [T(4).id, T(3).id, T(0).id, T(1).id, T(2).id]);

      // replace
      snap(await api(server, full, 'PUT', `/playlists/${p.id}/tracks`, { body: { uris: [trackUri(2), trackUri(0), trackUri(5)] } }), 200);
      assert.deepEqual(await itemIds(full, p.id), [T(2).id, T(0).id, T(5).id]);

      // remove
      snap(await api(server, full, 'DELETE', `/playlists/${p.id}/tracks`, { body: { tracks: [{ uri: trackUri(2) }, { uri: `spotify:track:${T(5).id}` }], snapshot_id: snaps.at(-1) } }), 200);
      assert.deepEqual(await itemIds(full, p.id), [T(0).id]);

      const got = expectOk(await api(server, full, 'GET', `/playlists/${p.id}`), 200);
      assert.equal(got.snapshot_id, snaps.at(-1), 'GET /playlists/{id} shows the latest snapshot_id');
      assert.equal(got.tracks.total, 1);
      assert.deepEqual(ids(got.tracks.items, (x) => x.track), [T(0).id]);
    });

    it('refuses malformed track URIs with 400 and leaves the playlist unchanged', async () => {
      const p = expectOk(await create(full, alice.user.id, { name: 'Strict', public: false }), 201);
      for (const uris of [['stagepass:track:not-an-id'], ['not a uri'], [`stagepass:artist:${cat.artists[0].id}`]]) {
        const r = await api(server, full, 'POST', `/playlists/${p.id}/tracks`, { body: { uris } });
        assertApiError(r, 400);
      }
      const r = await api(server, full, 'POST', `/playlists/${p.id}/tracks`, { body: { uris: [`stagepass:track:${UNKNOWN_ID}`] } });
      assertApiError(r, 404, { message: new RegExp(`^Non existing id: track ${UNKNOWN_ID}\\b`) });
      assert.deepEqual(await itemIds(full, p.id), []);
      const got = expectOk(await api(server, full, 'GET', `/playlists/${p.id}`), 200);
      assert.equal(got.snapshot_id, p.snapshot_id, 'refused writes do not change the snapshot');
    });

    it('shows public playlists to another user and hides private ones; only the owner may change them', async () => {
      const pub = expectOk(await create(full, alice.user.id, { name: 'Alice Public', public: true }), 201);
      const priv = expectOk(await create(full, alice.user.id, { name: 'Alice Private', public: false }), 201);
      assert.equal(pub.public, true);
      expectOk(await api(server, full, 'POST', `/playlists/${pub.id}/tracks`, { body: { uris: [trackUri(6)] } }), 201);

      const bobAll = await bob.tokenFor(ALL_SCOPES);
      const theirs = expectOk(await api(server, bobAll, 'GET', `/users/${alice.user.id}/playlists`, { query: { limit: 50 } }), 200);
      assertPaging(server, theirs, { path: `/users/${alice.user.id}/playlists` });
      const seen = theirs.items.map((x) => x.id);
      assert.ok(seen.includes(pub.id), 'another user sees the public playlist');
      assert.ok(!seen.includes(priv.id), 'another user must not see the private playlist');
      for (const x of theirs.items) assert.equal(x.public, true, `only public playlists listed: ${x.id}`);

      const aliceMine = expectOk(await api(server, full, 'GET', '/me/playlists', { query: { limit: 50 } }), 200).items.map((x) => x.id);
      assert.ok(aliceMine.includes(pub.id) && aliceMine.includes(priv.id), 'the owner sees both in /me/playlists');
      const bobMine = expectOk(await api(server, bobAll, 'GET', '/me/playlists', { query: { limit: 50 } }), 200).items.map((x) => x.id);
      assert.ok(!bobMine.includes(pub.id) && !bobMine.includes(priv.id), 'bob\'s /me/playlists has none of alice\'s');

      const readable = expectOk(await api(server, bobAll, 'GET', `/playlists/${pub.id}`), 200);
      assert.equal(readable.owner.id, alice.user.id);
      const snapshotBefore = readable.snapshot_id;

      const writes = [
        ['POST', `/playlists/${pub.id}/tracks`, { uris: [trackUri(7)] }],
        ['PUT', `/playlists/${pub.id}/tracks`, { uris: [trackUri(7)] }],
        ['DELETE', `/playlists/${pub.id}/tracks`, { tracks: [{ uri: trackUri(6) }] }],
        ['PUT', `/playlists/${pub.id}`, { name: 'Hijacked' }],
      ];
      // The playlist is public, so bob may see it: 403 (a private one would be 404, as if absent).
      for (const [method, path, body] of writes) {
        const r = await api(server, bobAll, method, path, { body });
        assertApiError(r, 403);
      }
      const still = expectOk(await api(server, full, 'GET', `/playlists/${pub.id}`), 200);
      assert.equal(still.name, 'Alice Public');
      assert.equal(still.snapshot_id, snapshotBefore, 'another user\'s writes leave the snapshot as it was');
      assert.deepEqual(await itemIds(full, pub.id), [T(6).id], 'another user\'s writes change nothing');

      assertApiError(await create(bobAll, alice.user.id, { name: 'For Alice', public: false }), 403);
    });

    it('answers 404 for an unknown playlist', async () => {
      assertApiError(await api(server, full, 'GET', `/playlists/${UNKNOWN_ID}`), 404);
      assertApiError(await api(server, full, 'GET', `/playlists/${UNKNOWN_ID}/tracks`), 404);
      assertApiError(await api(server, full, 'POST', `/playlists/${UNKNOWN_ID}/tracks`, { body: { uris: [trackUri(0)] } }), 404);
    });
  });

  describe('player', () => {
    it('a new user has no device: GET /me/player → 204, commands → 404 "No active device found"', async () => {
      const tok = await alice.tokenFor(['user-read-playback-state', 'user-modify-playback-state', 'user-read-currently-playing']);
      // A user created with the admin CLI has no player device (only the demo listener has).
      await assertPlayerWithoutDevice(server, tok, [0, 1, 2, 3].map(trackUri));
      const transfer = await api(server, tok, 'PUT', '/me/player', { body: { device_ids: ['no-such-device'] } });
      assertApiError(transfer, 404, { message: /^Non existing id: Device\b/ });
    });

    it('lists recently played tracks as a cursor page', async () => {
      const tok = await alice.tokenFor(['user-read-recently-played']);
      const r = expectOk(await api(server, tok, 'GET', '/me/player/recently-played', { query: { limit: 5 } }), 200);
      const ctx = JSON.stringify(r).slice(0, 600);
      assert.ok(Array.isArray(r.items), ctx);
      assert.equal(r.limit, 5, ctx);
      assert.ok('next' in r && 'cursors' in r && typeof r.href === 'string', `cursor page {href, items, limit, next, cursors}: ${ctx}`);
      assert.ok(r.href.startsWith(`${apiBase(server)}/me/player/recently-played`), ctx);
      assert.ok(r.items.length <= 5);
      for (const it of r.items) {
        assertTrack(server, it.track);
        assert.match(it.played_at, ISO_TIMESTAMP);
      }
      assertApiError(await api(server, tok, 'GET', '/me/player/recently-played', { query: { limit: 51 } }), 400, { message: /limit/i });
    });
  });

  describe('following', () => {
    it('follows artists (query and body), pages them by cursor, checks and unfollows', async () => {
      const tok = await alice.tokenFor(['user-follow-read', 'user-follow-modify']);
      const A = cat.artists.slice(0, 4).map((a) => a.id);
      const empty = expectOk(await api(server, tok, 'GET', '/me/following', { query: { type: 'artist' } }), 200);
      assert.ok(empty.artists && Array.isArray(empty.artists.items), `{artists: {items...}}: ${JSON.stringify(empty)}`);
      assert.equal(empty.artists.total, 0);
      assert.equal(empty.artists.next, null);
      assert.equal(empty.artists.limit, 20);

      expectEmptyWrite(await api(server, tok, 'PUT', '/me/following', { query: { type: 'artist', ids: `${A[0]},${A[1]}` } }), 204);
      expectEmptyWrite(await api(server, tok, 'PUT', '/me/following', { query: { type: 'artist' }, body: { ids: [A[2]] } }), 204);
      assert.deepEqual(expectOk(await api(server, tok, 'GET', '/me/following/contains', { query: { type: 'artist', ids: `${A[0]},${A[3]},${A[2]}` } }), 200), [true, false, true]);

      const all = expectOk(await api(server, tok, 'GET', '/me/following', { query: { type: 'artist' } }), 200).artists;
      assert.equal(all.total, 3);
      assert.deepEqual(new Set(ids(all.items)), new Set(A.slice(0, 3)));
      assert.ok(all.href.startsWith(`${apiBase(server)}/me/following`), all.href);
      for (const a of all.items) assertArtist(server, a, { full: true });

      const first = expectOk(await api(server, tok, 'GET', '/me/following', { query: { type: 'artist', limit: 2 } }), 200).artists;
      assert.equal(first.items.length, 2);
      assert.equal(typeof first.cursors?.after, 'string', `cursors.after: ${JSON.stringify(first)}`);
      assert.equal(typeof first.next, 'string');
      assert.ok(first.next.startsWith(`${apiBase(server)}/me/following`), first.next);
      const second = expectOk(await api(server, tok, 'GET', first.next), 200).artists;
      assert.equal(second.items.length, 1);
      assert.deepEqual(new Set([...ids(first.items), ...ids(second.items)]), new Set(A.slice(0, 3)), 'the cursor pages cover every artist once');
      assert.equal(second.next, null);

      expectEmptyWrite(await api(server, tok, 'DELETE', '/me/following', { query: { type: 'artist', ids: A[0] } }), 204);
      expectEmptyWrite(await api(server, tok, 'DELETE', '/me/following', { query: { type: 'artist' }, body: { ids: [A[2]] } }), 204);
      assert.deepEqual(expectOk(await api(server, tok, 'GET', '/me/following/contains', { query: { type: 'artist', ids: A.slice(0, 3).join(',') } }), 200), [false, true, false]);
      assert.equal(expectOk(await api(server, tok, 'GET', '/me/following', { query: { type: 'artist' } }), 200).artists.total, 1);
    });

    it('answers 400 for a missing or unknown type', async () => {
      const tok = await alice.tokenFor(['user-follow-read', 'user-follow-modify']);
      assertApiError(await api(server, tok, 'GET', '/me/following'), 400);
      assertApiError(await api(server, tok, 'GET', '/me/following', { query: { type: 'album' } }), 400);
      assertApiError(await api(server, tok, 'PUT', '/me/following', { query: { type: 'planet', ids: cat.artists[0].id } }), 400);
    });
  });

  describe('top items', () => {
    it('answers paged top artists and tracks, honouring time_range and limit', async () => {
      const tok = await alice.tokenFor(['user-top-read']);
      for (const type of ['artists', 'tracks']) {
        for (const time_range of [undefined, 'short_term', 'medium_term', 'long_term']) {
          const page = expectOk(await api(server, tok, 'GET', `/me/top/${type}`, { query: { time_range, limit: 10 } }), 200);
          assertPaging(server, page, { path: `/me/top/${type}`, limit: 10, offset: 0 });
          for (const x of page.items) (type === 'artists' ? assertArtist(server, x, { full: true }) : assertTrack(server, x));
        }
      }
    });
  });

  describe('catalog', () => {
    it('GET /tracks/{id} with a client-credentials and a user token', async () => {
      for (const tok of [cc, full]) {
        const t = expectOk(await api(server, tok, 'GET', `/tracks/${T(0).id}`), 200);
        assertTrack(server, t);
        assert.equal(t.id, T(0).id);
        assert.equal(t.name, T(0).name);
        assert.equal(t.href, `${apiBase(server)}/tracks/${t.id}`);
      }
    });

    it('GET /tracks?ids= returns them in order, null for an unknown id', async () => {
      const r = expectOk(await api(server, cc, 'GET', '/tracks', { query: { ids: `${T(2).id},${T(0).id},${UNKNOWN_ID}` } }), 200);
      assert.ok(Array.isArray(r.tracks), JSON.stringify(r).slice(0, 300));
      assert.equal(r.tracks.length, 3);
      assert.equal(r.tracks[0]?.id, T(2).id);
      assert.equal(r.tracks[1]?.id, T(0).id);
      assert.equal(r.tracks[2], null);
      assertTrack(server, r.tracks[0]);
    });

    it('GET /albums/{id}, /albums?ids= and /albums/{id}/tracks agree with the tracks', async () => {
      const track = expectOk(await api(server, cc, 'GET', `/tracks/${T(0).id}`), 200);
      const album = expectOk(await api(server, cc, 'GET', `/albums/${track.album.id}`), 200);
      assertAlbum(server, album, { full: true });
      assert.equal(album.id, track.album.id);
      assert.equal(album.href, `${apiBase(server)}/albums/${album.id}`);

      const all = [];
      let next = `/albums/${album.id}/tracks?limit=2`;
      for (let guard = 0; next && guard < 100; guard++) {
        const page = expectOk(await api(server, cc, 'GET', next), 200);
        assertPaging(server, page, { path: `/albums/${album.id}/tracks`, limit: 2 });
        assert.equal(page.total, album.total_tracks);
        for (const t of page.items) assertTrack(server, t, { simplified: true });
        all.push(...page.items);
        next = page.next;
      }
      assert.equal(all.length, album.total_tracks, 'following next covers every album track');
      assert.ok(all.some((t) => t.id === track.id), 'the album lists the track that names it');
      const sorted = [...all].sort((a, b) => a.disc_number - b.disc_number || a.track_number - b.track_number);
      assert.deepEqual(ids(all), ids(sorted), 'album tracks come in disc/track order');

      const other = cat.albums.find((a) => a.id !== album.id);
      const several = expectOk(await api(server, cc, 'GET', '/albums', { query: { ids: `${album.id},${other.id},${UNKNOWN_ID}` } }), 200);
      assert.deepEqual(several.albums.map((a) => a?.id ?? null), [album.id, other.id, null]);
      assertAlbum(server, several.albums[1], { full: true });
    });

    it('GET /artists/{id}, /artists?ids= and /artists/{id}/albums', async () => {
      const track = expectOk(await api(server, cc, 'GET', `/tracks/${T(1).id}`), 200);
      const artistId = track.artists[0].id;
      const artist = expectOk(await api(server, cc, 'GET', `/artists/${artistId}`), 200);
      assertArtist(server, artist, { full: true });
      assert.equal(artist.href, `${apiBase(server)}/artists/${artistId}`);
      assert.equal(artist.name, track.artists[0].name);

      const albums = expectOk(await api(server, cc, 'GET', `/artists/${artistId}/albums`, { query: { include_groups: 'album,single', limit: 50 } }), 200);
      assertPaging(server, albums, { path: `/artists/${artistId}/albums`, limit: 50 });
      assert.ok(albums.total >= 1, 'the artist of a track has at least one album');
      for (const a of albums.items) {
        assertAlbum(server, a);
        assert.ok(a.artists.some((x) => x.id === artistId), `album ${a.id} lists the artist`);
      }
      // Every group (no include_groups): the album of a track the artist plays on is among
      // the artist's albums, as their own release or under appears_on.
      const everyAlbum = [];
      let next = `/artists/${artistId}/albums?limit=50`;
      for (let guard = 0; next && guard < 100; guard++) {
        const page = expectOk(await api(server, cc, 'GET', next), 200);
        everyAlbum.push(...page.items.map((a) => a.id));
        next = page.next;
      }
      assert.ok(everyAlbum.includes(track.album.id), `the track's album ${track.album.id} is among the artist's albums: ${everyAlbum}`);

      const other = cat.artists.find((a) => a.id !== artistId);
      const several = expectOk(await api(server, cc, 'GET', '/artists', { query: { ids: `${other.id},${artistId},${UNKNOWN_ID}` } }), 200);
      assert.deepEqual(several.artists.map((a) => a?.id ?? null), [other.id, artistId, null]);
      assertArtist(server, several.artists[0], { full: true });
    });

    it('answers 404 for unknown ids and 400 for malformed ones', async () => {
      for (const kind of ['tracks', 'albums', 'artists']) {
        assertApiError(await api(server, cc, 'GET', `/${kind}/${UNKNOWN_ID}`), 404);
        assertApiError(await api(server, cc, 'GET', `/${kind}/not-a-base62-id!`), 400, { message: 'Invalid base62 id' });
      }
      assertApiError(await api(server, cc, 'GET', `/albums/${UNKNOWN_ID}/tracks`), 404);
      assertApiError(await api(server, cc, 'GET', `/artists/${UNKNOWN_ID}/albums`), 404);
    });
  });

  describe('search', () => {
    it('returns one paging object per requested type', async () => {
      const r = expectOk(await api(server, cc, 'GET', '/search', { query: { q: 'a', type: 'track,album,artist', limit: 5 } }), 200);
      for (const key of ['tracks', 'albums', 'artists']) assertPaging(server, r[key], { path: '/search', limit: 5, offset: 0, what: `search ${key}` });
      r.tracks.items.forEach((t) => assertTrack(server, t));
      r.albums.items.forEach((a) => assertAlbum(server, a));
      r.artists.items.forEach((a) => assertArtist(server, a, { full: true }));

      const only = expectOk(await api(server, cc, 'GET', '/search', { query: { q: 'a', type: 'album', limit: 3 } }), 200);
      assert.deepEqual(Object.keys(only), ['albums'], `type=album answers only albums: ${Object.keys(only)}`);
    });

    it('finds a track by its exact name', async () => {
      const t = T(3);
      const r = expectOk(await api(server, cc, 'GET', '/search', { query: { q: t.name, type: 'track', limit: 50 } }), 200);
      assert.ok(r.tracks.total >= 1, `searching "${t.name}" finds something`);
      assert.ok(r.tracks.items.some((x) => x.name === t.name), `a track named "${t.name}" is on the first page`);
    });

    it('pages results with offset, limit and next', async () => {
      const p1 = expectOk(await api(server, cc, 'GET', '/search', { query: { q: 'e', type: 'track', limit: 5, offset: 0 } }), 200).tracks;
      assert.ok(p1.total > 10, `enough results to page: total ${p1.total}`);
      assert.equal(p1.items.length, 5);
      const p2 = expectOk(await api(server, cc, 'GET', '/search', { query: { q: 'e', type: 'track', limit: 5, offset: 5 } }), 200).tracks;
      assertPaging(server, p2, { path: '/search', limit: 5, offset: 5 });
      assert.equal(p2.total, p1.total, 'total does not depend on the page');
      assert.equal(ids(p1.items).filter((id) => ids(p2.items).includes(id)).length, 0, 'pages do not overlap');
      const viaNext = expectOk(await api(server, cc, 'GET', p1.next), 200).tracks;
      assert.deepEqual(ids(viaNext.items), ids(p2.items), 'next is the following page');
    });

    it('answers 400 for a missing q, a missing or unknown type', async () => {
      assertApiError(await api(server, cc, 'GET', '/search', { query: { type: 'track' } }), 400);
      assertApiError(await api(server, cc, 'GET', '/search', { query: { q: 'a' } }), 400);
      assertApiError(await api(server, cc, 'GET', '/search', { query: { q: 'a', type: 'spaceship' } }), 400);
    });
  });
});
