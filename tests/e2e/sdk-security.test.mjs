// Attacks on a user of the client SDK, through its real CLI (build/stagepass-cli) against the
// real server, or — where the attack needs a hostile server — against a small one of the
// test's own that records what reaches it. Each test asserts the refusal the user sees and
// that nothing secret reached the attacker. Issue 13 §1, SDK bullet.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { chmodSync, chownSync, statSync } from 'node:fs';
import path from 'node:path';
import { startServer } from './lib/server.mjs';
import { Cli, consentingUser, tempConfigDir, tokenRequests } from './lib/cli.mjs';

const USER = { email: 'sec@example.com', displayName: 'Sec User', password: 'sec-password-123' };
const SCOPES = 'user-read-private user-read-email';

/** An HTTP server on loopback that answers `handler` (default: 200 {}) and records requests. */
function recorder(handler) {
  const seen = [];
  const srv = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (handler) return handler(req, res, body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      resolve({ port, url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => srv.close(r)) });
    });
  });
}

/** GET with a Host header of the caller's choosing (what a DNS-rebinding page makes a browser send). */
function getWithHost(url, host) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('stagepass-cli keeps its tokens from other hosts (real server)', () => {
  let server;
  let app;
  let evil;
  before(async () => {
    server = await startServer({ label: 'sp-sdk-sec' });
    await server.createUser(USER);
    app = await server.createClient({ name: 'CLI', redirectUris: ['http://127.0.0.1/callback'], isPublic: true });
    evil = await recorder();
  });
  after(async () => {
    await evil?.close();
    await server?.stop();
  });

  const newCli = () => new Cli(server, { clientId: app.client_id });

  it('never sends the access token to another origin named in an API call', async () => {
    const cli = newCli();
    assert.equal((await cli.login(USER, SCOPES)).code, 0);
    const authority = `127.0.0.1:${evil.port}`;
    for (const target of [`${evil.url}/v1/me`, `//${authority}/v1/me`, `/@${authority}/v1/me`,
      `\\\\${authority}/v1/me`, '/v1/me\r\nX-Injected: 1', '/v1/../v1/me']) {
      const r = await cli.run(['api', 'GET', target]);
      assert.equal(r.code, 2, `${JSON.stringify(target)}: ${r.stderr}`);
      assert.match(r.stderr, /^stagepass-cli: usage: will not send the access token to "[^\n]*": [^\n]+\n$/);
    }
    assert.deepEqual(evil.seen, [], 'nothing reached the other origin');
    // The API's own origin, absolute (a `next` link) or relative, still works.
    assert.equal(JSON.parse(await cli.ok(['api', 'GET', `${server.url}/v1/me`])).email, USER.email);
    assert.equal(JSON.parse(await cli.ok(['api', 'GET', '/me'])).email, USER.email);
  });

  it('a guessed state or a DNS-rebound page neither ends the sign-in nor injects a code', async () => {
    const failedExchanges = await tokenRequests(server, 'authorization_code', 400);
    let guessed;
    let rebound;
    const r = await newCli().loginWith(async (url) => {
      const authorize = new URL(url);
      const redirect = new URL(authorize.searchParams.get('redirect_uri'));
      const attempt = new URL(redirect);
      attempt.searchParams.set('code', 'attacker-code');
      attempt.searchParams.set('state', 'guess');
      guessed = await getWithHost(attempt.href, redirect.host);
      // Even with the right state, a request whose Host is the attacker's name is not the answer.
      attempt.searchParams.set('state', authorize.searchParams.get('state'));
      rebound = await getWithHost(attempt.href, `evil.example:${redirect.port}`);
      return consentingUser(server, USER)(url);
    });
    assert.equal(guessed.status, 400);
    assert.equal(rebound.status, 421);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.callback.status, 200);
    assert.match(r.stdout, /Logged in to .* as Sec User/);
    assert.equal(await tokenRequests(server, 'authorization_code', 400), failedExchanges, 'no injected code was exchanged');
  });

  it('makes an existing, open cache directory private (0700)', async () => {
    const dir = tempConfigDir();
    chmodSync(dir, 0o755);
    const r = await new Cli(server, { clientId: app.client_id, configDir: dir }).run(['status']);
    assert.equal(r.code, 3, r.stderr); // not logged in: the store opened
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it('refuses a cache key file that belongs to another user', { skip: process.getuid() !== 0 && 'needs root to chown' }, async () => {
    const cli = new Cli(server, { clientId: app.client_id });
    assert.equal((await cli.login(USER, SCOPES)).code, 0);
    chownSync(path.join(cli.configDir, 'tokens.key'), 65534, 65534);
    const r = await cli.run(['token']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '', 'no token printed');
    assert.match(r.stderr, /^stagepass-cli: cache: key file .*tokens\.key is owned by uid 65534, not by you/);
  });
});

describe('stagepass-cli and servers it must not trust', () => {
  it('refuses a plain-http issuer that is not on this machine', async () => {
    const r = await new Cli({ url: 'http://auth.example' }, { clientId: 'app' }).run(['status']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^stagepass-cli: usage: the issuer "http:\/\/auth\.example" must use https/);
  });

  it('refuses metadata whose token endpoint is on another origin', async () => {
    const thief = await recorder();
    const provider = await recorder((req, res) => {
      const issuer = `http://127.0.0.1:${req.socket.localPort}`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${thief.url}/token`,
        revocation_endpoint: `${issuer}/revoke`,
      }));
    });
    try {
      const cli = new Cli({ url: provider.url }, { clientId: 'app', env: { STAGEPASS_CLIENT_SECRET: 'app-secret' } });
      const r = await cli.run(['login', '--client-credentials']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^stagepass-cli: protocol: metadata token_endpoint "http:\/\/127\.0\.0\.1:\d+\/token" is not on the issuer's origin/);
      assert.deepEqual(thief.seen, [], 'the client secret never left');
      assert.deepEqual(provider.seen.map((s) => s.url), ['/.well-known/oauth-authorization-server']);
    } finally {
      await thief.close();
      await provider.close();
    }
  });
});
