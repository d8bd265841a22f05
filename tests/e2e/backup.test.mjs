// Backups without downtime (issue 16): `stagepass admin backup --to FILE [--music-to FILE]
// [--force] [--json]` against the real server over real HTTP, then a new server on the copies.
//
// "Issued before the backup" (docs/operations.md, "Backups"): the copy is the database at one
// instant S, when the command opened its read transaction, between the command's start (T0)
// and its exit (T1). A token whose response arrived before T0 was committed before S (a token
// answer follows its durable commit). A refresh token works on the restored server exactly
// when it was its grant's current token at S: issued before S, spent (rotated) after S. So it
// is certain for a token received before T0 and first used after T1; for a client that
// refreshed while the command ran it is whichever of its tokens was current at S, and every
// token requested after T0 that the copy does not know is refused as unknown (invalid_grant).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer, tokenRequest, assertOAuthError, assertTokenOk, Browser, onSqliteOnly } from './lib/server.mjs';
import { api, expectOk, userTokens, sleep, REDIRECT } from './lib/webapi.mjs';

const USER = { email: 'backup@example.com', displayName: 'Backed Up', password: 'backup-password-123' };
const SCOPE = 'user-read-private user-read-email';

// One line on stderr, nothing on stdout, exit code 1.
function assertRefused(r, message, what) {
  assert.equal(r.code, 1, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.equal(r.stdout, '', what);
  assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: ${r.stderr}`);
  assert.match(r.stderr, /^stagepass: /, what);
  assert.match(r.stderr, message, what);
}

const isSqliteFile = (file) => readFileSync(file).subarray(0, 16).toString('latin1') === 'SQLite format 3\0';

describe('admin backup', { skip: onSqliteOnly }, () => {
  let dir;
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'sp-backups-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('refuses what it must not do with one clear line and exit code 1, and --force replaces a file', async () => {
    const server = await startServer({ label: 'sp-backup-refusals' });
    try {
      const live = server.env.STAGEPASS_DATABASE;
      const liveMusic = path.join(path.dirname(live), 'music.db');
      const earlier = path.join(dir, 'earlier.db');
      writeFileSync(earlier, 'an earlier backup');
      writeFileSync(path.join(dir, 'a-file'), 'x');
      mkdirSync(path.join(dir, 'a-dir'));
      const backup = (...args) => server.run(['admin', 'backup', ...args, '--json']);
      const cases = [
        [[], /nothing to back up: give --to FILE/],
        [['--to', earlier], new RegExp(`${earlier} exists \\(pass --force to replace it\\)`)],
        [['--to', path.join(dir, 'new.db'), '--music-to', earlier], /earlier\.db exists \(pass --force/],
        [['--to', live, '--force'], new RegExp(`${live} is a live database file, not a backup`)],
        [['--to', `${live}-wal`, '--force'], /stagepass\.db-wal is a live database file, not a backup/],
        [['--music-to', liveMusic, '--force'], /music\.db is a live database file, not a backup/],
        [['--to', path.join(dir, 'no-such-dir', 'b.db')], /cannot write .*no-such-dir\/b\.db: No such file or directory/],
        [['--to', path.join(dir, 'a-file', 'b.db')], /cannot write .*a-file\/b\.db: Not a directory/],
        [['--to', path.join(dir, 'a-dir'), '--force'], /a-dir exists and is not a regular file/],
        [['--to', path.join(dir, 'same.db'), '--music-to', path.join(dir, 'same.db')], /--to and --music-to name the same file/],
      ];
      for (const [args, message] of cases) assertRefused(await backup(...args), message, args.join(' ') || '(no target)');
      assert.equal(readFileSync(earlier, 'utf8'), 'an earlier backup', 'a refused backup leaves the file as it was');
      assert.equal(statSync(path.join(dir, 'a-dir')).isDirectory(), true);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server serves on');

      const r = await backup('--to', earlier, '--force');
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(out), ['accounts']);
      assert.deepEqual(Object.keys(out.accounts).sort(), ['bytes', 'from', 'pages', 'to']);
      assert.equal(out.accounts.from, live);
      assert.equal(out.accounts.to, earlier);
      assert.equal(out.accounts.bytes, statSync(earlier).size);
      assert.ok(isSqliteFile(earlier), 'the replaced file is a database');
      assert.equal(statSync(earlier).mode & 0o777, 0o600, 'it holds password hashes and sealed keys: owner only');
    } finally {
      await server.stop();
    }
  });

  it('a backup taken under load restores on a new server: every token issued before it still works', async (t) => {
    const settings = {
      STAGEPASS_MASTER_KEY: crypto.randomBytes(32).toString('hex'), // the restore needs the same key
      STAGEPASS_REFRESH_GRACE: '0', // every reuse is reuse: no retry window blurs "current"
      STAGEPASS_RATE_LIMIT: '1000000',
    };
    const live = await startServer({ label: 'sp-backup-live', env: settings });
    let restored;
    try {
      const user = await live.createUser(USER);
      const browser = new Browser(live);
      const newChain = async (name) => {
        const app = await live.createClient({ name, redirectUris: [REDIRECT] });
        const first = await userTokens(live, { client: app, user, scope: SCOPE, browser });
        return { name, app, tokens: [{ refresh: first.refresh_token, access: first.access_token, recvAt: performance.now() }] };
      };
      // Rotators refresh without pause through the backup; pausers stop just before it and go
      // on after it, so the token each holds across the backup is certain to be the current one.
      const rotators = [];
      for (let i = 0; i < 4; i++) rotators.push(await newChain(`Rotator ${i}`));
      const pausers = [];
      for (let i = 0; i < 2; i++) pausers.push(await newChain(`Pauser ${i}`));
      const ccApp = await live.createClient({ name: 'Machine App', redirectUris: [REDIRECT] });

      const failures = [];
      const ccTokens = [];
      let stop = false;
      let pause = false;
      const refresh = (server, chain, token) => tokenRequest(server, { grant_type: 'refresh_token', refresh_token: token.refresh },
        { basic: [chain.app.client_id, chain.app.client_secret] });
      const rotate = async (chain) => {
        const cur = chain.tokens.at(-1);
        cur.spentAt = performance.now();
        const r = await refresh(live, chain, cur);
        if (r.status !== 200) { failures.push(`${chain.name}: refresh ${r.status} ${r.text}`); stop = true; return; }
        chain.tokens.push({ refresh: r.json.refresh_token, access: r.json.access_token, recvAt: performance.now() });
      };
      const parked = new Set();
      const loops = [
        ...rotators.map(async (c) => { while (!stop) await rotate(c); }),
        ...pausers.map(async (c) => {
          while (!stop) {
            if (pause) { parked.add(c); await sleep(5); continue; }
            parked.delete(c);
            await rotate(c);
          }
        }),
        ...[0, 1].map(async () => {
          while (!stop) {
            const r = await tokenRequest(live, { grant_type: 'client_credentials' }, { basic: [ccApp.client_id, ccApp.client_secret] });
            if (r.status !== 200) { failures.push(`client credentials ${r.status} ${r.text}`); continue; }
            ccTokens.push({ access: r.json.access_token, recvAt: performance.now() });
          }
        }),
        (async () => { // the Web API in use meanwhile
          while (!stop) {
            const r = await api(live, rotators[0].tokens.at(-1).access, 'GET', '/me');
            if (r.status !== 200) failures.push(`GET /v1/me ${r.status} ${r.text}`);
          }
        })(),
      ];

      const accountsCopy = path.join(dir, 'accounts-under-load.db');
      const musicCopy = path.join(dir, 'music-under-load.db');
      let backup, T0, T1;
      try {
        await sleep(700);
        pause = true;
        while (parked.size < pausers.length && !stop) await sleep(2);
        T0 = performance.now();
        // Small steps, so the copy spans many of the server's commits (a copy that let them
        // restart it would never end under this load: the command is killed after 20 s).
        backup = await live.run(['admin', 'backup', '--to', accountsCopy, '--music-to', musicCopy, '--step-pages', '4', '--json'],
          { timeoutMs: 20000 });
        T1 = performance.now();
        pause = false;
        await sleep(500);
      } finally {
        stop = true;
        await Promise.all(loops);
      }
      assert.deepEqual(failures.slice(0, 5), [], 'no request failed while the backup ran');
      assert.equal(backup.code, 0, backup.stderr);
      const out = JSON.parse(backup.stdout);
      assert.deepEqual(Object.keys(out), ['accounts', 'music']);
      assert.equal(out.accounts.to, accountsCopy);
      assert.equal(out.music.to, musicCopy);
      const all = [...rotators, ...pausers];
      const answeredDuring = all.flatMap((c) => c.tokens).filter((x) => x.recvAt > T0 && x.recvAt < T1).length +
        ccTokens.filter((x) => x.recvAt > T0 && x.recvAt < T1).length;
      t.diagnostic(`backup under load: ${out.accounts.bytes} + ${out.music.bytes} bytes in ${(T1 - T0).toFixed(0)} ms; ` +
        `${answeredDuring} token requests answered meanwhile; ${all.reduce((n, c) => n + c.tokens.length - 1, 0)} refreshes, ` +
        `${ccTokens.length} client-credentials grants in all`);

      // The restore: the old server goes, a new one starts on the copies with the same master
      // key, at the same address (the tokens' issuer and audience).
      await live.stop();
      restored = await startServer({
        label: 'sp-backup-restored', port: live.port,
        env: { ...settings, STAGEPASS_DATABASE: accountsCopy, STAGEPASS_MUSIC_DATABASE: musicCopy },
      });
      assert.equal(restored.issuer, live.issuer);

      // Access tokens issued before the backup: each one validates on the Web API.
      const ccBefore = ccTokens.filter((x) => x.recvAt < T0);
      assert.ok(ccBefore.length > 0);
      for (const x of ccBefore) expectOk(await api(restored, x.access, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
      let userAccess = 0;
      for (const c of all) {
        for (const x of c.tokens.filter((tok) => tok.recvAt < T0)) {
          assert.equal(expectOk(await api(restored, x.access, 'GET', '/me'), 200).id, user.id, c.name);
          userAccess++;
        }
      }

      // Pausers: the token held across the backup refreshes; one issued after it is unknown;
      // one rotated before it was spent already (reuse: refused, and the grant revoked).
      for (const c of pausers) {
        const held = c.tokens.findLast((x) => x.recvAt < T0);
        const i = c.tokens.indexOf(held);
        assert.ok(i > 0 && held.spentAt > T1, `${c.name}: rotated before the backup, first used after it`);
        assertOAuthError(await refresh(restored, c, c.tokens[i + 1]), 'invalid_grant', 400);
        const renewed = assertTokenOk(await refresh(restored, c, held), `${c.name}: the token held across the backup`);
        expectOk(await api(restored, renewed.access_token, 'GET', '/me'), 200);
        assertOAuthError(await refresh(restored, c, c.tokens[i - 1]), 'invalid_grant', 400);
      }

      // Rotators: newest first, every token the copy does not know is refused as unknown (no
      // side effect) until the one current at the snapshot, which refreshes.
      for (const c of rotators) {
        let k = -1;
        for (let j = c.tokens.length - 1; j >= 0; j--) {
          const r = await refresh(restored, c, c.tokens[j]);
          if (r.status === 200) { k = j; break; }
          assertOAuthError(r, 'invalid_grant', 400);
          assert.ok(j > 0 && c.tokens[j - 1].spentAt >= T0, `${c.name}: token ${j}, unknown to the copy, was requested before the backup began`);
        }
        assert.ok(k >= 0, `${c.name}: no token refreshes on the restored server`);
        const current = c.tokens[k];
        assert.ok(current.spentAt === undefined || current.spentAt >= T0, `${c.name}: the token current in the copy was spent before the backup began`);
        assert.ok(k === 0 || c.tokens[k - 1].spentAt < T1, `${c.name}: the token current in the copy was requested after the backup ended`);
      }
      t.diagnostic(`restored server: ${ccBefore.length} client-credentials and ${userAccess} user access tokens ` +
        `issued before the backup validated; ${all.length} refresh chains resumed`);
    } finally {
      await restored?.stop();
      await live.stop();
    }
  });
});
