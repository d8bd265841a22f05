#!/usr/bin/env node
// Measures how long after "Remove access" returns a removed app's access token is refused.
//
// Usage: node tests/e2e/tools/removal-delay.mjs [trials=100]   (server: $STAGEPASS_BIN or
// build/stagepass). Each trial, over the real HTTP pages of one signed-in person: authorize
// the app (consent, code, token exchange) → GET /v1/me with the token answers 200 → POST the
// Remove access form, then its confirmation → from the moment that confirmation's response
// has arrived, call GET /v1/me with the token back to back (no sleeping) until it answers
// 401. The delay is that time; "late" counts trials whose first call after removal still
// answered 200. Prints p50/p99/max in ms and exits non-zero if any trial was late.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { startServer, Browser, findForm } from '../lib/server.mjs';
import { REDIRECT, WEBAPI_ENV, api, userTokens } from '../lib/webapi.mjs';

const trials = Number(process.argv[2] ?? 100);
const REMOVE = '/account/apps/remove';
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const server = await startServer({ label: 'sp-removal-delay', env: WEBAPI_ENV, timeoutMs: 30000 });
try {
  const client = await server.createClient({ name: 'Delay Probe', redirectUris: [REDIRECT] });
  const user = await server.createUser({ email: 'delay@example.com', displayName: 'Delay' });
  const browser = new Browser(server);
  const delays = [];
  let late = 0;
  let callsAfter = 0;
  for (let i = 0; i < trials; i++) {
    const tok = await userTokens(server, { client, user, scope: 'user-read-email', browser });
    assert.equal((await api(server, tok.access_token, 'GET', '/me')).status, 200, 'the fresh token works');
    const list = await browser.get('/account/apps');
    const form = findForm(list.text, list.url, REMOVE);
    assert.ok(form, 'the apps page has a Remove access form');
    const confirm = await browser.submit(list, form);
    assert.equal(confirm.status, 200, 'confirmation page');
    const done = await browser.submit(confirm, findForm(confirm.text, confirm.url, REMOVE));
    assert.equal(done.status, 303, 'confirmed removal redirects');
    const t0 = performance.now();
    for (let n = 0; ; n++) {
      const r = await api(server, tok.access_token, 'GET', '/me');
      callsAfter++;
      if (r.status === 401) break;
      assert.equal(r.status, 200, `unexpected ${r.status}`);
      if (n === 0) late++;
      assert.ok(performance.now() - t0 < 10000, 'token still accepted 10 s after removal');
    }
    delays.push(performance.now() - t0);
  }
  delays.sort((a, b) => a - b);
  const ms = (x) => x.toFixed(2);
  console.log(`removal delay over ${trials} trials (until the first 401, incl. that request's round trip):`);
  console.log(`  p50 ${ms(pct(delays, 50))} ms  p99 ${ms(pct(delays, 99))} ms  max ${ms(delays.at(-1))} ms  min ${ms(delays[0])} ms`);
  console.log(`  trials whose first call after removal was still accepted: ${late}; /v1/me calls after removal: ${callsAfter}`);
  process.exitCode = late === 0 ? 0 : 1;
} finally {
  await server.stop();
}
