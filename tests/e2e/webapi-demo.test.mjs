// The demo listener of `stagepass serve --demo` (demo@stagepass.local): a lived-in library
// and a player with devices, so the player's "device present" behaviour is tested for real:
// play, pause, next, previous, volume, repeat, seek, queue, shuffle and transfer, each
// visible in GET /v1/me/player.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import {
  ALL_SCOPES, REDIRECT, WEBAPI_ENV, ISO_TIMESTAMP, apiBase, api, expectOk, assertPaging, assertTrack,
  assertPlaylist, clientToken, sessionFor, discoverCatalog, exercisePlayerOnDevices,
} from './lib/webapi.mjs';

const DEMO = { email: 'demo@stagepass.local', password: 'stagepass-demo' };

describe('Web API with the demo listener (serve --demo)', () => {
  let server;
  let demo;
  let full;
  let cat;

  before(async () => {
    server = await startServer({ label: 'sp-webapi-demo', env: WEBAPI_ENV, args: ['--demo'], timeoutMs: 30000 });
    const client = await server.createClient({ name: 'Demo Tester', redirectUris: [REDIRECT] });
    demo = sessionFor(server, client, DEMO);
    full = await demo.tokenFor(ALL_SCOPES);
    cat = await discoverCatalog(server, await clientToken(server, client), { want: 6 });
  });
  after(async () => { await server?.stop(); });

  it('has a lived-in library: saved tracks, followed artists, playlists, history, top items', async () => {
    const me = expectOk(await api(server, full, 'GET', '/me'), 200);
    assert.equal(me.email, DEMO.email);
    const saved = expectOk(await api(server, full, 'GET', '/me/tracks'), 200);
    assertPaging(server, saved, { path: '/me/tracks' });
    assert.ok(saved.total > 0, 'the demo listener has saved tracks');
    const followed = expectOk(await api(server, full, 'GET', '/me/following', { query: { type: 'artist' } }), 200);
    assert.ok(followed.artists.total > 0, 'the demo listener follows artists');
    const playlists = expectOk(await api(server, full, 'GET', '/me/playlists'), 200);
    assertPaging(server, playlists, { path: '/me/playlists' });
    assert.ok(playlists.total >= 3, `three demo playlists: ${playlists.total}`);
    for (const p of playlists.items) assertPlaylist(server, p);
    for (const type of ['tracks', 'artists']) {
      const top = expectOk(await api(server, full, 'GET', `/me/top/${type}`), 200);
      assertPaging(server, top, { path: `/me/top/${type}` });
      assert.ok(top.items.length > 0, `top ${type} from the play history`);
    }
  });

  it('pages recently played tracks newest first with cursors', async () => {
    const first = expectOk(await api(server, full, 'GET', '/me/player/recently-played', { query: { limit: 3 } }), 200);
    assert.equal(first.limit, 3);
    assert.ok(first.items.length > 0, 'the demo listener has a play history');
    assert.ok(first.href.startsWith(`${apiBase(server)}/me/player/recently-played`), first.href);
    for (const it of first.items) {
      assertTrack(server, it.track);
      assert.match(it.played_at, ISO_TIMESTAMP);
    }
    const times = first.items.map((x) => Date.parse(x.played_at));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
    // The demo history holds 30 plays (src/music/demo_library.cpp): a full first page and more.
    assert.equal(first.items.length, 3, JSON.stringify(first).slice(0, 400));
    assert.equal(typeof first.next, 'string', `next while older plays remain: ${JSON.stringify(first).slice(0, 400)}`);
    assert.ok(first.cursors && typeof first.cursors.before === 'string', `cursors.before: ${JSON.stringify(first.cursors)}`);
    const older = expectOk(await api(server, full, 'GET', first.next), 200);
    assert.ok(older.items.length > 0, 'the next page holds older plays');
    for (const x of older.items) assert.ok(Date.parse(x.played_at) <= times.at(-1), 'the next page is older');
  });

  it('is playing on an active device; commands change GET /me/player', async () => {
    const now = expectOk(await api(server, full, 'GET', '/me/player'), 200);
    assert.equal(now.is_playing, true, `the demo player is playing: ${JSON.stringify(now).slice(0, 400)}`);
    assert.equal(now.context?.type, 'playlist', `playing a playlist: ${JSON.stringify(now.context)}`);
    assert.match(now.context?.uri ?? '', /^stagepass:playlist:[0-9A-Za-z]{22}$/);
    assertTrack(server, now.item);
    // The demo listener has two devices, one active (src/music/demo_library.cpp).
    await exercisePlayerOnDevices(server, full, cat.tracks.slice(0, 4).map((t) => `spotify:track:${t.id}`));
  });
});
