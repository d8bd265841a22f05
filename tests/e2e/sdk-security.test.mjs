// Attacks on a user of the client SDK, through its real CLI (build/stagepass-cli) against the
// real server, or — where the attack needs a hostile server — against a small one of the
// test's own that records what reaches it. Each test asserts the refusal the user sees and
// that nothing secret reached the attacker. Issue 13 §1, SDK bullet.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { chmodSync, chownSync, readdirSync, statSync, symlinkSync } from 'node:fs';
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

/** Opens `n` TCP connections to 127.0.0.1:`port` that send nothing; resolves once all are connected. */
async function silentConnections(port, n) {
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  })));
  for (const s of sockets) s.on('error', () => {}); // the listener may close them
  return { close: () => sockets.forEach((s) => s.destroy()) };
}

/** Fails unless `text` is lines of printable characters: no C0/C1 controls, DEL or bidi controls. */
function assertPrintable(text, what) {
  const bad = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.exec(text);
  assert.equal(bad, null, `${what} shows U+${bad?.[0].codePointAt(0).toString(16).padStart(4, '0')}: ${JSON.stringify(text)}`);
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

  it('sixteen silent connections to the callback port do not keep the browser out', async () => {
    let held;
    const r = await newCli().loginWith(async (url) => {
      const redirect = new URL(new URL(url).searchParams.get('redirect_uri'));
      held = await silentConnections(Number(redirect.port), 16);
      return consentingUser(server, USER)(url);
    }, ['--scopes', SCOPES]);
    held?.close();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.callback.status, 200);
    assert.match(r.stdout, /Logged in to .* as Sec User/);
  });

  it('refuses a cache directory that is a symbolic link and leaves its target alone', async () => {
    const target = tempConfigDir();
    chmodSync(target, 0o755);
    const link = path.join(tempConfigDir(), 'stagepass');
    symlinkSync(target, link);
    const r = await new Cli(server, { clientId: app.client_id, configDir: link }).run(['status']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^stagepass-cli: cache: token directory .*stagepass is a symbolic link; refusing it/);
    assert.equal(statSync(target).mode & 0o777, 0o755, 'the target was not chmod\'ed');
    assert.deepEqual(readdirSync(target), [], 'nothing was created in the target');
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

  it('shows what a server says about the user and the scopes only as printable text', async () => {
    // Terminal escapes (a title change, clear screen, 8-bit CSI) and a bidi override that
    // would show the line in another order, in every string the CLI prints from the server.
    const hostile = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eresu\u2066';
    const provider = await recorder((req, res) => {
      const issuer = `http://127.0.0.1:${req.socket.localPort}`;
      const answer = {
        '/.well-known/oauth-authorization-server': { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` },
        '/token': { access_token: 'at', token_type: 'Bearer', expires_in: 3600, scope: `read ${hostile}` },
        '/v1/me': { id: `id${hostile}`, display_name: `Name${hostile}`, email: `me${hostile}@example.com` },
      }[req.url];
      res.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer ?? {}));
    });
    try {
      const cli = new Cli({ url: provider.url }, { clientId: 'app', env: { STAGEPASS_CLIENT_SECRET: 'app-secret' } });
      const login = await cli.run(['login', '--client-credentials']);
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /^Logged in to .* as Name.*\(id.*\) <me.*@example\.com>\.\nScopes: read /);
      const status = await cli.run(['status']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^Signed in as: {2}Name/m);
      assertPrintable(login.stdout, 'login');
      assertPrintable(status.stdout, 'status');
    } finally {
      await provider.close();
    }
  });
});
