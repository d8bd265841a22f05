// Signing-key rotation under load (issue 15), by command and on a schedule
// (STAGEPASS_KEY_ROTATION): `stagepass admin keys rotate` while a client
// loop takes fresh client-credentials tokens and calls the Web API on the accounts node
// (roles all) and on an api-only node (`serve --roles api`, keys from the JWKS). Nobody is
// restarted: the running accounts node rereads the keys from its database, the api-only node
// refetches the JWKS when the issuer's max-age says its copy is stale.
// What must hold: not one failed call; the next key is in the JWKS before any token carries
// its kid; a token signed by the retiring key keeps validating on both nodes until it
// expires; the retiring key leaves the JWKS at its retire_at and is deleted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer, tokenRequest, decodeJwt, getJson } from './lib/server.mjs';
import { api, describeCall, assertInvalidToken, sleep, REDIRECT } from './lib/webapi.mjs';

// The JWKS max-age is 300 s by default, and a rotation may not publish a key for less than
// that before it signs: lowered to 2 s here so that a rotation fits in a test (protocol.test.mjs
// checks the default header). Tokens live 15 s with 1 s of skew, so the retiring key's whole
// life after the switch (15 + 1 + 2 s) fits too.
const MAX_AGE = 2;
// How much earlier than the server's publication the test may see the lead start, in ms: the
// JWKS poller's interval (100 ms), plus the time of one JWKS answer and of one token request
// under the load (each well under 100 ms on loopback).
const LEAD_TOLERANCE_MS = 300;
const PUBLISH_AHEAD = '6s';
const TOKEN_TTL = 15;
const SKEW = 1;
const WORKERS = 3;
const SETTINGS = {
  STAGEPASS_JWKS_MAX_AGE: MAX_AGE,
  STAGEPASS_ACCESS_TOKEN_TTL: TOKEN_TTL,
  STAGEPASS_CLOCK_SKEW: SKEW,
  STAGEPASS_RATE_LIMIT: 1000000000, // the loop is one app calling as fast as it can
  STAGEPASS_ACCESS_LOG: 'off', // thousands of requests; their lines would only slow the loop
};

const nowSeconds = () => Date.now() / 1000;
const sleepUntil = (unixSeconds) => sleep(Math.max(0, unixSeconds * 1000 - Date.now()));
const SEARCH = '/search?q=a&type=artist&limit=1';

