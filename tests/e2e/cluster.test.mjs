// Several nodes on one PostgreSQL behind HAProxy (issue 16; docs/operations.md, "Running
// several nodes"): three `stagepass serve` nodes and one api-only node, the real binary, a
// real PostgreSQL 15 (scripts/pg-test-server.sh) and HAProxy running deploy/haproxy.cfg, the
// configuration operators copy (tests/e2e/lib/cluster.mjs). Sign-in and consent through the
// balancer, sessions and refresh rotation across nodes, revocation pushed to every node (the
// time until each other node refuses the token, p50/p99, printed, never asserted beyond a
// bound that catches "never propagated"), the rate limit across nodes, and a PostgreSQL outage
// under load. Skips with a message when postgresql-15 or haproxy is not installed, and under
// the sanitizers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Browser, authorizeInBrowser, classifyPage, findForm, pageText, pkcePair, randomState, tokenRequest, assertTokenOk, assertOAuthError, basicAuth } from './lib/server.mjs';
import { REDIRECT, api, describeCall, expectOk, assertInvalidToken, userTokens, clientToken, createRateLimitedClient, sleep } from './lib/webapi.mjs';
import { startCluster, missingClusterTools, crashSigns } from './lib/cluster.mjs';

// Under the sanitizers (scripts/test-asan.sh) the five servers would cost minutes; the code
// they run is covered there by the unit and conformance suites and the other e2e files.
const missing = process.env.ASAN_OPTIONS ? 'not under the sanitizers (ASAN_OPTIONS is set)' : missingClusterTools();
// Trials of the propagation measurement (the issue asks for 100); fewer for a quick run.
const TRIALS = Number(process.env.STAGEPASS_CLUSTER_TRIALS || 100);
const POLL_TRIALS = Math.max(5, Math.round(TRIALS / 10));
// Far above any propagation we expect (the poll interval is 1 s): past it a revocation
// "never propagated".
const NEVER_MS = 5000;
const SCOPE = 'user-read-email user-read-private';
const PASSWORD = 'cluster-battery-staple-42';

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}
const fmt = ({ n, p50, p99, max }) => `n=${n} p50=${p50.toFixed(1)} ms p99=${p99.toFixed(1)} ms max=${max.toFixed(1)} ms`;

async function post(server, path, params, c) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(c.client_id, c.client_secret) },
    body: new URLSearchParams(params),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}
const refresh = (server, c, rt) => tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt }, { basic: [c.client_id, c.client_secret] });
const status = async (node, token, path = '/me') => (await api(node, token, 'GET', path)).status;

/**
 * Polls `node` with `token` until it answers 401; resolves the milliseconds from `t0`
 * (performance.now()). Any answer but 200 or 401 fails; past NEVER_MS too.
 */
async function untilRefused(node, token, t0, what) {
  for (;;) {
    const r = await api(node, token, 'GET', '/me');
    const at = performance.now();
    if (r.status === 401) { assertInvalidToken(r, what); return at - t0; }
    assert.equal(r.status, 200, `${what}: ${describeCall(r)}`);
    assert.ok(at - t0 < NEVER_MS, `${what}: still accepted ${NEVER_MS} ms after the revocation (never propagated?)`);
  }
}

