// The full generated catalog (STAGEPASS_CATALOG_SCALE=1): at least 100,000 tracks, 10,000
// albums and 2,000 artists, counted through the Web API itself. Search matches word
// prefixes, so a single query's total is only a loose lower bound; instead the artists are
// enumerated (the union of artist searches for every letter and digit, paged to the end),
// their albums collected from /artists/{id}/albums (distinct ids), and tracks counted as the
// sum of those albums' total_tracks. It never skips: a boot that does not answer within
// BOOT_TIMEOUT_MS (a hang guard, many times the few seconds a release build needs) fails it,
// and the measured boot time is reported as a diagnostic, not asserted.
// Under the sanitizers (scripts/test-asan.sh sets STAGEPASS_TEST_SANITIZED=1) an -O0 ASan
// build generates and walks the catalog many times slower, so that run uses a tenth of it
// (STAGEPASS_CATALOG_SCALE=0.1) and expects a tenth of each count; the release run checks the
// full size.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { REDIRECT, api, describeCall, clientToken } from './lib/webapi.mjs';

const SANITIZED = process.env.STAGEPASS_TEST_SANITIZED === '1';
const SCALE = SANITIZED ? 0.1 : 1;
const WANT = { artists: 2000 * SCALE, albums: 10000 * SCALE, tracks: 100000 * SCALE };
const BOOT_TIMEOUT_MS = 90000;
const CONCURRENCY = 4;

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool(items, n, fn) {
  let i = 0;
  const workers = Array.from({ length: n }, async () => {
    while (i < items.length) {
      const k = i++;
      await fn(items[k]);
    }
  });
  await Promise.all(workers);
}

const count = (n) => n.toLocaleString('en-US');

describe(`Web API catalog at STAGEPASS_CATALOG_SCALE=${SCALE}`, () => {
  let server;
  let bootMs;
  let bootError;
  before(async () => {
    const t0 = Date.now();
    try {
      server = await startServer({
        label: 'sp-webapi-scale',
        env: { STAGEPASS_CATALOG_SCALE: String(SCALE), STAGEPASS_RATE_LIMIT: '1000000', STAGEPASS_ACCESS_LOG: 'off' },
        timeoutMs: BOOT_TIMEOUT_MS,
      });
    } catch (e) {
      bootError = e;
    }
    bootMs = Date.now() - t0;
  });
  after(async () => { await server?.stop(); });

  it(`has ≥${count(WANT.artists)} artists, ≥${count(WANT.albums)} albums and ≥${count(WANT.tracks)} tracks`, { timeout: 300000 }, async (t) => {
    if (bootError) throw bootError;
    const client = await server.createClient({ name: 'Counter', redirectUris: [REDIRECT] });
    const tok = await clientToken(server, client);
    const get = async (path, query) => {
      const r = await api(server, tok, 'GET', path, { query });
      assert.equal(r.status, 200, describeCall(r));
      return r.json;
    };

    const artists = new Set();
    const letters = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
    await pool(letters, CONCURRENCY, async (q) => {
      for (let offset = 0; ; offset += 50) {
        const page = (await get('/search', { q, type: 'artist', limit: 50, offset })).artists;
        for (const a of page.items) artists.add(a.id);
        if (!page.next || page.items.length === 0) break;
      }
    });
    t.diagnostic(`boot ${bootMs} ms; ${artists.size} distinct artists found by search`);
    assert.ok(artists.size >= WANT.artists, `artists: ${artists.size}`);

    const albums = new Map(); // id → total_tracks
    await pool([...artists], CONCURRENCY, async (id) => {
      for (let offset = 0; ; offset += 50) {
        const page = await get(`/artists/${id}/albums`, { limit: 50, offset });
        for (const al of page.items) albums.set(al.id, al.total_tracks);
        if (!page.next || page.items.length === 0) break;
      }
    });
    const tracks = [...albums.values()].reduce((s, n) => s + n, 0);
    t.diagnostic(`${albums.size} distinct albums; ${tracks} tracks by their total_tracks`);
    assert.ok(albums.size >= WANT.albums, `albums: ${albums.size}`);
    assert.ok(tracks >= WANT.tracks, `tracks: ${tracks}`);
  });
});
