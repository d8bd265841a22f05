// TLS built in (issue 13 §2): the real server with a certificate made on the fly, used by
// npm openid-client v6 over https with every check on (no allowInsecureRequests); protocol
// versions and suites; HSTS; certificate reload on SIGHUP; the refusals that keep plain http
// off the network; the http→https redirect listener; the api role's JWKS over https.
// The test CA is trusted through an undici Agent (openid-client's customFetch, and the
// global dispatcher for the page-walking helpers), never NODE_TLS_REJECT_UNAUTHORIZED.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { Agent, setGlobalDispatcher, getGlobalDispatcher } from 'undici';
import {
  startServer, freePort, Browser, authorizeInBrowser, getJson, verifyJwtWithJwks, assertSameScopes,
  StagepassServer,
} from '../e2e/lib/server.mjs';
import { api, expectOk, assertInvalidToken, clientToken } from '../e2e/lib/webapi.mjs';
import {
  makeCert, connectTls, connectTcp, exchange, closedWithin, refusingServeEnv, runServe, waitForText, sleep,
} from './lib/transport.mjs';

const REDIRECT = 'https://app.example/callback';
const ALICE = { email: 'alice@example.com', displayName: 'Alice Example', password: 'alice-correct-horse-1' };
const GET_HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-tls-'));
const ca = makeCert(dir, 'ca-served'); // the certificate the server starts with
const agent = new Agent({ connect: { ca: ca.pem } });
const tlsFetch = (url, options) => fetch(url, { ...options, dispatcher: agent });
const previousDispatcher = getGlobalDispatcher();

const serveEnv = (extra) => refusingServeEnv(dir, extra);