async function until(what, check, { timeoutMs = 30000, everyMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// A client loop under load: WORKERS loops each take a fresh client-credentials token and call
// the Web API with it on both nodes, while a poller notes when each kid first appeared in the
// JWKS (the answer's arrival). stop() ends the loops and waits for them.
function startLoad({ accounts, apiNode, freshToken, jwksKids }) {
  const firstInJwks = new Map();
  let stop = false;
  const poller = (async () => {
    while (!stop) {
      const kids = await jwksKids();
      const at = performance.now();
      for (const kid of kids) if (!firstInJwks.has(kid)) firstInJwks.set(kid, at);
      await sleep(100);
    }
  })();
  const stats = { tokenRequests: 0, apiRequests: 0, failures: [], tokensByKid: new Map(), firstTokenRequest: new Map() };
  const worker = async () => {
    while (!stop) {
      const asked = performance.now();
      stats.tokenRequests++;
      const token = await freshToken();
      if (!token) {
        stats.failures.push('token request failed');
        continue;
      }
      const { kid } = decodeJwt(token).header;
      stats.tokensByKid.set(kid, (stats.tokensByKid.get(kid) ?? 0) + 1);
      if (!stats.firstTokenRequest.has(kid) || asked < stats.firstTokenRequest.get(kid)) stats.firstTokenRequest.set(kid, asked);
      for (const node of [accounts, apiNode]) {
        stats.apiRequests++;
        const r = await api(node, token, 'GET', SEARCH);
        if (r.status !== 200) stats.failures.push(`${node === apiNode ? 'api-only' : 'accounts'} node, kid ${kid}: ${describeCall(r)}`);
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  return {
    stats,
    firstInJwks,
    stop: async () => {
      stop = true;
      await Promise.all([...workers, poller]);
    },
  };
}

// Two nodes (roles all, and roles api reading the first one's JWKS) and one client.
async function startNodes(label, settings) {
  const accounts = await startServer({ label: `${label}-accounts`, env: settings });
  const client = await accounts.createClient({ name: 'Rotation Load', redirectUris: [REDIRECT] });
  const apiNode = await startServer({
    label: `${label}-api`,
    args: ['--roles', 'api', '--issuer', accounts.issuer],
    env: { ...settings, STAGEPASS_MUSIC_DATABASE: path.join(accounts.tmpdir, 'music.db') },
  });
  const jwksKids = async () => {
    const r = await getJson(accounts, '/.well-known/jwks.json');
    assert.equal(r.status, 200);
    return r.json.keys.map((k) => k.kid);
  };
  const freshToken = async () => {
    const r = await tokenRequest(accounts, { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] });
    return r.status === 200 ? r.json.access_token : null;
  };
  return { accounts, apiNode, client, jwksKids, freshToken };
}

describe('signing-key rotation', () => {
  let accounts; // roles all: issues tokens, serves the JWKS and the Web API
  let apiNode; // roles api: the Web API only, keys from the issuer's JWKS
  let jwksKids;
  let freshToken;

  before(async () => {
    ({ accounts, apiNode, jwksKids, freshToken } = await startNodes('sp-keys', SETTINGS));
  });
  after(async () => {
    await apiNode?.stop();
    await accounts?.stop();
  });

  const keysList = () => accounts.adminJson(['keys', 'list']);

  it('serves the JWKS with the configured max-age and refuses a shorter publish-ahead', async () => {
    const r = await getJson(accounts, '/.well-known/jwks.json');
    assert.equal(r.headers.get('cache-control'), `public, max-age=${MAX_AGE}`);
    const refused = await accounts.run(['admin', 'keys', 'rotate', '--publish-ahead', '1s', '--json']);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^stagepass: --publish-ahead 1s is shorter than the JWKS cache lifetime \(STAGEPASS_JWKS_MAX_AGE=2\).*use at least 2s\n$/);
    const keys = await keysList();
    assert.equal(keys.length, 1, JSON.stringify(keys)); // nothing was added
    assert.equal(keys[0].state, 'active');
  });

  it('rotates under load: zero failures, next key published first, retiring key valid until its tokens expire', async (t) => {
    const [before] = await keysList();
    assert.deepEqual(Object.keys(before).sort(), ['kid', 'retire_at', 'signs_from', 'state']);
    assert.equal(before.state, 'active');
    assert.equal(before.retire_at, null);
    const oldKid = before.kid;

    const load = startLoad({ accounts, apiNode, freshToken, jwksKids });
    const { stats, firstInJwks } = load;

    let next;
    let held; // a token of the old key taken just before the switch, never presented before it
    try {
      await sleep(1000); // load before the rotation
      next = await accounts.adminJson(['keys', 'rotate', '--publish-ahead', PUBLISH_AHEAD]);
      assert.deepEqual(Object.keys(next).sort(), ['kid', 'signs_from']);
      assert.notEqual(next.kid, oldKid);
      assert.ok(Number.isInteger(next.signs_from) && next.signs_from >= Math.floor(nowSeconds()) + 5, JSON.stringify(next));

      const during = await keysList();
      assert.deepEqual(during.map((k) => [k.kid, k.state]), [[oldKid, 'active'], [next.kid, 'next']]);
      // The old key stays published until its last token expired (TTL + skew) and the JWKS
      // copies that lacked the new key went stale (max-age).
      assert.equal(during[0].retire_at, next.signs_from + TOKEN_TTL + SKEW + MAX_AGE);
      assert.equal(during[1].retire_at, null);

      await sleepUntil(next.signs_from - 2);
      held = await freshToken();
      assert.ok(held, 'token request before the switch');
      assert.equal(decodeJwt(held).header.kid, oldKid, 'the old key signs until signs_from');

      await until('a token signed by the new key', () => stats.tokensByKid.get(next.kid) > 0, { timeoutMs: 15000 });
      await sleep(3000); // load after the switch, past the api-only node's next JWKS refresh
    } finally {
      await load.stop();
    }

    const failed = stats.failures.length;
    t.diagnostic(`key rotation under load: ${stats.apiRequests} Web API requests (half on the api-only node), ` +
      `${failed} failures; ${stats.tokenRequests} token requests; tokens by kid: ` +
      `${oldKid}=${stats.tokensByKid.get(oldKid) ?? 0}, ${next.kid}=${stats.tokensByKid.get(next.kid) ?? 0}`);
    assert.equal(failed, 0, `failures during the rotation:\n${stats.failures.slice(0, 5).join('\n')}`);
    assert.ok(stats.tokensByKid.get(oldKid) > 0 && stats.tokensByKid.get(next.kid) > 0);
    assert.deepEqual([...stats.tokensByKid.keys()].sort(), [oldKid, next.kid].sort());

    // Publish before sign: the new kid was in an answer of the JWKS before the first token
    // request that got a token carrying it was even sent.
    assert.ok(firstInJwks.has(next.kid), 'the new key never appeared in the JWKS');
    const leadMs = stats.firstTokenRequest.get(next.kid) - firstInJwks.get(next.kid);
    t.diagnostic(`new kid first in the JWKS ${Math.round(leadMs)} ms before the first token carrying it was requested`);
    // The promise: published at least the JWKS max-age before it signs.
    assert.ok(leadMs >= MAX_AGE * 1000 - LEAD_TOLERANCE_MS,
      `the new kid signed ${Math.round(leadMs)} ms after the JWKS published it (max-age ${MAX_AGE} s)`);

    const switched = await keysList();
    assert.deepEqual(switched.map((k) => [k.kid, k.state]), [[oldKid, 'retiring'], [next.kid, 'active']]);
    assert.deepEqual(await jwksKids(), [next.kid, oldKid]);

    // The retiring key's token, first presented now, after the switch: valid on both nodes
    // (the api-only node still holds the old key) until it expires, then refused.
    const { exp } = decodeJwt(held).payload;
    for (const node of [accounts, apiNode]) {
      const r = await api(node, held, 'GET', SEARCH);
      assert.equal(r.status, 200, `retiring key's token after the switch: ${describeCall(r)}`);
    }
    await sleepUntil(exp - 1);
    for (const node of [accounts, apiNode]) {
      const r = await api(node, held, 'GET', SEARCH);
      assert.equal(r.status, 200, `retiring key's token just before it expires: ${describeCall(r)}`);
    }
    await sleepUntil(exp + SKEW + 1);
    for (const node of [accounts, apiNode]) assertInvalidToken(await api(node, held, 'GET', SEARCH), 'expired token of the retiring key');

    // At retire_at the old key leaves the JWKS, and the running server deletes it.
    await sleepUntil(switched[0].retire_at);
    await until('the retired key leaving the JWKS and the store', async () => {
      const [kids, keys] = await Promise.all([jwksKids(), keysList()]);
      return kids.length === 1 && kids[0] === next.kid && keys.length === 1 && keys[0].kid === next.kid;
    }, { timeoutMs: 5000 });
    const [after] = await keysList();
    assert.equal(after.state, 'active');
    // No JWKS fetch of the api-only node failed along the way.
    assert.doesNotMatch(apiNode.stdout(), /JWKS refresh failed/);
  });
});

// The same, with nobody running a command: STAGEPASS_KEY_ROTATION=8s (the shortest a max-age
// of 2 s allows is 6 s: a scheduled rotation publishes 2 max-ages + 1 s ahead, and is found
// due one background tick (1 s) before that).
describe('scheduled signing-key rotation (STAGEPASS_KEY_ROTATION=8s)', () => {
  const PERIOD = 8;
  let nodes;

  before(async () => {
    nodes = await startNodes('sp-keys-scheduled', { ...SETTINGS, STAGEPASS_KEY_ROTATION: `${PERIOD}s` });
  });
  after(async () => {
    await nodes?.apiNode.stop();
    await nodes?.accounts.stop();
  });

  it('rotates by itself under load: zero failures, each key published before it signs', async (t) => {
    const { accounts } = nodes;
    const keysList = () => accounts.adminJson(['keys', 'list']);
    const [first] = await keysList();
    assert.equal(first.state, 'active');

    const load = startLoad(nodes);
    const { stats, firstInJwks } = load;
    let scheduled;
    try {
      // The first scheduled successor: published 5-6 s before it signs, at first.signs_from + 8.
      scheduled = await until('a scheduled next key', async () => (await keysList()).find((k) => k.kid !== first.kid), { timeoutMs: 15000 });
      assert.equal(scheduled.signs_from, first.signs_from + PERIOD, JSON.stringify(scheduled));
      await until('a token signed by the scheduled key', () => stats.tokensByKid.get(scheduled.kid) > 0, { timeoutMs: 15000 });
      await sleep(3000); // load after the switch, past the api-only node's next JWKS refresh
    } finally {
      await load.stop();
    }

    const failed = stats.failures.length;
    t.diagnostic(`scheduled rotation under load: ${stats.apiRequests} Web API requests (half on the api-only node), ` +
      `${failed} failures; ${stats.tokenRequests} token requests; tokens by kid: ` +
      [...stats.tokensByKid].map(([kid, n]) => `${kid}=${n}`).join(', '));
    assert.equal(failed, 0, `failures during the scheduled rotation:\n${stats.failures.slice(0, 5).join('\n')}`);
    assert.ok(stats.tokensByKid.get(first.kid) > 0);
    // Every kid a token carried was in a JWKS answer before the first request that got it.
    for (const kid of stats.tokensByKid.keys()) {
      if (kid === first.kid) continue;
      assert.ok(firstInJwks.has(kid), `${kid} signed but never appeared in the JWKS`);
      const lead = stats.firstTokenRequest.get(kid) - firstInJwks.get(kid);
      assert.ok(lead >= MAX_AGE * 1000 - LEAD_TOLERANCE_MS,
        `${kid} signed ${Math.round(lead)} ms after the JWKS published it (max-age ${MAX_AGE} s)`);
    }
    const keys = await keysList();
    const byKid = new Map(keys.map((k) => [k.kid, k]));
    assert.equal(byKid.get(first.kid)?.state, 'retiring', JSON.stringify(keys));
    assert.equal(byKid.get(first.kid).retire_at, scheduled.signs_from + TOKEN_TTL + SKEW + MAX_AGE);
    assert.equal(keys.filter((k) => k.state === 'active').length, 1, JSON.stringify(keys));
  });
});
