// Interop: the official npm Spotify clients, unmodified, against the Stagepass Web API.
//   @spotify/web-api-ts-sdk — its `fetch` option (API calls) and, for the client-credentials
//     token request it makes with the global fetch, a global fetch wrapper in this process;
//     both rewrite https://api.spotify.com/v1/ → <issuer>/v1/ and
//     https://accounts.spotify.com/api/token → <issuer>/api/token.
//   spotify-web-api-node — its own request builders (webapi-request / authentication-request
//     `builder()` + withScheme/withHost/withPort) are wrapped so every request it builds
//     targets the local server.
// Any request still aimed at a spotify.com host fails the test instead of leaving the machine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import https from 'node:https';
import { SpotifyApi } from '@spotify/web-api-ts-sdk';
import { startServer } from './lib/server.mjs';
import { ALL_SCOPES, REDIRECT, WEBAPI_ENV, userTokens, clientToken, discoverCatalog } from './lib/webapi.mjs';

const require = createRequire(import.meta.url);
const SpotifyWebApi = require('spotify-web-api-node');
const webApiRequest = require('spotify-web-api-node/src/webapi-request');
const authenticationRequest = require('spotify-web-api-node/src/authentication-request');

const SPOTIFY_HOST = /^https?:\/\/([^/]*\.)?spotify\.com(:\d+)?(\/|$)/i;
const realFetch = globalThis.fetch;

/** The ts-sdk's URL → the local server's, or an error for any other spotify.com URL. */
function rewriteUrl(server, input) {
  const s = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (s.startsWith('https://api.spotify.com/v1/')) return `${server.url}/v1/${s.slice('https://api.spotify.com/v1/'.length)}`;
  if (s === 'https://accounts.spotify.com/api/token') return `${server.url}/api/token`;
  if (SPOTIFY_HOST.test(s)) throw new Error(`refusing to send a request to ${s}`);
  return s;
}

/** A fetch for the ts-sdk's `fetch` option that logs what it sends. */
function sdkFetch(server, log) {
  return async (input, init) => {
    const url = rewriteUrl(server, input);
    const res = await realFetch(url, init);
    log.push(`${init?.method ?? 'GET'} ${url} → ${res.status}`);
    return res;
  };
}

/** Spotify's `spotify:track:` form, which the server accepts as well as `stagepass:`. */
const spotifyUri = (id) => `spotify:track:${id}`;

