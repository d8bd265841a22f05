// The full generated catalog (STAGEPASS_CATALOG_SCALE=1): at least 100,000 tracks, 10,000
// albums and 2,000 artists, counted through the Web API itself. Search matches word
// prefixes, so a single query's total is only a loose lower bound; instead the artists are
// enumerated (the union of artist searches for every letter and digit, paged to the end),
// their albums collected from /artists/{id}/albums (distinct ids), and tracks counted as the
// sum of those albums' total_tracks. Runs only when the server boots with that catalog
// within BOOT_BUDGET_MS; a slower boot skips with the measured time.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { REDIRECT, api, describeCall, clientToken } from './lib/webapi.mjs';

const BOOT_BUDGET_MS = 20000;
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

describe('Web API full-size catalog (STAGEPASS_CATALOG_SCALE=1)', () => {
  let server;
  let bootMs;
  let bootError;
  before(async () => {
    const t0 = Date.now();
    try {
      server = await startServer({
        label: 'sp-webapi-scale',
        env: { STAGEPASS_CATALOG_SCALE: '1', STAGEPASS_RATE_LIMIT: '1000000', STAGEPASS_ACCESS_LOG: 'off' },
        timeoutMs: 90000,
      });
    } catch (e) {
      bootError = e;
    }
    bootMs = Date.now() - t0;
  });
  after(async () => { await server?.stop(); });

  it('has ≥2,000 artists, ≥10,000 albums and ≥100,000 tracks', { timeout: 300000 }, async (t) => {
    if (bootError) throw bootError;
    if (bootMs > BOOT_BUDGET_MS) {
      t.skip(`boot with the full catalog took ${bootMs} ms (> ${BOOT_BUDGET_MS} ms budget)`);
      return;
    }
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
    assert.ok(artists.size >= 2000, `artists: ${artists.size}`);

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
    assert.ok(albums.size >= 10000, `albums: ${albums.size}`);
    assert.ok(tracks >= 100000, `tracks: ${tracks}`);
  });
});