describe('cluster: 3 serve nodes + 1 api-only node on PostgreSQL behind HAProxy', { skip: missing ? `cluster tests skipped: ${missing}` : false }, () => {
  let c;
  let app;
  let person;

  before(async () => {
    c = await startCluster({ env: { STAGEPASS_RATE_LIMIT: '1000000' } });
    app = await c.nodes[0].createClient({ name: 'Cluster App', redirectUris: [REDIRECT] });
  });
  after(async () => { await c?.stop(); });

  const nodeName = (n) => (n === c.api ? 'api' : `node${c.nodes.indexOf(n) + 1}`);

  it('the balancer runs deploy/haproxy.cfg: one issuer and one JWKS on every node, http only redirects pages', async () => {
    const meta = await (await fetch(`${c.lb.url}/.well-known/oauth-authorization-server`)).json();
    assert.equal(meta.issuer, c.lb.url);
    assert.equal(meta.token_endpoint, `${c.lb.url}/api/token`);
    const kids = async (base) => (await (await fetch(`${base}/.well-known/jwks.json`)).json()).keys.map((k) => k.kid).sort().join(' ');
    const lbKids = await kids(c.lb.url);
    for (const n of c.nodes) {
      const m = await (await fetch(`${n.url}/.well-known/oauth-authorization-server`)).json();
      assert.equal(m.issuer, c.lb.url, `${nodeName(n)} names the balancer as issuer`);
      assert.equal(await kids(n.url), lbKids, `${nodeName(n)} publishes the same keys`);
    }
    // /readyz and /metrics only on each node's admin listener.
    for (const p of ['/readyz', '/metrics']) assert.equal((await fetch(`${c.lb.url}${p}`)).status, 404, p);
    // The plain-http frontend: pages redirect to https, /api and /v1 are refused.
    const http = `http://${c.lb.redirectUrl}`;
    const page = await fetch(`${http}/login`, { redirect: 'manual' });
    assert.equal(page.status, 308);
    assert.match(page.headers.get('location'), /^https:\/\/[^/]+\/login$/);
    assert.equal((await fetch(`${http}/v1/me`, { redirect: 'manual' })).status, 403);
    assert.equal((await fetch(`${http}/api/token`, { method: 'POST', redirect: 'manual' })).status, 400);
  });

  it('a node given another master key refuses to start (it could not open the shared signing keys)', async () => {
    await assert.rejects(
      c.startNode({ label: 'sp-cluster-wrong-key', env: { STAGEPASS_MASTER_KEY: crypto.randomBytes(32).toString('hex') } }),
      /exited before becoming healthy[\s\S]*master key/,
    );
  });

  it('each node sees the client behind the balancer (X-Forwarded-For), never an address the client forged', async () => {
    const probe = `/cluster-ip-${crypto.randomBytes(6).toString('hex')}`;
    for (let i = 0; i < 3; i++) {
      await (await fetch(`${c.lb.url}${probe}`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).arrayBuffer();
    }
    await sleep(200);
    const lines = c.nodes.flatMap((n) => n.stdout().split('\n').filter((l) => l.includes(`"path":"${probe}"`)).map((l) => JSON.parse(l)));
    assert.equal(lines.length, 3, 'one access-log line per request');
    // The balancer connects from 127.0.0.2 (STAGEPASS_TRUSTED_PROXIES); the client is 127.0.0.1.
    for (const l of lines) assert.equal(l.ip, '127.0.0.1', JSON.stringify(l));
  });

  it('sign up, sign in and consent through the balancer; the session holds on every node', async () => {
    const browser = new Browser(c.lb);
    const email = `cluster.${randomState().toLowerCase().replace(/[^a-z0-9]/g, '')}@example.com`;
    const signup = await browser.get('/signup');
    const { kind, form } = classifyPage(signup);
    assert.equal(kind, 'signup', signup.text.slice(0, 800));
    const posted = await browser.submit(signup, form, { email, display_name: 'Cluster Person', password: PASSWORD });
    assert.equal(posted.status, 303, browser.traceText());
    const login = await browser.login(email, PASSWORD);
    assert.equal(login.status, 303, `sign-in through the balancer:\n${browser.traceText()}`);
    person = { email, password: PASSWORD, browser };

    // Consent through the balancer: every hop may land on another node.
    const pk = pkcePair();
    const flow = await authorizeInBrowser({ server: c.lb, browser, clientId: app.client_id, redirectUri: REDIRECT, scope: SCOPE, state: randomState(), codeChallenge: pk.challenge });
    assert.equal(flow.stoppedAt, 'redirect', browser.traceText());
    assert.ok(flow.consentShown, 'the consent page was shown');
    assert.equal(flow.loginShown, false, 'no second sign-in: the session is known to every node');
    const tok = assertTokenOk(await tokenRequest(c.lb, { grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, code_verifier: pk.verifier }, { basic: [app.client_id, app.client_secret] }));

    // Each serve node directly, with the same cookies: signed in, the app listed.
    for (const n of c.nodes) {
      const direct = new Browser(n);
      direct.jar = browser.jar;
      const page = await direct.get('/account/apps');
      assert.equal(page.status, 200, `${nodeName(n)}: GET /account/apps → ${page.status} ${page.location ?? ''}`);
      assert.match(pageText(page.text), /Cluster App/, `${nodeName(n)} shows the consented app`);
    }
    // The token on every node, the api-only one included.
    for (const n of c.all) assert.equal(expectOk(await api(n, tok.access_token, 'GET', '/me'), 200).email, email, nodeName(n));
  });

  it('refresh on every node in turn: rotation holds, and a reused token revokes the grant on every node', async () => {
    const t = await userTokens(c.lb, { client: app, user: person, scope: SCOPE, browser: person.browser });
    const chain = [t.refresh_token];
    let at = t.access_token;
    for (let round = 0; round < 2; round++) {
      for (const n of c.nodes) {
        const next = assertTokenOk(await refresh(n, app, chain.at(-1)), `refresh on ${nodeName(n)}`);
        chain.push(next.refresh_token);
        at = next.access_token;
        for (const m of c.all) assert.equal(await status(m, at), 200, `token from ${nodeName(n)} on ${nodeName(m)}`);
      }
    }
    // A token two rotations back (its successor was used: no grace) presented to another node.
    assertOAuthError(await refresh(c.nodes[1], app, chain.at(-3)), 'invalid_grant');
    // The grant is revoked: the current refresh token fails on a third node, and the latest
    // access token is refused everywhere.
    assertOAuthError(await refresh(c.nodes[2], app, chain.at(-1)), 'invalid_grant');
    const t0 = performance.now();
    await Promise.all(c.all.map((n) => untilRefused(n, at, t0, `${nodeName(n)} after refresh-token reuse`)));
  });

  it(`a revocation through one node is refused by each other node (NOTIFY; ${TRIALS} trials + Remove access)`, async (t) => {
    // RFC 7009 access-token revocations, through each serve node in turn.
    let tok = await userTokens(c.lb, { client: app, user: person, scope: SCOPE, browser: person.browser });
    let rt = tok.refresh_token;
    const perNode = new Map(c.all.map((n) => [n, []]));
    const worst = [];
    for (let i = 0; i < TRIALS; i++) {
      const next = assertTokenOk(await refresh(c.lb, app, rt), `refresh before trial ${i}`);
      rt = next.refresh_token;
      const at = next.access_token;
      for (const n of c.all) assert.equal(await status(n, at), 200, `trial ${i}: ${nodeName(n)} accepts the token first (now cached)`);
      const revoker = c.nodes[i % c.nodes.length];
      const r = await post(revoker, '/api/revoke', { token: at, token_type_hint: 'access_token' }, app);
      const t0 = performance.now();
      assert.equal(r.status, 200, r.text);
      assert.equal(await status(revoker, at), 401, `trial ${i}: the revoking node refuses at once`);
      const others = c.all.filter((n) => n !== revoker);
      const times = await Promise.all(others.map((n) => untilRefused(n, at, t0, `trial ${i}: ${nodeName(n)}`)));
      others.forEach((n, k) => perNode.get(n).push(times[k]));
      worst.push(Math.max(...times));
    }
    t.diagnostic(`access token revoked (RFC 7009), until EVERY other node refuses: ${fmt(stats(worst))}`);
    for (const [n, v] of perNode) t.diagnostic(`  ${nodeName(n)}: ${fmt(stats(v))}`);

    // "Remove access" on the account page through the balancer: the grant, on every node.
    const removed = [];
    for (let i = 0; i < 10; i++) {
      tok = await userTokens(c.lb, { client: app, user: person, scope: SCOPE, browser: person.browser });
      for (const n of c.all) assert.equal(await status(n, tok.access_token), 200);
      const b = person.browser;
      const apps = await b.get('/account/apps');
      const form = findForm(apps.text, apps.url, '/account/apps/remove');
      assert.ok(form, `the apps page has a Remove form:\n${pageText(apps.text).slice(0, 500)}`);
      const confirm = await b.submit(apps, form);
      const done = await b.submit(confirm, findForm(confirm.text, confirm.url, '/account/apps/remove'));
      const t0 = performance.now();
      assert.equal(done.status, 303, b.traceText());
      const times = await Promise.all(c.all.map((n) => untilRefused(n, tok.access_token, t0, `removal ${i}: ${nodeName(n)}`)));
      removed.push(Math.max(...times));
      assertOAuthError(await refresh(c.lb, app, tok.refresh_token), 'invalid_grant');
    }
    t.diagnostic(`Remove access (grant) through the balancer, until EVERY node refuses: ${fmt(stats(removed))}`);
  });

  it(`with STAGEPASS_REVOCATION_PUSH=poll a node learns within the poll interval (${POLL_TRIALS} trials)`, async (t) => {
    const pollEnv = { STAGEPASS_REVOCATION_PUSH: 'poll' };
    const pollApi = await c.startNode({ label: 'sp-cluster-poll-api', env: { ...pollEnv, STAGEPASS_ROLES: 'api' } });
    const pollServe = await c.startNode({ label: 'sp-cluster-poll-serve', env: pollEnv });
    c.extra.push(pollApi, pollServe);
    const polled = [pollApi, pollServe];
    const tok = await userTokens(c.lb, { client: app, user: person, scope: SCOPE, browser: person.browser });
    let rt = tok.refresh_token;
    const times = new Map(polled.map((n) => [n, []]));
    for (let i = 0; i < POLL_TRIALS; i++) {
      const next = assertTokenOk(await refresh(c.lb, app, rt));
      rt = next.refresh_token;
      for (const n of polled) assert.equal(await status(n, next.access_token), 200);
      const r = await post(c.nodes[0], '/api/revoke', { token: next.access_token, token_type_hint: 'access_token' }, app);
      const t0 = performance.now();
      assert.equal(r.status, 200);
      const got = await Promise.all(polled.map((n) => untilRefused(n, next.access_token, t0, `poll trial ${i}`)));
      polled.forEach((n, k) => times.get(n).push(got[k]));
    }
    t.diagnostic(`poll, api-only node: ${fmt(stats(times.get(pollApi)))}`);
    t.diagnostic(`poll, serve node:    ${fmt(stats(times.get(pollServe)))}`);
    for (const n of polled) await n.stop();
    c.extra.length = 0;
  });

  it('rate limits across nodes: through the balancer the cluster admits about the app\'s limit, not 4 times it', async (t) => {
    // STAGEPASS_API_NODES=4 on every node: an app limited to 40 units per 30 s gets 10 on each.
    const limit = 40;
    const limited = await createRateLimitedClient(c.nodes[0], { name: 'Limited Cluster App', rateLimit: limit });
    const token = await clientToken(c.lb, limited);
    const counts = { 200: 0, 429: 0 };
    for (let i = 0; i < 3 * limit; i++) {
      const r = await api(c.lb, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } });
      assert.ok(r.status === 200 || r.status === 429, describeCall(r));
      counts[r.status]++;
    }
    t.diagnostic(`limit ${limit} per 30 s, ${3 * limit} calls through the balancer: ${counts[200]} admitted, ${counts[429]} refused (429)`);
    // Round robin over 4 nodes, each admitting ceil(40 / 4) = 10: 40, give or take a node's share.
    assert.ok(counts[200] >= limit - limit / 4 && counts[200] <= limit + 4, `admitted ${counts[200]}, expected about ${limit}`);
    // One node alone enforces its share.
    const other = await createRateLimitedClient(c.nodes[0], { name: 'Limited Direct App', rateLimit: limit });
    const direct = await clientToken(c.lb, other);
    const seen = [];
    for (let i = 0; i < limit / 4 + 2; i++) seen.push(await status(c.api, direct, '/search?q=a&type=artist&limit=1'));
    assert.deepEqual(seen, [...Array(limit / 4).fill(200), 429, 429]);
  });

  it('PostgreSQL outage under load: 503 + Retry-After fast, /readyz red, the Web API serves; recovery without restart', async (t) => {
    // Clients: 3 people refreshing (one grant each), client-credentials loops, Web API loops.
    const people = [];
    for (let i = 0; i < 3; i++) {
      const u = await c.nodes[0].createUser({ email: `outage${i}@example.com`, displayName: `Outage ${i}`, password: PASSWORD });
      const tok = await userTokens(c.lb, { client: app, user: { ...u, password: PASSWORD }, scope: SCOPE });
      people.push({ rt: tok.refresh_token, at: tok.access_token });
    }
    const ccToken = await clientToken(c.lb, app);
    // A revocation made before the outage, and a token every node has cached.
    const doomed = assertTokenOk(await refresh(c.lb, app, people[0].rt));
    people[0].rt = doomed.refresh_token;
    assert.equal((await post(c.nodes[0], '/api/revoke', { token: doomed.access_token }, app)).status, 200);
    await Promise.all(c.all.map((n) => untilRefused(n, doomed.access_token, performance.now(), 'before the outage')));
    const steady = people[2].at; // the Web API loops use people[1] and [2]'s first tokens
    for (const n of c.all) assert.equal(await status(n, steady), 200);

    let phase = 'before';
    let running = true;
    // The load ends when the test says so, or at the latest after a minute (a failed check).
    const loadEnds = performance.now() + 60000;
    const go = () => running && performance.now() < loadEnds;
    const log = []; // {phase, kind, status, ms, retryAfter, error}
    const issued = []; // access tokens received (200), with the phase
    async function timed(kind, fn) {
      const t0 = performance.now();
      let r;
      try {
        r = await fn();
      } catch (e) {
        log.push({ phase, kind, status: 0, ms: performance.now() - t0, error: e.cause?.code || e.message });
        return null;
      }
      log.push({ phase, kind, status: r.status, ms: performance.now() - t0, retryAfter: r.headers.get('retry-after'), error: r.json?.error?.message ?? r.json?.error });
      return r;
    }
    const signal = () => AbortSignal.timeout(10000);
    const oauth = (params, p) => timed(p, async () => {
      const res = await fetch(`${c.lb.url}/api/token`, { method: 'POST', signal: signal(), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(app.client_id, app.client_secret) }, body: new URLSearchParams(params) });
      const text = await res.text();
      let json; try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, headers: res.headers, json, text };
    });
    const webapi = (token, path, kind) => timed(kind, async () => {
      const res = await fetch(`${c.lb.url}/v1${path}`, { signal: signal(), headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      let json; try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, headers: res.headers, json };
    });
    const pause = () => sleep(20);
    const loops = [
      ...people.map((p) => (async () => {
        while (go()) {
          const r = await oauth({ grant_type: 'refresh_token', refresh_token: p.rt }, 'refresh');
          if (r?.status === 200) { p.rt = r.json.refresh_token; p.at = r.json.access_token; issued.push({ phase, token: r.json.access_token }); }
          await pause();
        }
      })()),
      ...[0, 1].map(() => (async () => {
        while (go()) {
          const r = await oauth({ grant_type: 'client_credentials' }, 'client_credentials');
          if (r?.status === 200) issued.push({ phase, token: r.json.access_token, cc: true });
          await pause();
        }
      })()),
      ...[0, 1].map((k) => (async () => {
        const mine = people[1 + k].at; // received before the outage
        while (go()) {
          await webapi(mine, '/me', 'webapi');
          await webapi(ccToken, '/search?q=a&type=artist&limit=1', 'webapi');
          await pause();
        }
      })()),
    ];

    await sleep(1500);
    phase = 'outage';
    const pausedAt = performance.now();
    await c.pg.pause();
    let resumedAt = 0;
    try {
    t.diagnostic(`PostgreSQL stopped (pg_ctl stop -m fast) in ${(performance.now() - pausedAt).toFixed(0)} ms`);
    // /readyz red on every accounts node (admin listener); the api-only node's answer noted.
    const red = await Promise.all(c.nodes.map(async (n) => {
      const t0 = performance.now();
      while (performance.now() - t0 < 5000) {
        const r = await fetch(`${n.adminUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
        await r.arrayBuffer();
        if (r.status === 503) return performance.now() - t0;
        await sleep(50);
      }
      return null;
    }));
    const apiReady = (await fetch(`${c.api.adminUrl}/readyz`)).status;
    t.diagnostic(`/readyz red on the serve nodes after ${red.map((v) => (v === null ? 'never' : `${v.toFixed(0)} ms`)).join(', ')}; api-only node /readyz: ${apiReady}`);
    for (const v of red) assert.notEqual(v, null, '/readyz turns red on every accounts node');
    // During the outage: the revocation made before still applies, a valid token still works,
    // and a revocation asked now is refused with 503, never a 200 for a revocation not made.
    for (const n of c.all) {
      assert.equal(await status(n, doomed.access_token), 401, `${nodeName(n)}: a revocation from before the outage still applies`);
      assert.equal(await status(n, steady), 200, `${nodeName(n)} serves a valid token without the database`);
    }
    const lateRevoke = await post(c.nodes[1], '/api/revoke', { token: ccToken }, app);
    assert.equal(lateRevoke.status, 503, lateRevoke.text);
    assert.ok(lateRevoke.headers.get('retry-after'), 'Retry-After on the refused revocation');
    // The balancer still reaches the nodes (unchecked backups): metadata and keys as usual, a
    // signed-in person's page answers 503 with Retry-After from the node itself.
    assert.equal((await fetch(`${c.lb.url}/.well-known/jwks.json`)).status, 200, 'JWKS during the outage');
    // A signed-in person is neither sent to sign in again nor shown as signed out: 503.
    if (person) {
      for (const path of ['/account/apps', '/', `/authorize?client_id=${app.client_id}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=user-read-email&code_challenge=${pkcePair().challenge}&code_challenge_method=S256`]) {
        const page = await person.browser.get(path);
        assert.equal(page.status, 503, `${path.slice(0, 40)} while the database is down: ${page.status} ${page.location ?? ''}`);
        assert.match(page.headers.get('retry-after') ?? '', /^[1-9]\d*$/, `one Retry-After on ${path.slice(0, 40)}`);
      }
    }
    // Signing in needs the database too: 503, one Retry-After (a single-valued field).
    const signIn = await new Browser(c.lb).login('outage0@example.com', PASSWORD);
    assert.equal(signIn.status, 503, `sign-in while the database is down: ${signIn.status}`);
    assert.match(signIn.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'one Retry-After on the sign-in page');
    await sleep(Math.max(0, 4000 - (performance.now() - pausedAt)));

    } catch (e) {
      running = false; // a failed check ends the load loops too
      throw e;
    } finally {
      phase = 'recovery';
      resumedAt = performance.now();
      await c.pg.resume();
    }
    t.diagnostic(`PostgreSQL started again in ${(performance.now() - resumedAt).toFixed(0)} ms`);
    // Recovered: every loop kind answered 200 after the restart, /readyz green on every node.
    const deadline = performance.now() + 30000;
    const ok = (kind) => log.some((e) => e.phase === 'recovery' && e.kind === kind && e.status === 200);
    while (!(ok('refresh') && ok('client_credentials')) && performance.now() < deadline) await sleep(50);
    const recoveredMs = performance.now() - resumedAt;
    for (const n of c.nodes) {
      let s = 0;
      while (performance.now() < deadline && (s = (await fetch(`${n.adminUrl}/readyz`)).status) !== 200) await sleep(100);
      assert.equal(s, 200, `${nodeName(n)}: /readyz green again`);
    }
    phase = 'after';
    await sleep(1000);
    running = false;
    await Promise.all(loops);
    t.diagnostic(`token endpoint answering 200 again ${recoveredMs.toFixed(0)} ms after PostgreSQL came back`);

    if (person) {
      const page = await person.browser.get('/account/apps');
      assert.equal(page.status, 200, `still signed in after the outage: ${page.status} ${page.location ?? ''}`);
    }

    // The figures.
    const byPhase = {};
    for (const e of log) {
      const k = `${e.phase} ${e.kind}`;
      byPhase[k] ??= { statuses: {}, max: 0 };
      byPhase[k].statuses[e.status] = (byPhase[k].statuses[e.status] ?? 0) + 1;
      byPhase[k].max = Math.max(byPhase[k].max, e.ms);
    }
    for (const [k, v] of Object.entries(byPhase)) t.diagnostic(`${k}: ${JSON.stringify(v.statuses)} max ${v.max.toFixed(0)} ms`);
    const refusals = log.filter((e) => e.status === 503).map((e) => e.ms);
    if (refusals.length) t.diagnostic(`503 answers (token endpoint, database down): ${fmt(stats(refusals))}`);

    // Every answer: 200, or (token endpoint, database down) 503 temporarily_unavailable with
    // Retry-After. No 500, no balancer error, no hang (no request without an answer).
    for (const e of log) {
      if (e.status === 200) continue;
      assert.ok(e.kind !== 'webapi', `the Web API refused a valid token: ${JSON.stringify(e)}`);
      assert.equal(e.status, 503, `unexpected answer: ${JSON.stringify(e)}`);
      assert.equal(e.error, 'temporarily_unavailable', JSON.stringify(e));
      assert.match(e.retryAfter ?? '', /^[1-9]\d*$/, `503 without one Retry-After: ${JSON.stringify(e)}`);
      assert.ok(e.ms < NEVER_MS, `a 503 took ${e.ms.toFixed(0)} ms: ${JSON.stringify(e)}`);
    }
    assert.ok(log.some((e) => e.phase === 'outage' && e.status === 503), 'the outage was seen by the clients');
    assert.ok(log.some((e) => e.phase === 'outage' && e.kind === 'webapi' && e.status === 200), 'the Web API served during the outage');

    // Nothing received was lost: every access token works (on each node in turn), every
    // person's latest refresh token refreshes, the revocation refused during the outage was
    // never made (the token works) and, asked again, is made.
    const dead = [];
    for (const [i, got] of issued.entries()) {
      const n = c.all[i % c.all.length];
      const s = await status(n, got.token, got.cc ? '/search?q=a&type=artist&limit=1' : '/me');
      if (s !== 200) dead.push({ ...got, node: nodeName(n), status: s, token: undefined });
    }
    t.diagnostic(`access tokens received: ${issued.length} (${['before', 'outage', 'recovery', 'after'].map((p) => `${p} ${issued.filter((g) => g.phase === p).length}`).join(', ')}); refused afterwards: ${dead.length}`);
    assert.deepEqual(dead, [], 'every access token a client received still works');
    for (const [i, p] of people.entries()) assertTokenOk(await refresh(c.nodes[i % 3], app, p.rt), `person ${i}'s latest refresh token`);
    for (const n of c.all) assert.equal(await status(n, ccToken, '/search?q=a&type=artist&limit=1'), 200, 'the revocation refused with 503 was not made');
    assert.equal((await post(c.nodes[1], '/api/revoke', { token: ccToken }, app)).status, 200);
    await Promise.all(c.all.map((n) => untilRefused(n, ccToken, performance.now(), `${nodeName(n)}: the retried revocation`)));

    // No node restarted, crashed or logged an internal error; the balancer still runs.
    for (const n of c.all) {
      assert.equal(n.exit, null, `${nodeName(n)} is still running`);
      assert.deepEqual(crashSigns(n), [], `${nodeName(n)} stderr`);
    }
    assert.equal(c.lb.exit, null, 'haproxy is still running');
  });

  it('a frozen PostgreSQL (no answer, no RST: a host gone, a partition): 503 + Retry-After in bounded time, never a hang', async (t) => {
    const person = await c.nodes[0].createUser({ email: 'frozen@example.com', displayName: 'Frozen', password: PASSWORD });
    let rt = (await userTokens(c.lb, { client: app, user: { ...person, password: PASSWORD }, scope: SCOPE })).refresh_token;
    const valid = assertTokenOk(await refresh(c.lb, app, rt));
    rt = valid.refresh_token;
    const answers = [];
    const timedToken = async (params) => {
      const t0 = performance.now();
      const res = await fetch(`${c.lb.url}/api/token`, {
        method: 'POST', signal: AbortSignal.timeout(30000),
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(app.client_id, app.client_secret) },
        body: new URLSearchParams(params),
      });
      const text = await res.text();
      answers.push({ status: res.status, ms: performance.now() - t0, retryAfter: res.headers.get('retry-after'), body: text.slice(0, 200) });
    };
    await c.pg.freeze();
    try {
      // Concurrent requests, then one after the other: each must answer.
      await Promise.all([0, 1, 2, 3].map(() => timedToken({ grant_type: 'client_credentials' })));
      await timedToken({ grant_type: 'refresh_token', refresh_token: rt });
      await timedToken({ grant_type: 'client_credentials' });
      const ready = await Promise.all(c.nodes.map(async (n) => {
        const t0 = performance.now();
        const r = await fetch(`${n.adminUrl}/readyz`, { signal: AbortSignal.timeout(30000) });
        return { status: r.status, ms: performance.now() - t0 };
      }));
      // The Web API does not need the database.
      for (const n of c.all) assert.equal(await status(n, valid.access_token), 200, `${nodeName(n)} serves while the database is frozen`);
      t.diagnostic(`frozen: token endpoint ${answers.map((a) => `${a.status} in ${a.ms.toFixed(0)} ms`).join(', ')}; /readyz ${ready.map((r) => `${r.status} in ${r.ms.toFixed(0)} ms`).join(', ')}`);
      for (const a of answers) {
        assert.equal(a.status, 503, JSON.stringify(a));
        assert.equal(JSON.parse(a.body).error, 'temporarily_unavailable', JSON.stringify(a));
        assert.match(a.retryAfter ?? '', /^[1-9]\d*$/, JSON.stringify(a));
        assert.ok(a.ms < NEVER_MS, `answered only after ${a.ms.toFixed(0)} ms: ${JSON.stringify(a)}`);
      }
      for (const r of ready) assert.equal(r.status, 503, '/readyz red while the database does not answer');
    } finally {
      await c.pg.thaw();
    }
    // Back by itself; the refresh token refused with 503 was not spent.
    let after = null;
    const deadline = performance.now() + 20000;
    while (performance.now() < deadline && (after = await refresh(c.lb, app, rt)).status === 503) await sleep(200);
    assertTokenOk(after, 'the refresh token refused while frozen refreshes once the database answers');
    for (const n of c.all) assert.equal(n.exit, null, `${nodeName(n)} is still running`);
  });
});