describe('Spotify client libraries against the Web API', () => {
  let server;
  let client;
  let alice;
  let token; // alice's token response with every scope
  let narrow; // alice's token response with user-read-private only
  let cat;
  let restoreNode;
  const blocked = [];
  const realHttpsRequest = https.request;
  const realHttpsGet = https.get;

  before(async () => {
    // Guard: nothing in this process may reach a spotify.com host over https.
    const guard = (real) => function guarded(...args) {
      const first = args[0];
      const host = typeof first === 'string' || first instanceof URL ? new URL(first).hostname : (first?.hostname ?? first?.host ?? '');
      if (/(^|\.)spotify\.com$/i.test(String(host).replace(/:\d+$/, ''))) {
        blocked.push(String(host));
        throw new Error(`refusing to send a request to ${host}`);
      }
      return real.apply(this, args);
    };
    https.request = guard(realHttpsRequest);
    https.get = guard(realHttpsGet);

    server = await startServer({ label: 'sp-sdk', env: WEBAPI_ENV, timeoutMs: 30000 });
    client = await server.createClient({ name: 'SDK App', redirectUris: [REDIRECT] });
    alice = await server.createUser({ email: 'alice@example.com', displayName: 'Alice Example', password: 'alice-sdk-password-1' });
    token = await userTokens(server, { client, user: alice, scope: ALL_SCOPES });
    narrow = await userTokens(server, { client, user: alice, scope: 'user-read-private' });
    cat = await discoverCatalog(server, await clientToken(server, client), { want: 8 });

    const u = new URL(server.url);
    const apiBuilder = webApiRequest.builder;
    const authBuilder = authenticationRequest.builder;
    webApiRequest.builder = (accessToken) => apiBuilder(accessToken).withScheme(u.protocol.replace(':', '')).withHost(u.hostname).withPort(Number(u.port));
    authenticationRequest.builder = () => authBuilder().withScheme(u.protocol.replace(':', '')).withHost(u.hostname).withPort(Number(u.port));
    restoreNode = () => { webApiRequest.builder = apiBuilder; authenticationRequest.builder = authBuilder; };
  });
  after(async () => {
    restoreNode?.();
    https.request = realHttpsRequest;
    https.get = realHttpsGet;
    globalThis.fetch = realFetch;
    await server?.stop();
    assert.deepEqual(blocked, [], 'no request may go to spotify.com');
  });

  const t = (i) => cat.tracks[i].id;
  const a = (i) => cat.artists[i].id;

  describe('@spotify/web-api-ts-sdk', () => {
    const log = [];
    let sdk;
    before(() => {
      sdk = SpotifyApi.withAccessToken(client.client_id, { ...token }, { fetch: sdkFetch(server, log) });
    });
    after(() => {
      for (const line of log) assert.ok(line.includes(` ${server.url}/v1/`), `every SDK call went to the local server: ${line}`);
    });

    it('reads the current user profile', async () => {
      const me = await sdk.currentUser.profile();
      assert.equal(me.id, alice.id);
      assert.equal(me.display_name, 'Alice Example');
      assert.equal(me.email, 'alice@example.com');
      assert.equal(me.type, 'user');
      assert.ok(log.length >= 1, 'the SDK used the provided fetch');
    });

    it('saves, lists, checks and removes saved tracks', async () => {
      await sdk.currentUser.tracks.saveTracks([t(0), t(1)]);
      const page = await sdk.currentUser.tracks.savedTracks(10);
      assert.equal(page.total, 2, JSON.stringify(page).slice(0, 300));
      assert.deepEqual(new Set(page.items.map((x) => x.track.id)), new Set([t(0), t(1)]));
      assert.deepEqual(await sdk.currentUser.tracks.hasSavedTracks([t(0), t(2), t(1)]), [true, false, true]);
      await sdk.currentUser.tracks.removeSavedTracks([t(0)]);
      const after = await sdk.currentUser.tracks.savedTracks(10);
      assert.deepEqual(after.items.map((x) => x.track.id), [t(1)]);
      await sdk.currentUser.tracks.removeSavedTracks([t(1)]);
    });

    it('creates a playlist, adds tracks by spotify: URI and lists playlists', async () => {
      const me = await sdk.currentUser.profile();
      const pl = await sdk.playlists.createPlaylist(me.id, { name: 'TS SDK list', description: 'made by the ts sdk', public: false });
      assert.equal(typeof pl.id, 'string');
      assert.equal(pl.name, 'TS SDK list');
      assert.equal(pl.public, false);
      await sdk.playlists.addItemsToPlaylist(pl.id, [spotifyUri(t(2)), spotifyUri(t(3))]);
      const items = await sdk.playlists.getPlaylistItems(pl.id);
      assert.deepEqual(items.items.map((x) => x.track.id), [t(2), t(3)]);
      assert.equal(items.items[0].track.uri, `stagepass:track:${t(2)}`);
      const got = await sdk.playlists.getPlaylist(pl.id);
      assert.equal(got.tracks.total, 2);
      const mine = await sdk.currentUser.playlists.playlists(50);
      assert.ok(mine.items.some((x) => x.id === pl.id), 'the new playlist is listed');
      await sdk.playlists.changePlaylistDetails(pl.id, { name: 'TS SDK list (renamed)' });
      assert.equal((await sdk.playlists.getPlaylist(pl.id)).name, 'TS SDK list (renamed)');
    });

    it('reads playback state (no device: 204 → null) and devices', async () => {
      // alice was created with the admin CLI: no player device (only the demo listener has one).
      const devices = await sdk.player.getAvailableDevices();
      assert.deepEqual(devices, { devices: [] });
      assert.equal(await sdk.player.getPlaybackState(), null, 'GET /me/player 204 → the SDK answers null');
      assert.equal(await sdk.player.getCurrentlyPlayingTrack(), null, 'GET /me/player/currently-playing 204 → null');
      await assert.rejects(sdk.player.pausePlayback(''), /^Error: Unrecognised response code: 404\b.*No active device found/,
        'a command without a device fails with 404');
      const recent = await sdk.player.getRecentlyPlayedTracks(5);
      assert.ok(Array.isArray(recent.items));
    });

    it('follows, checks, lists and unfollows artists', async () => {
      await sdk.currentUser.followArtistsOrUsers([a(0), a(1)], 'artist');
      assert.deepEqual(await sdk.currentUser.followsArtistsOrUsers([a(0), a(2), a(1)], 'artist'), [true, false, true]);
      const followed = await sdk.currentUser.followedArtists();
      assert.deepEqual(new Set(followed.artists.items.map((x) => x.id)), new Set([a(0), a(1)]));
      await sdk.currentUser.unfollowArtistsOrUsers([a(0)], 'artist');
      assert.deepEqual(await sdk.currentUser.followsArtistsOrUsers([a(0), a(1)], 'artist'), [false, true]);
    });

    it('reads top items', async () => {
      const top = await sdk.currentUser.topItems('artists', 'short_term', 5);
      assert.ok(Array.isArray(top.items));
      assert.equal(top.limit, 5);
    });

    it('searches and reads the catalog', async () => {
      const res = await sdk.search('a', ['track', 'artist', 'album'], undefined, 5);
      assert.ok(res.tracks.items.length >= 1 && res.tracks.items.length <= 5);
      assert.ok(res.artists.items.length >= 1 && res.albums.items.length >= 1);
      const track = await sdk.tracks.get(t(0));
      assert.equal(track.id, t(0));
      const several = await sdk.tracks.get([t(0), t(1)]);
      assert.deepEqual(several.map((x) => x.id), [t(0), t(1)]);
      const album = await sdk.albums.get(track.album.id);
      assert.equal(album.id, track.album.id);
      const albumTracks = await sdk.albums.tracks(album.id, undefined, 50);
      assert.ok(albumTracks.items.some((x) => x.id === t(0)));
      const artist = await sdk.artists.get(track.artists[0].id);
      assert.equal(artist.id, track.artists[0].id);
      const albums = await sdk.artists.albums(artist.id);
      assert.ok(albums.total >= 1);
    });

    it('surfaces a missing scope as the SDK\'s 403 error', async () => {
      const limited = SpotifyApi.withAccessToken(client.client_id, { ...narrow }, { fetch: sdkFetch(server, log) });
      await assert.rejects(limited.currentUser.tracks.savedTracks(), /^Error: Bad OAuth request .*"status":403/);
    });

    it('SpotifyApi.withClientCredentials gets a token from /api/token and reads the catalog', async () => {
      const tokenCalls = [];
      globalThis.fetch = async (input, init) => {
        const url = rewriteUrl(server, input);
        if (url.endsWith('/api/token')) tokenCalls.push(url);
        return realFetch(url, init);
      };
      try {
        const cc = SpotifyApi.withClientCredentials(client.client_id, client.client_secret, [], { fetch: sdkFetch(server, log) });
        const res = await cc.search('e', ['album'], undefined, 3);
        assert.ok(res.albums.items.length >= 1 && res.albums.items.length <= 3);
        assert.deepEqual(tokenCalls, [`${server.url}/api/token`], 'the SDK fetched its token from the local token endpoint');
        const tok = await cc.getAccessToken();
        assert.equal(typeof tok?.access_token, 'string');
        assert.equal((await cc.tracks.get(t(4))).id, t(4));
        await assert.rejects(cc.currentUser.profile(), /Bad or expired token/, 'a client-credentials token cannot read /me (401)');
      } finally {
        globalThis.fetch = realFetch;
      }
    });
  });

  describe('spotify-web-api-node', () => {
    let api;
    before(() => {
      api = new SpotifyWebApi({ clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT, accessToken: token.access_token });
    });

    it('reads the current user profile', async () => {
      const r = await api.getMe();
      assert.equal(r.statusCode, 200);
      assert.equal(r.body.id, alice.id);
      assert.equal(r.body.email, 'alice@example.com');
    });

    it('saves, lists, checks and removes saved tracks', async () => {
      const put = await api.addToMySavedTracks([t(4), t(5)]);
      assert.equal(put.statusCode, 200, 'save');
      const list = await api.getMySavedTracks({ limit: 10 });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(new Set(list.body.items.map((x) => x.track.id)), new Set([t(4), t(5)]));
      assert.deepEqual((await api.containsMySavedTracks([t(4), t(6)])).body, [true, false]);
      const del = await api.removeFromMySavedTracks([t(4)]);
      assert.equal(del.statusCode, 200, 'remove');
      assert.deepEqual((await api.getMySavedTracks()).body.items.map((x) => x.track.id), [t(5)]);
    });

    it('creates a playlist (POST /v1/me/playlists), adds tracks and lists playlists', async () => {
      const created = await api.createPlaylist('Node list', { description: 'made by web-api-node', public: false });
      assert.equal(created.statusCode, 201, 'create');
      const id = created.body.id;
      assert.equal(created.body.name, 'Node list');
      const add = await api.addTracksToPlaylist(id, [spotifyUri(t(6)), `stagepass:track:${t(7)}`]);
      assert.equal(add.statusCode, 201);
      assert.equal(typeof add.body.snapshot_id, 'string');
      const items = await api.getPlaylistTracks(id);
      assert.deepEqual(items.body.items.map((x) => x.track.id), [t(6), t(7)]);
      const mine = await api.getUserPlaylists();
      assert.ok(mine.body.items.some((x) => x.id === id));
    });

    it('lists a user\'s playlists by id (GET /v1/users/{id}/playlists)', async () => {
      const me = (await api.getMe()).body;
      const res = await api.getUserPlaylists(me.id, { limit: 50 });
      assert.equal(res.statusCode, 200);
      assert.ok(Array.isArray(res.body.items));
      assert.equal(typeof res.body.total, 'number');
    });

    it('reads playback state: 204 without a device; commands fail with 404', async () => {
      const devices = await api.getMyDevices();
      assert.equal(devices.statusCode, 200);
      assert.deepEqual(devices.body.devices, [], 'alice has no player device');
      const state = await api.getMyCurrentPlaybackState();
      assert.equal(state.statusCode, 204);
      await assert.rejects(api.pause(), (e) => e.statusCode === 404 && /No active device/.test(JSON.stringify(e.body)));
    });

    it('follows, checks, lists and unfollows artists', async () => {
      const f = await api.followArtists([a(2), a(3)]);
      assert.equal(f.statusCode, 204);
      assert.deepEqual((await api.isFollowingArtists([a(2), a(4), a(3)])).body, [true, false, true]);
      const list = await api.getFollowedArtists({ limit: 10 });
      assert.ok(list.body.artists.items.some((x) => x.id === a(2)));
      await api.unfollowArtists([a(2)]);
      assert.deepEqual((await api.isFollowingArtists([a(2), a(3)])).body, [false, true]);
    });

    it('searches and reads the catalog', async () => {
      const s = await api.searchTracks('e', { limit: 5 });
      assert.equal(s.statusCode, 200);
      assert.ok(s.body.tracks.items.length >= 1 && s.body.tracks.items.length <= 5);
      const multi = await api.search('a', ['album', 'artist'], { limit: 3 });
      assert.ok(multi.body.albums.items.length >= 1 && multi.body.artists.items.length >= 1);
      const tr = (await api.getTrack(t(0))).body;
      assert.equal(tr.id, t(0));
      assert.deepEqual((await api.getTracks([t(1), t(0)])).body.tracks.map((x) => x.id), [t(1), t(0)]);
      assert.equal((await api.getAlbum(tr.album.id)).body.id, tr.album.id);
      assert.ok((await api.getAlbumTracks(tr.album.id, { limit: 50 })).body.items.some((x) => x.id === t(0)));
      assert.equal((await api.getArtist(tr.artists[0].id)).body.id, tr.artists[0].id);
      assert.ok((await api.getArtistAlbums(tr.artists[0].id)).body.total >= 1);
      const top = await api.getMyTopTracks({ limit: 5 });
      assert.equal(top.statusCode, 200);
      const recent = await api.getMyRecentlyPlayedTracks({ limit: 5 });
      assert.equal(recent.statusCode, 200);
    });

    it('maps a missing scope to a 403 WebapiRegularError', async () => {
      const limited = new SpotifyWebApi({ accessToken: narrow.access_token });
      await assert.rejects(limited.getMySavedTracks(), (e) => e.statusCode === 403 && e.body?.error?.status === 403);
    });

    it('clientCredentialsGrant gets a token; catalog works, /me is refused', async () => {
      const cc = new SpotifyWebApi({ clientId: client.client_id, clientSecret: client.client_secret });
      const g = await cc.clientCredentialsGrant();
      assert.equal(g.statusCode, 200);
      assert.equal(g.body.token_type, 'Bearer');
      assert.equal(typeof g.body.access_token, 'string');
      assert.equal(g.body.expires_in, 3600);
      cc.setAccessToken(g.body.access_token);
      const s = await cc.searchArtists('a', { limit: 2 });
      assert.ok(s.body.artists.items.length >= 1);
      await assert.rejects(cc.getMe(), (e) => e.statusCode === 401 && e.body?.error?.message === 'Valid user authentication required');
    });
  });
});
