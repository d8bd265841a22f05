// The SDK beyond our own server: the example app on the SDK against `serve --demo`, and the
// CLI against a small stand-in for another RFC 8414 provider that behaves as Spotify has
// since 2026 (refresh answers without a new refresh_token), rate-limits with Retry-After,
// drops connections, and can claim to be another issuer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer } from './lib/server.mjs';
import { WEBAPI_ENV, sleep } from './lib/webapi.mjs';
import { Cli, NOW_PLAYING, consentingUser, runProgram, runWithBrowser, tempConfigDir } from './lib/cli.mjs';

const DEMO = { email: 'demo@stagepass.local', password: 'stagepass-demo' };

describe('examples/now-playing on the SDK, against serve --demo', () => {
  let server;
  let env;
  before(async () => {
    server = await startServer({ label: 'sp-now-playing', env: WEBAPI_ENV, args: ['--demo'], timeoutMs: 30000 });
    env = { STAGEPASS_ISSUER: server.url, STAGEPASS_CONFIG_DIR: tempConfigDir() };
  });
  after(async () => { await server?.stop(); });

  it('logs in with the demo CLI app, shows the current track and playlists, skips a track', async () => {
    const first = await runWithBrowser(NOW_PLAYING, [], { env }, consentingUser(server, DEMO));
    assert.equal(first.code, 0, first.stderr);
    const playing = /^(Now playing|Paused): (.+)$/m.exec(first.stdout);
    assert.ok(playing, `a current track: ${first.stdout}`);
    assert.match(first.stdout, /^Playlists:\n( {2}.+ \(\d+ tracks\)\n)+/m);

    const next = await runProgram(NOW_PLAYING, ['--next'], { env });
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /Open this page/, 'the cached login is reused');
    const after = /^(Now playing|Paused): (.+)$/m.exec(next.stdout);
    assert.ok(after, next.stdout);
    assert.notEqual(after[2], playing[2], 'the next track plays');

    const out = await runProgram(NOW_PLAYING, ['--logout'], { env });
    assert.equal(out.code, 0, out.stderr);
  });
});

/** A minimal authorization server + API that is not ours; counts what it receives. */
function startProvider() {
  const seen = { refreshWith: [], api: {}, revoked: [] };
  let issued = 0;
  const state = { issOverride: undefined };
  const srv = http.createServer(async (req, res) => {
    const url = new URL(req.url, base());
    let body = '';
    for await (const chunk of req) body += chunk;
    const json = (status, obj, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(obj));
    };
    if (url.pathname === '/.well-known/oauth-authorization-server') {
      return json(200, {
        issuer: base(),
        authorization_endpoint: `${base()}/authorize`,
        token_endpoint: `${base()}/token`,
        revocation_endpoint: `${base()}/revoke`,
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (url.pathname === '/authorize') {
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', 'code-1');
      back.searchParams.set('state', url.searchParams.get('state'));
      back.searchParams.set('iss', state.issOverride ?? base());
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/token') {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') === 'authorization_code') {
        return json(200, { access_token: `access-${++issued}`, token_type: 'Bearer', expires_in: 1, refresh_token: 'refresh-1', scope: 'a b' });
      }
      if (form.get('grant_type') === 'refresh_token') {
        seen.refreshWith.push(form.get('refresh_token'));
        if (form.get('refresh_token') !== 'refresh-1') return json(400, { error: 'invalid_grant', error_description: 'unknown refresh token' });
        // As Spotify since 2026: no refresh_token in the answer; keep using the old one.
        return json(200, { access_token: `access-${++issued}`, token_type: 'Bearer', expires_in: 1 });
      }
      return json(400, { error: 'unsupported_grant_type' });
    }
    if (url.pathname === '/revoke') {
      seen.revoked.push(new URLSearchParams(body).get('token'));
      res.writeHead(200);
      return res.end();
    }
    const key = `${req.method} ${url.pathname}`;
    seen.api[key] = (seen.api[key] ?? 0) + 1;
    if (!/^Bearer access-\d+$/.test(req.headers.authorization ?? '')) return json(401, { error: { status: 401, message: 'No token' } });
    if (url.pathname === '/v1/busy' && seen.api[key] === 1) {
      return json(429, { error: { status: 429, message: 'API rate limit exceeded' } }, { 'retry-after': '1' });
    }
    if (url.pathname === '/v1/flaky' && (req.method === 'POST' || seen.api[key] === 1)) {
      return req.socket.destroy(); // the connection drops before any answer
    }
    return json(200, { ok: true, path: url.pathname });
  });
  let port;
  const base = () => `http://127.0.0.1:${port}`;
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      port = srv.address().port;
      resolve({ url: base(), seen, state, close: () => new Promise((r) => srv.close(r)) });
    });
  });
}

describe('the CLI against another provider (RFC 8414 discovery)', () => {
  let provider;
  before(async () => { provider = await startProvider(); });
  after(async () => { await provider?.close(); });

  const loggedIn = async () => {
    const cli = new Cli({ url: provider.url }, { clientId: 'other-app' });
    const r = await cli.loginWith(async (url) => {
      const res = await fetch(url, { redirect: 'manual' });
      return res.headers.get('location');
    });
    assert.equal(r.code, 0, r.stderr);
    return cli;
  };

  it('keeps the old refresh token when a refresh answer has none', async () => {
    const cli = await loggedIn();
    const first = (await cli.ok(['token'])).trim();
    await sleep(1100);
    const second = (await cli.ok(['token'])).trim();
    await sleep(1100);
    const third = (await cli.ok(['token'])).trim();
    assert.equal(new Set([first, second, third]).size, 3, 'each expiry brought a new access token');
    assert.deepEqual(provider.seen.refreshWith, ['refresh-1', 'refresh-1']);
    assert.match(await cli.ok(['status']), /Refresh token: stored/);
    await cli.ok(['logout']);
    assert.deepEqual(provider.seen.revoked, ['refresh-1'], 'logout revokes the refresh token');
  });

  it('waits out a 429 with Retry-After, then succeeds', async () => {
    const cli = await loggedIn();
    const started = Date.now();
    const out = JSON.parse(await cli.ok(['api', 'GET', '/v1/busy']));
    assert.deepEqual(out, { ok: true, path: '/v1/busy' });
    assert.ok(Date.now() - started >= 1000, 'waited the second Retry-After asked for');
    assert.equal(provider.seen.api['GET /v1/busy'], 2);
  });

  it('retries a dropped GET, never a dropped POST', async () => {
    const cli = await loggedIn();
    assert.equal(JSON.parse(await cli.ok(['api', 'GET', '/v1/flaky'])).ok, true);
    assert.equal(provider.seen.api['GET /v1/flaky'], 2);
    const post = await cli.run(['api', 'POST', '/v1/flaky', '--data', '{}']);
    assert.equal(post.code, 1);
    assert.match(post.stderr, /^stagepass-cli: network: /);
    assert.equal(provider.seen.api['POST /v1/flaky'], 1, 'a POST may have taken effect: not repeated');
  });

  it('refuses an authorization response from another issuer (RFC 9207)', async () => {
    provider.state.issOverride = 'https://attacker.example';
    try {
      const cli = new Cli({ url: provider.url }, { clientId: 'other-app' });
      const r = await cli.loginWith(async (url) => (await fetch(url, { redirect: 'manual' })).headers.get('location'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /another issuer/);
      assert.equal(r.callback.status, 400);
    } finally {
      provider.state.issOverride = undefined;
    }
  });
});
