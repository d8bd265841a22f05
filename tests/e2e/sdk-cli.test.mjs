// The client SDK and its CLI against the real server over loopback: PKCE login through the
// loopback redirect (login and consent forms posted by the test, as a browser would), calls,
// expiry and automatic refresh, the 401 retry, single flight across 32 threads and across
// processes, reuse detection ending in "login required", logout revoking, and the
// encrypted cache on disk.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, cpSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startServer } from './lib/server.mjs';
import { api, assertInvalidToken, sleep } from './lib/webapi.mjs';
import { Cli, PROBE, consentingUser, runProgram, tempConfigDir, tokenRequests } from './lib/cli.mjs';

const USER = { email: 'cleo@example.com', displayName: 'Cleo Cli', password: 'cleo-password-123' };
const SCOPES = 'user-read-private user-read-email';
const TTL = 3; // seconds: short so expiry is real

describe('stagepass-cli and the SDK against the server', () => {
  let server;
  let app;
  let user;

  before(async () => {
    server = await startServer({
      label: 'sp-sdk',
      env: { STAGEPASS_ACCESS_TOKEN_TTL: String(TTL), STAGEPASS_CLOCK_SKEW: '0' },
    });
    user = await server.createUser(USER);
    // A native app as RFC 8252 wants it: public, loopback redirect, any port.
    app = await server.createClient({ name: 'CLI', redirectUris: ['http://127.0.0.1/callback'], isPublic: true });
  });
  after(async () => { await server?.stop(); });

  const newCli = (opts = {}) => new Cli(server, { clientId: app.client_id, ...opts });
  const loggedIn = async (opts) => {
    const cli = newCli(opts);
    const r = await cli.login(USER, SCOPES);
    assert.equal(r.code, 0, `login: ${r.stderr}`);
    return cli;
  };
  // Waits until an access token from now has expired (server skew is 0).
  const outliveToken = () => sleep(TTL * 1000 + 1100);

  it('logs in with PKCE through the loopback redirect and shows who is signed in', async () => {
    const cli = newCli();
    const r = await cli.login(USER, SCOPES);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Logged in to .* as Cleo Cli \(\w+\) <cleo@example\.com>/);
    assert.deepEqual(/Scopes: (.*)/.exec(r.stdout)[1].split(' ').sort(), SCOPES.split(' ').sort());
    assert.equal(r.callback.status, 200);
    assert.match(r.callback.text, /Signed in/);
    const url = new URL(r.callback.url);
    assert.equal(url.hostname, '127.0.0.1');
    assert.notEqual(url.port, '', 'an ephemeral port was used');

    const status = JSON.parse(await cli.ok(['status', '--json']));
    assert.equal(status.user.display_name, 'Cleo Cli');
    assert.equal(status.user.id, user.id);
    assert.deepEqual(status.scope.split(' ').sort(), SCOPES.split(' ').sort());
    assert.equal(status.has_refresh_token, true);
    assert.ok(status.expires_in > 0 && status.expires_in <= TTL, `expires_in ${status.expires_in}`);
    const human = await cli.ok(['status']);
    assert.match(human, /Signed in as:\s+Cleo Cli/);
    assert.match(human, /Token cache:\s+.*tokens\.cache \(encrypted; key in tokens\.key beside it\)/);
    const token = (await cli.ok(['token'])).trim();
    assert.ok(!human.includes(token) && !JSON.stringify(status).includes(token), 'status never prints the token');

    const me = await cli.ok(['api', 'GET', '/v1/me']);
    assert.match(me, /^{\n {2}"/, 'pretty-printed JSON');
    assert.equal(JSON.parse(me).email, USER.email);
    assert.equal((await api(server, token, 'GET', '/me')).status, 200, 'the printed token works');
  });

  it('ignores a callback whose state does not match, and reports a refused consent', async () => {
    // A forged answer (another state) is answered with a page of its own and does not end
    // the sign-in; the real answer that follows logs in. See also sdk-security.test.mjs.
    let forged;
    const r = await newCli().loginWith(async (url) => {
      const back = new URL(new URL(url).searchParams.get('redirect_uri'));
      back.searchParams.set('code', 'forged');
      back.searchParams.set('state', 'not-the-state');
      forged = await fetch(back);
      return consentingUser(server, USER)(url);
    });
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /not the answer the app is waiting for/);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.callback.status, 200);

    const denied = await newCli().login(USER, SCOPES, { decision: 'deny', args: ['--show-dialog'] });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^stagepass-cli: oauth: authorization refused: access_denied/m);
  });

  it('keeps tokens encrypted in files only the user can read', async () => {
    const cli = await loggedIn();
    const token = (await cli.ok(['token'])).trim();
    const files = readdirSync(cli.configDir).sort();
    assert.deepEqual(files.filter((f) => !f.endsWith('.lock')), ['tokens.cache', 'tokens.key']);
    for (const f of ['tokens.cache', 'tokens.key']) {
      assert.equal(statSync(path.join(cli.configDir, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(statSync(cli.configDir).mode & 0o777, 0o700);
    const bytes = readFileSync(path.join(cli.configDir, 'tokens.cache'));
    assert.equal(bytes.subarray(0, 4).toString(), 'SPTC');
    for (const needle of [token, token.slice(0, 40), 'access_token', 'refresh_token', 'eyJ']) {
      assert.equal(bytes.indexOf(needle), -1, `cache must not contain ${needle.slice(0, 12)}…`);
    }
  });

  it('refreshes an expired access token by itself, once, and the old one stops working', async () => {
    const cli = await loggedIn();
    const first = (await cli.ok(['token'])).trim();
    await outliveToken();
    assertInvalidToken(await api(server, first, 'GET', '/me'), 'expired token');
    const before = await tokenRequests(server, 'refresh_token');
    const second = (await cli.ok(['token'])).trim();
    assert.notEqual(second, first);
    assert.equal(await tokenRequests(server, 'refresh_token') - before, 1);
    assert.equal((await api(server, second, 'GET', '/me')).status, 200);
    const third = (await cli.ok(['token'])).trim();
    assert.equal(third, second, 'a valid token is reused, not refreshed again');
  });

  it('on a 401 invalid_token refreshes once and retries the call', async () => {
    const cli = await loggedIn({ env: { STAGEPASS_E2E: '1' } });
    const token = (await cli.ok(['token'])).trim();
    // Revoke just this access token (RFC 7009): the grant and refresh token stay valid.
    const res = await fetch(`${server.url}/api/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: app.client_id }),
    });
    assert.equal(res.status, 200);
    assertInvalidToken(await api(server, token, 'GET', '/me'), 'revoked access token');
    const before = await tokenRequests(server, 'refresh_token');
    const me = JSON.parse(await cli.ok(['api', 'GET', '/v1/me']));
    assert.equal(me.id, user.id);
    assert.equal(await tokenRequests(server, 'refresh_token') - before, 1);
    assert.notEqual((await cli.ok(['token'])).trim(), token);
  });

  it('single flight: 32 threads through an expired token send exactly one refresh', async () => {
    const cli = await loggedIn();
    const before = await tokenRequests(server, 'refresh_token');
    const r = await runProgram(PROBE, ['--issuer', server.url, '--client-id', app.client_id, '--config-dir', cli.configDir, '--threads', '32'], { timeoutMs: 30000 });
    assert.equal(r.code, 0, `probe: ${r.stdout}${r.stderr}`);
    const out = JSON.parse(r.stdout);
    const refreshes = await tokenRequests(server, 'refresh_token') - before;
    console.log(`# single flight: ${out.ok}/32 calls succeeded, ${refreshes} refresh request(s) reached the server, ${out.tokens} distinct token(s)`);
    assert.equal(out.ok, 32, JSON.stringify(out.errors));
    assert.equal(refreshes, 1);
    assert.equal(out.tokens, 1);
  });

  it('single flight across processes: 4 CLIs sharing a cache refresh once', async () => {
    const cli = await loggedIn();
    await outliveToken();
    const before = await tokenRequests(server, 'refresh_token');
    const runs = await Promise.all([1, 2, 3, 4].map(() => cli.run(['token'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(new Set(runs.map((r) => r.stdout)).size, 1, 'all got the same new token');
    assert.equal(await tokenRequests(server, 'refresh_token') - before, 1);
  });

  it('a refresh token spent elsewhere ends the session: "login required", cache cleared', async () => {
    const cli = await loggedIn();
    const copy = new Cli(server, { clientId: app.client_id, configDir: tempConfigDir() });
    cpSync(cli.configDir, copy.configDir, { recursive: true });
    await outliveToken();
    await cli.ok(['token']); // rotates the refresh token
    // The copy replays the spent token at once: inside the grace window a client's retry is
    // answered, and the copy now holds the chain...
    const thief = (await copy.ok(['token'])).trim();
    await outliveToken();
    // ...until the real client presents the successor it was given: reuse, the grant dies.
    const r = await cli.run(['token']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^stagepass-cli: login_required: the session ended \(invalid_grant/m);
    assert.equal(r.stdout, '');
    assert.equal((await cli.run(['status'])).code, 3, 'the dead tokens were forgotten');
    const stolen = await copy.run(['token']);
    assert.equal(stolen.code, 3, 'the copy\'s chain died with the grant, as RFC 6819 §5.2.2.3 suggests');
    assertInvalidToken(await api(server, thief, 'GET', '/me'), 'the copy\'s access token');
  });

  it('logout revokes the refresh token and forgets the tokens', async () => {
    const cli = await loggedIn();
    const token = (await cli.ok(['token'])).trim();
    const out = await cli.ok(['logout']);
    assert.match(out, /Logged out of .*; the refresh token is revoked/);
    assertInvalidToken(await api(server, token, 'GET', '/me'), 'access token of a logged-out grant');
    const status = await cli.run(['status']);
    assert.equal(status.code, 3);
    assert.match(status.stderr, /not logged in/);
    assert.match(await cli.ok(['logout']), /nothing to do/);
  });

  it('a confidential backend gets app tokens with client credentials, renewed after expiry', async () => {
    const backend = await server.createClient({ name: 'Backend', redirectUris: ['https://backend.example/cb'] });
    const cli = new Cli(server, { clientId: backend.client_id, env: { STAGEPASS_CLIENT_SECRET: backend.client_secret } });
    const login = await cli.run(['login', '--client-credentials', '--scopes', '']);
    assert.equal(login.code, 0, login.stderr);
    const search = JSON.parse(await cli.ok(['api', 'GET', '/v1/search?q=a&type=artist&limit=1']));
    assert.ok(Array.isArray(search.artists.items));
    const first = (await cli.ok(['token'])).trim();
    await outliveToken();
    const before = await tokenRequests(server, 'client_credentials');
    const second = (await cli.ok(['token'])).trim();
    assert.notEqual(second, first);
    assert.equal(await tokenRequests(server, 'client_credentials') - before, 1);
    const status = JSON.parse(await cli.ok(['status', '--json']));
    assert.equal(status.has_refresh_token, false);
    assert.equal(status.user, undefined, 'an app token has no user');
    const secretless = await new Cli(server, { clientId: backend.client_id }).run(['login', '--client-credentials']);
    assert.equal(secretless.code, 2);
    assert.match(secretless.stderr, /client secret/);
  });

  it('explains errors in one line with distinct exit codes', async () => {
    const cli = await loggedIn();
    const missing = await cli.run(['api', 'GET', '/v1/albums/zzzzzzzzzzzzzzzzzzzzzz']);
    assert.equal(missing.code, 4);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    assert.match(missing.stderr, /api: HTTP 404/);
    const scope = await cli.run(['api', 'GET', '/v1/me/tracks']);
    assert.equal(scope.code, 4);
    assert.match(scope.stderr, /HTTP 403/);
    const bad = await cli.run(['api', 'PUT', '/v1/me/tracks', '--data', '{nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not valid JSON/);
    const down = await newCli({ issuer: 'http://127.0.0.1:9' }).run(['status']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^stagepass-cli: network: /);
  });
});

describe('stagepass-cli against a server with a low rate limit', () => {
  let server;
  before(async () => { server = await startServer({ label: 'sp-sdk-429' }); });
  after(async () => { await server?.stop(); });

  it('gives up with exit 5 and the Retry-After when the wait is too long', async () => {
    await server.createUser(USER);
    const limited = await server.adminJson(['client', 'create', '--name', 'Limited CLI', '--public', '--redirect-uri', 'http://127.0.0.1/callback', '--rate-limit', '2']);
    const cli = new Cli(server, { clientId: limited.client_id });
    assert.equal((await cli.login(USER, SCOPES)).code, 0); // login itself calls /v1/me once
    await cli.ok(['api', 'GET', '/v1/me']);
    const r = await cli.run(['api', 'GET', '/v1/me']);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /rate_limited: HTTP 429.*\(retry after \d+ s\)/);
  });
});