function assertRefused(r, pattern) {
  assert.equal(r.stillRunning, false, `expected the server to refuse to start; it ran:\n${r.stdout.slice(-2000)}`);
  assert.notEqual(r.code, 0, `exit code\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one clear line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
}

before(() => { setGlobalDispatcher(agent); });
after(() => { setGlobalDispatcher(previousDispatcher); rmSync(dir, { recursive: true, force: true }); });

describe('openid-client v6 over https', () => {
  let server;
  let alice;
  let conf;
  let pub;
  let jwks;
  let browser;
  const options = { [client.customFetch]: tlsFetch };

  before(async () => {
    server = await startServer({ label: 'sp-tls-oidc', https: { cert: ca.cert, key: ca.key, dispatcher: agent } });
    alice = await server.createUser(ALICE);
    conf = await server.createClient({ name: 'TLS app', redirectUris: [REDIRECT] });
    pub = await server.createClient({ name: 'TLS native', redirectUris: [REDIRECT], isPublic: true });
    jwks = (await getJson(server, '/.well-known/jwks.json')).json;
    browser = new Browser(server);
  });
  after(async () => { await server?.stop(); });

  const issuerUrl = () => new URL(server.issuer);

  async function codeFlow(config, scope) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    assert.equal(url.protocol, 'https:');
    const r = await authorizeInBrowser({ server, browser, url, email: alice.email, password: alice.password });
    assert.equal(r.stoppedAt, 'redirect', `browser step did not reach the redirect URI:\n${browser.traceText()}`);
    assert.equal(r.iss, server.issuer, 'RFC 9207 iss names the https issuer');
    return client.authorizationCodeGrant(config, new URL(r.location), { pkceCodeVerifier: verifier, expectedState: state });
  }

  it('discovers the https issuer with every openid-client check on', async () => {
    assert.match(server.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    const config = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, undefined, options);
    const md = config.serverMetadata();
    assert.equal(md.issuer, server.issuer);
    assert.equal(md.token_endpoint, `${server.issuer}/api/token`);
    assert.equal(md.authorization_endpoint, `${server.issuer}/authorize`);
    assert.equal(md.jwks_uri, `${server.issuer}/.well-known/jwks.json`);
  });

  it('runs authorization code + PKCE through the pages and refreshes (confidential client)', async () => {
    const config = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, undefined, options);
    const tokens = await codeFlow(config, 'user-read-private user-library-read');
    assertSameScopes(tokens.scope, 'user-read-private user-library-read');
    const { payload } = verifyJwtWithJwks(tokens.access_token, jwks);
    assert.equal(payload.iss, server.issuer);
    assert.equal(payload.sub, String(alice.id));
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  });

  it('runs authorization code + PKCE for a public client (auth none)', async () => {
    const config = await client.discovery(issuerUrl(), pub.client_id, undefined, client.None(), options);
    const tokens = await codeFlow(config, 'user-read-email');
    assert.equal(verifyJwtWithJwks(tokens.access_token, jwks).payload.client_id, pub.client_id);
    assert.ok((await client.refreshTokenGrant(config, tokens.refresh_token)).access_token);
  });

  it('issues client credentials, then introspects and revokes the token', async () => {
    const config = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, client.ClientSecretBasic(conf.client_secret), options);
    const tokens = await client.clientCredentialsGrant(config);
    assert.equal(verifyJwtWithJwks(tokens.access_token, jwks).payload.sub, conf.client_id);
    const live = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(live.active, true);
    assert.equal(live.client_id, conf.client_id);
    await client.tokenRevocation(config, tokens.access_token);
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
  });

  it('marks every https answer with HSTS, errors included', async () => {
    for (const p of ['/healthz', '/.well-known/openid-configuration', '/no-such-page', '/login']) {
      const r = await tlsFetch(`${server.url}${p}`, { redirect: 'manual' });
      await r.arrayBuffer();
      assert.equal(r.headers.get('strict-transport-security'), 'max-age=31536000', p);
    }
    const s = await connectTcp(server.port); // plain http sent to the TLS port: no answer
    s.write(GET_HEALTHZ);
    await assert.rejects(exchange(s, '', { timeoutMs: 12000 }), /closed/);
  });
});

describe('TLS versions and suites', () => {
  let server;
  before(async () => {
    // The same certificate through `serve --tls-cert/--tls-key` instead of the variables.
    server = await startServer({
      label: 'sp-tls-versions',
      https: { cert: ca.cert, key: ca.key, dispatcher: agent },
      env: { STAGEPASS_TLS_CERT: undefined, STAGEPASS_TLS_KEY: undefined },
      args: ['--tls-cert', ca.cert, '--tls-key', ca.key],
    });
  });
  after(async () => { await server?.stop(); });

  it('refuses TLS 1.0 and 1.1 with a protocol_version alert', async () => {
    for (const v of ['TLSv1', 'TLSv1.1']) {
      // SECLEVEL=0 lets this client offer the old version, so the refusal is the server's.
      await assert.rejects(
        connectTls(server.port, { ca: ca.pem, minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' }),
        (e) => { assert.equal(e.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', `${v}: ${e.code} ${e.message}`); return true; },
      );
    }
  });

  it('accepts TLS 1.2 (ECDHE + AEAD only) and TLS 1.3', async () => {
    const s12 = await connectTls(server.port, { ca: ca.pem, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(s12.getProtocol(), 'TLSv1.2');
    assert.match(s12.getCipher().name, /^ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    assert.equal((await exchange(s12, GET_HEALTHZ)).status, 200);
    s12.destroy();
    const s13 = await connectTls(server.port, { ca: ca.pem, minVersion: 'TLSv1.3' });
    assert.equal(s13.getProtocol(), 'TLSv1.3');
    assert.match(s13.getCipher().name, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
    assert.equal((await exchange(s13, GET_HEALTHZ)).status, 200);
    s13.destroy();
  });

  it('refuses TLS 1.2 suites without AEAD (CBC) and ALPN offers without http/1.1', async () => {
    await assert.rejects(connectTls(server.port, {
      ca: ca.pem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA',
    }), /handshake failure|HANDSHAKE_FAILURE/i);
    await assert.rejects(connectTls(server.port, { ca: ca.pem, ALPNProtocols: ['h2'] }), /no application protocol|NO_APPLICATION_PROTOCOL/i);
    const ok = await connectTls(server.port, { ca: ca.pem, ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(ok.alpnProtocol, 'http/1.1');
    ok.destroy();
  });

  it('survives failed and stalled handshakes without losing a connection slot', async () => {
    const open = async () => Number((await (await tlsFetch(`${server.url}/metrics`)).text()).match(/^stagepass_http_connections (\d+)$/m)[1]);
    const before = await open();
    const silent = await connectTcp(server.port); // never sends a ClientHello
    for (let i = 0; i < 20; i++) {
      const s = await connectTcp(server.port);
      s.write(i % 2 ? 'garbage that is not a ClientHello\r\n\r\n' : '\x16\x03\x01\x00\x05hello');
      s.destroy();
    }
    await closedWithin(silent, 20000); // the 10 s handshake deadline
    await sleep(200);
    assert.ok(await open() <= before, 'every refused or stalled handshake gave its slot back');
    assert.equal(server.exit, null, 'the server is still running');
  });
});

describe('certificate reload on SIGHUP', () => {
  let server;
  let files;
  const next = makeCert(dir, 'next');
  before(async () => {
    // The server reads its own copies, which the test overwrites like a renewal would.
    files = { cert: path.join(dir, 'live.pem'), key: path.join(dir, 'live.key') };
    copyFileSync(ca.cert, files.cert);
    copyFileSync(ca.key, files.key);
    server = await startServer({ label: 'sp-tls-reload', https: { ...files, dispatcher: agent } });
  });
  after(async () => { await server?.stop(); });

  it('serves the new certificate to new connections while an open one keeps working', async () => {
    const both = [ca.pem, next.pem];
    const old = await connectTls(server.port, { ca: both });
    assert.equal(old.getPeerCertificate().fingerprint256, ca.fingerprint256);
    assert.equal((await exchange(old, GET_HEALTHZ)).status, 200);

    copyFileSync(next.cert, files.cert);
    copyFileSync(next.key, files.key);
    process.kill(server.child.pid, 'SIGHUP');
    await waitForText(() => server.stdout(), /"msg":"tls reloaded"/);

    const fresh = await connectTls(server.port, { ca: both });
    assert.equal(fresh.getPeerCertificate().fingerprint256, next.fingerprint256);
    assert.equal((await exchange(fresh, GET_HEALTHZ)).status, 200);
    fresh.destroy();
    // The keep-alive connection opened before the reload still answers, on the old certificate.
    const again = await exchange(old, GET_HEALTHZ);
    assert.equal(again.status, 200);
    assert.equal(old.getPeerCertificate().fingerprint256, ca.fingerprint256);
    old.destroy();
  });

  it('keeps the current certificate when the reload fails', async () => {
    writeFileSync(files.key, 'not a key\n');
    process.kill(server.child.pid, 'SIGHUP');
    await waitForText(() => server.stdout(), /"msg":"tls reload failed; the current certificate stays"/);
    const s = await connectTls(server.port, { ca: [ca.pem, next.pem] });
    assert.equal(s.getPeerCertificate().fingerprint256, next.fingerprint256);
    assert.equal((await exchange(s, GET_HEALTHZ)).status, 200);
    s.destroy();
    assert.equal(server.exit, null);
  });
});

describe('plain http stays on loopback', () => {
  it('refuses a plain-http listener on a non-loopback address', async () => {
    for (const listen of ['0.0.0.0:0', '[::]:0']) {
      assertRefused(await runServe(serveEnv({ STAGEPASS_LISTEN: listen })), /STAGEPASS_LISTEN=.* plain http on a non-loopback address.*STAGEPASS_INSECURE_HTTP=1/);
    }
    assertRefused(await runServe(serveEnv({ STAGEPASS_ADMIN_LISTEN: '0.0.0.0:0' })), /STAGEPASS_ADMIN_LISTEN=0\.0\.0\.0:0 would serve plain http/);
  });

  it('starts on a non-loopback address with STAGEPASS_INSECURE_HTTP=1 (behind a TLS proxy)', async () => {
    const server = await startServer({ label: 'sp-tls-insecure', listenHost: '0.0.0.0', env: { STAGEPASS_INSECURE_HTTP: '1' } });
    try {
      const r = await fetch(`${server.url}/healthz`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
    } finally {
      await server.stop();
    }
  });

  it('refuses a certificate without its key, and a key that does not match', async () => {
    assertRefused(await runServe(serveEnv({ STAGEPASS_ISSUER: 'https://127.0.0.1:8443', STAGEPASS_TLS_CERT: ca.cert })), /STAGEPASS_TLS_CERT and STAGEPASS_TLS_KEY/);
    const other = makeCert(dir, 'other');
    assertRefused(await runServe(serveEnv({ STAGEPASS_ISSUER: 'https://127.0.0.1:8443', STAGEPASS_TLS_CERT: ca.cert, STAGEPASS_TLS_KEY: other.key })), /does not match/);
    assertRefused(await runServe(serveEnv({ STAGEPASS_TLS_CERT: ca.cert, STAGEPASS_TLS_KEY: ca.key })), /STAGEPASS_ISSUER must be an https:\/\/ URL/);
  });
});

describe('private key handling', () => {
  it('refuses an encrypted key with a clear message instead of prompting for its passphrase', async () => {
    const encrypted = path.join(dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', ca.key, '-aes256', '-passout', 'pass:secret-passphrase', '-out', encrypted], { stdio: 'pipe' });
    const r = await runServe(serveEnv({ STAGEPASS_ISSUER: 'https://127.0.0.1:8443', STAGEPASS_TLS_CERT: ca.cert, STAGEPASS_TLS_KEY: encrypted }));
    assertRefused(r, /TLS key .*encrypted\.key is encrypted: stagepass never asks for a passphrase/);
    assert.doesNotMatch(r.stderr + r.stdout, /secret-passphrase/);
  });

  it('warns at startup when the key file is readable by other users', async () => {
    const shared = path.join(dir, 'shared.key');
    copyFileSync(ca.key, shared);
    chmodSync(shared, 0o644);
    const server = await startServer({ label: 'sp-tls-keymode', https: { cert: ca.cert, key: shared, dispatcher: agent } });
    try {
      assert.match(server.stdout(), /"level":"warn".*"msg":"TLS key file is readable by other users: chmod 600 it".*"mode":"0644"/);
    } finally {
      await server.stop();
    }
    const own = await startServer({ label: 'sp-tls-keymode-ok', https: { cert: ca.cert, key: ca.key, dispatcher: agent } });
    try {
      assert.doesNotMatch(own.stdout(), /TLS key file is readable/, 'a 0600 key is not reported');
    } finally {
      await own.stop();
    }
  });
});

describe('connection limit on the TLS port', () => {
  const LIMIT = 3;
  let server;
  before(async () => {
    server = await startServer({ label: 'sp-tls-limit', https: { cert: ca.cert, key: ca.key, dispatcher: agent }, env: { STAGEPASS_MAX_CONNECTIONS: LIMIT } });
  });
  after(async () => { await server?.stop(); });

  // Before: a connection over the limit got a full TLS handshake, then a 503.
  it('closes connections over STAGEPASS_MAX_CONNECTIONS before any handshake, and serves again once slots free up', async () => {
    const held = [];
    let refused = null;
    try {
      // The health check's kept-alive connection may hold a slot too: fill up to the refusal.
      for (let i = 0; i <= LIMIT && !refused; i++) {
        try {
          const s = await connectTls(server.port, { ca: ca.pem });
          held.push(s);
          const r = await exchange(s, GET_HEALTHZ);
          assert.equal(r.status, 200, `connection ${i} within the limit is served, got ${r.status}`);
        } catch (e) {
          refused = e;
        }
      }
      assert.ok(refused, `connection ${LIMIT + 1} was not refused`);
      // The health check's one kept-alive connection may or may not still hold a slot.
      assert.ok(held.length === LIMIT || held.length === LIMIT - 1, `${held.length} connections served`);
      assert.match(`${refused.code} ${refused.message}`, /ECONNRESET|socket disconnected before secure TLS connection/);
      // More raw connections: closed by the server without waiting for a ClientHello.
      for (let i = 0; i < 3; i++) {
        const raw = await connectTcp(server.port);
        await closedWithin(raw, 5000); // the handshake deadline is 10 s
      }
    } finally {
      for (const s of held) s.destroy();
    }
    // The slots come back: a fresh client is served.
    let status = 0;
    for (let tries = 0; tries < 50 && status !== 200; tries++) {
      await sleep(100);
      try {
        const s = await connectTls(server.port, { ca: ca.pem });
        status = (await exchange(s, GET_HEALTHZ)).status;
        s.destroy();
      } catch { /* still full: retry */ }
    }
    assert.equal(status, 200);
  });
});

describe('shutdown with connections open', () => {
  // Issue 13 (review): the connections' frames outlived the Server at exit; under the ASan
  // build (make test-asan) this shutdown reported a heap-use-after-free.
  it('exits 0 on SIGTERM with idle keep-alive, mid-handshake and TLS connections open', async () => {
    const server = await startServer({ label: 'sp-tls-shutdown', https: { cert: ca.cert, key: ca.key, dispatcher: agent } });
    const open = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = await connectTls(server.port, { ca: ca.pem });
        assert.equal((await exchange(s, GET_HEALTHZ)).status, 200);
        open.push(s);
      }
      for (let i = 0; i < 2; i++) open.push(await connectTcp(server.port)); // never handshakes
      for (const s of open) s.on('error', () => {});
      const exit = await server.stop({ keep: true });
      assert.deepEqual(exit, { code: 0, signal: null }, server.logs());
      assert.match(server.stdout(), /"msg":"stopped"/);
    } finally {
      for (const s of open) s.destroy();
      await server.stop();
      rmSync(server.tmpdir, { recursive: true, force: true });
    }
  });
});

describe('http→https redirect listener', () => {
  let server;
  let redirectPort;
  before(async () => {
    redirectPort = await freePort();
    server = await startServer({
      label: 'sp-tls-redirect',
      https: { cert: ca.cert, key: ca.key, dispatcher: agent },
      env: { STAGEPASS_HTTP_REDIRECT_LISTEN: `127.0.0.1:${redirectPort}` },
    });
  });
  after(async () => { await server?.stop(); });

  it('answers 308 to the issuer origin and the same path, whatever the Host header says', async () => {
    const s = await connectTcp(redirectPort);
    const get = await exchange(s, 'GET /authorize?client_id=abc&state=xyz HTTP/1.1\r\nHost: evil.example\r\n\r\n');
    assert.equal(get.status, 308);
    assert.deepEqual(get.headers.location, [`${server.issuer}/authorize?client_id=abc&state=xyz`]);
    const post = await exchange(s, 'POST /authorize HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 0\r\n\r\n');
    assert.equal(post.status, 308, 'method-preserving redirect');
    assert.deepEqual(post.headers.location, [`${server.issuer}/authorize`]);
    const absolute = await exchange(s, 'GET http://evil.example/x HTTP/1.1\r\nHost: evil.example\r\n\r\n');
    assert.deepEqual(absolute.headers.location, [`${server.issuer}/`]);
    assert.equal(absolute.headers['strict-transport-security'], undefined, 'RFC 6797 §7.2: no STS over http');
    s.destroy();
  });

  // A client that sent credentials or a token to http:// has already leaked them; a redirect
  // that works would teach it to keep sending them in clear first. It gets an error instead.
  it('refuses token and API paths with a JSON error instead of redirecting them', async () => {
    const s = await connectTcp(redirectPort);
    const token = await exchange(s, 'POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials');
    assert.equal(token.status, 400);
    assert.equal(token.headers.location, undefined);
    assert.match(token.headers['content-type'][0], /^application\/json/);
    assert.equal(JSON.parse(token.body).error, 'invalid_request');
    const webapi = await exchange(s, 'GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer abc\r\n\r\n');
    assert.equal(webapi.status, 403);
    assert.equal(webapi.headers.location, undefined);
    assert.equal(JSON.parse(webapi.body).error.status, 403, 'the Web API\'s error object');
    const introspect = await exchange(s, 'GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(introspect.status, 400);
    const apiLike = await exchange(s, 'GET /apis HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(apiLike.status, 308, 'only the /api and /v1 trees are refused');
    s.destroy();
  });

  // Review: every listener had the public one's limit (10,000) and its own count, so idle
  // sockets on the plain-http port could take the descriptors the https port needs.
  it('takes at most 256 connections, and the https port keeps serving meanwhile', async () => {
    const idle = [];
    try {
      for (let i = 0; i < 256; i++) {
        const s = await connectTcp(redirectPort);
        s.on('error', () => {});
        idle.push(s);
      }
      const extra = await connectTcp(redirectPort);
      extra.on('error', () => {});
      // Over the limit a plain-http listener answers 503 at accept, unasked, and closes
      // (docs/operations.md, STAGEPASS_MAX_CONNECTIONS). Nothing is written to it: a request
      // sent after its close would reset the connection and could lose the 503.
      const r = await exchange(extra, '');
      extra.destroy();
      assert.equal(r.status, 503, `the 257th connection: ${r.head}`);
      const tls = await connectTls(server.port, { ca: ca.pem });
      assert.equal((await exchange(tls, GET_HEALTHZ)).status, 200);
      tls.destroy();
    } finally {
      for (const s of idle) s.destroy();
    }
  });

  it('needs an https issuer', async () => {
    assertRefused(await runServe(serveEnv({ STAGEPASS_HTTP_REDIRECT_LISTEN: '127.0.0.1:0' })), /STAGEPASS_HTTP_REDIRECT_LISTEN redirects to the https issuer/);
  });
});

describe('api role fetches the JWKS over https', () => {
  let accounts;
  let app;
  before(async () => {
    accounts = await startServer({ label: 'sp-tls-accounts', https: { cert: ca.cert, key: ca.key, dispatcher: agent } });
    app = await accounts.createClient({ name: 'TLS split app', redirectUris: [REDIRECT] });
  });
  after(async () => { await accounts?.stop(); });

  it('validates tokens with keys fetched from an https issuer it trusts', async () => {
    const apiNode = await startServer({
      label: 'sp-tls-api',
      args: ['--roles', 'api', '--issuer', accounts.issuer],
      env: { STAGEPASS_MUSIC_DATABASE: path.join(accounts.tmpdir, 'music.db'), SSL_CERT_FILE: ca.cert },
    });
    try {
      const token = await clientToken(accounts, app);
      expectOk(await api(apiNode, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
    } finally {
      await apiNode.stop();
    }
  });

  it('fetches nothing from an https issuer whose certificate it cannot verify', async () => {
    const apiNode = await startServer({
      label: 'sp-tls-api-untrusted',
      args: ['--roles', 'api', '--issuer', accounts.issuer],
      env: { STAGEPASS_MUSIC_DATABASE: path.join(accounts.tmpdir, 'music.db'), SSL_CERT_FILE: path.join(dir, 'no-such-ca.pem') },
    });
    try {
      await waitForText(() => apiNode.stdout(), /"msg":"JWKS refresh failed".*certificate verify failed/);
      const token = await clientToken(accounts, app);
      assertInvalidToken(await api(apiNode, token, 'GET', '/search', { query: { q: 'a', type: 'artist' } }));
    } finally {
      await apiNode.stop();
    }
  });
});

describe('api role checks the issuer\'s host name in its certificate', () => {
  // The issuer is https://localhost:PORT; the certificate that names only IP:127.0.0.1 (with
  // CN=localhost) is valid for the connection's address but not for the name the api role
  // asked for. Before: asio's host_name_verification fell back to the CN and accepted it.
  async function startLocalhostIssuer(label, cert) {
    const port = await freePort();
    const tmpdir = mkdtempSync(path.join(os.tmpdir(), `${label}-`));
    const env = {
      ...process.env,
      STAGEPASS_LISTEN: `127.0.0.1:${port}`,
      STAGEPASS_ISSUER: `https://localhost:${port}`,
      STAGEPASS_DATABASE: path.join(tmpdir, 'stagepass.db'),
      STAGEPASS_MASTER_KEY_FILE: path.join(tmpdir, 'master.key'),
      STAGEPASS_CATALOG_SCALE: '0.02',
      STAGEPASS_TLS_CERT: cert.cert,
      STAGEPASS_TLS_KEY: cert.key,
    };
    delete env.STAGEPASS_MASTER_KEY;
    // This test's CA, trusted by the test's own requests (restored in after()).
    const trusting = new Agent({ connect: { ca: [ca.pem, cert.pem] } });
    setGlobalDispatcher(trusting);
    const server = new StagepassServer({ port, issuer: env.STAGEPASS_ISSUER, tmpdir, env, dispatcher: trusting });
    server.url = `https://127.0.0.1:${port}`; // the health check and helpers: by address
    await server.start(15000);
    return server;
  }

  after(() => { setGlobalDispatcher(agent); });

  async function apiNodeFor(accounts, cert, label) {
    return startServer({
      label,
      args: ['--roles', 'api', '--issuer', accounts.issuer],
      env: { STAGEPASS_MUSIC_DATABASE: path.join(accounts.tmpdir, 'music.db'), SSL_CERT_FILE: cert.cert },
    });
  }

  it('refuses a certificate for IP:127.0.0.1 only when the issuer is https://localhost', async () => {
    const ipOnly = makeCert(dir, 'ip-only', 'localhost', 'IP:127.0.0.1');
    const accounts = await startLocalhostIssuer('sp-tls-host-ip', ipOnly);
    let apiNode;
    try {
      const app = await accounts.createClient({ name: 'host check', redirectUris: [REDIRECT] });
      apiNode = await apiNodeFor(accounts, ipOnly, 'sp-tls-host-ip-api');
      const token = await clientToken(accounts, app);
      assert.match(JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).iss, /^https:\/\/localhost:/);
      assertInvalidToken(await api(apiNode, token, 'GET', '/search', { query: { q: 'a', type: 'artist' } }));
      await waitForText(() => apiNode.stdout(), /"msg":"JWKS refresh failed"/).catch((e) => { throw new Error(`${e.message}\n${apiNode.logs()}`); });
      const failure = apiNode.stdout().split('\n').find((l) => l.includes('"JWKS refresh failed"'));
      assert.match(failure, /certificate verify failed.*\(hostname mismatch\)/, failure);
    } finally {
      await apiNode?.stop();
      await accounts.stop();
    }
  });

  it('accepts the same issuer with a certificate that names DNS:localhost', async () => {
    const named = makeCert(dir, 'named', 'localhost', 'DNS:localhost,IP:127.0.0.1');
    const accounts = await startLocalhostIssuer('sp-tls-host-dns', named);
    let apiNode;
    try {
      const app = await accounts.createClient({ name: 'host check', redirectUris: [REDIRECT] });
      apiNode = await apiNodeFor(accounts, named, 'sp-tls-host-dns-api');
      const token = await clientToken(accounts, app);
      expectOk(await api(apiNode, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
    } finally {
      await apiNode?.stop();
      await accounts.stop();
    }
  });
});

describe('api role with a plain-http issuer', () => {
  it('refuses at startup an http issuer that is not loopback', async () => {
    // 0.0.0.0 is not a loopback address, yet a connection to it never leaves this machine.
    const r = await runServe(serveEnv({ STAGEPASS_ROLES: 'api', STAGEPASS_ISSUER: `http://0.0.0.0:${await freePort()}` }));
    assertRefused(r, /fetches the issuer's keys only over https unless the issuer is a loopback address/);
  });
});
