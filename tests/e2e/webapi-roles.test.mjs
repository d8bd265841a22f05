// `stagepass serve --roles api --issuer URL`: a Web API node with no accounts database that
// validates tokens offline from the issuer's JWKS; and the rate-limit metrics.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer } from './lib/server.mjs';
import { api, expectOk, assertInvalidToken, clientToken, userSession, createRateLimitedClient } from './lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';

describe('api-only node', () => {
  let accounts; // issues tokens, owns the accounts database
  let apiNode; // --roles api, shares only the music database
  let rogue; // another accounts node claiming the same issuer, with its own keys
  let client;

  before(async () => {
    accounts = await startServer({ label: 'sp-roles-accounts' });
    client = await accounts.createClient({ name: 'Split App', redirectUris: [REDIRECT] });
    apiNode = await startServer({
      label: 'sp-roles-api',
      args: ['--roles', 'api', '--issuer', accounts.issuer],
      env: { STAGEPASS_MUSIC_DATABASE: path.join(accounts.tmpdir, 'music.db'), STAGEPASS_RATE_LIMIT: '5' },
    });
    rogue = await startServer({ label: 'sp-roles-rogue', env: { STAGEPASS_ISSUER: accounts.issuer } });
  });
  after(async () => {
    await apiNode?.stop();
    await rogue?.stop();
    await accounts?.stop();
  });

  it('serves no accounts endpoints', async () => {
    const r = await fetch(`${apiNode.url}/api/token`, { method: 'POST' });
    assert.equal(r.status, 404);
  });

  it('accepts the issuer\'s client-credentials and user tokens, checked against its JWKS', async () => {
    const cc = await clientToken(accounts, client);
    expectOk(await api(apiNode, cc, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
    const s = await userSession(accounts, client, { email: 'split@example.com', displayName: 'Split' });
    const me = expectOk(await api(apiNode, await s.tokenFor(['user-read-email']), 'GET', '/me'), 200);
    assert.equal(me.email, 'split@example.com');
  });

  it('refuses a token with the right issuer but a key the issuer does not publish', async () => {
    const foreign = await rogue.createClient({ name: 'Rogue', redirectUris: [REDIRECT] });
    const token = await clientToken(rogue, foreign);
    assertInvalidToken(await api(apiNode, token, 'GET', '/search', { query: { q: 'a', type: 'artist' } }), 'unknown kid');
  });

  it('limits an app per rolling 30 s and counts refusals in /metrics', async () => {
    const limited = await accounts.createClient({ name: 'Chatty', redirectUris: [REDIRECT] });
    const token = await clientToken(accounts, limited);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await api(apiNode, token, 'GET', `/search?q=a&type=artist&limit=1`)).status);
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    assert.deepEqual(statuses.slice(5), [429, 429]);
    const metrics = await (await fetch(`${apiNode.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`stagepass_api_rate_limited_total\\{client_id="${limited.client_id}"\\} 2`));
    assert.match(metrics, /stagepass_api_requests_total\{status="429"\} 2/);
    assert.match(metrics, /stagepass_token_cache_hits_total \d+/);
  });

  // The node has no accounts database: an app's own --rate-limit reaches it inside the app's
  // access token (the "rl" claim), below and above the node's default (5) alike.
  it('enforces an app\'s own --rate-limit, carried by its token, without the accounts database', async () => {
    const search = async (token) => (await api(apiNode, token, 'GET', '/search?q=a&type=artist&limit=1')).status;
    const strict = await createRateLimitedClient(accounts, { name: 'Strict', redirectUri: REDIRECT, rateLimit: 2 });
    const strictToken = await clientToken(accounts, strict);
    const strictStatuses = [];
    for (let i = 0; i < 3; i++) strictStatuses.push(await search(strictToken));
    assert.deepEqual(strictStatuses, [200, 200, 429]);

    const generous = await createRateLimitedClient(accounts, { name: 'Generous', redirectUri: REDIRECT, rateLimit: 7 });
    const generousToken = await clientToken(accounts, generous);
    const generousStatuses = [];
    for (let i = 0; i < 8; i++) generousStatuses.push(await search(generousToken));
    assert.deepEqual(generousStatuses, [200, 200, 200, 200, 200, 200, 200, 429]);
  });
});
