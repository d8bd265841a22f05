// Shared tools of the attack suite (tests/security/attacks-*.test.mjs): a server on the
// shipped defaults, a signed-in browser, code and token helpers, raw-socket HTTP (for what
// fetch would normalise or refuse to send) and JWT forging with node:crypto.
//
// Everything here talks to the real `stagepass serve` binary booted by tests/e2e/lib.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import {
  startServer, Browser, authorizeForCode, tokenRequest, pkcePair, randomState, assertTokenOk,
} from '../e2e/lib/server.mjs';

export const REDIRECT = 'https://app.example/callback';
export const OTHER_REDIRECT = 'https://app.example/other-callback';
export const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `stagepass serve` with the shipped defaults (tests/e2e/lib/server.mjs sets nothing that
 * changes security behaviour; STAGEPASS_REFRESH_GRACE is unset so the default 10 s grace
 * rotation path is what gets attacked). `env` adds settings a test names.
 */
export function startDefaultServer(label, { env = {}, args = [], timeoutMs = 30000 } = {}) {
  return startServer({ label, env: { STAGEPASS_REFRESH_GRACE: undefined, ...env }, args, timeoutMs });
}

/** A browser signed in as `user` (through GET/POST /login). */
export async function signedIn(server, user) {
  const b = new Browser(server);
  const r = await b.login(user.email, user.password);
  assert.equal(r.status, 303, `sign-in as ${user.email} failed: HTTP ${r.status}\n${b.traceText()}`);
  return b;
}

/**
 * Walks /authorize as `user` on `browser` (consenting when asked) and returns
 * {code, verifier, challenge, state, redirectUri, iss}. `pkce: false` sends no challenge.
 */
export function getCode(server, { redirectUri = REDIRECT, ...rest }) {
  return authorizeForCode(server, { redirectUri, ...rest });
}

/** POST /api/token as `client` (Basic for confidential clients, client_id for public ones). */
export function asClient(server, client, params) {
  return client.public
    ? tokenRequest(server, { ...params, client_id: client.client_id })
    : tokenRequest(server, params, { basic: [client.client_id, client.client_secret] });
}

export function exchange(server, client, { code, verifier, redirectUri = REDIRECT }, extra = {}) {
  return asClient(server, client, {
    grant_type: 'authorization_code', code, redirect_uri: redirectUri,
    ...(verifier ? { code_verifier: verifier } : {}), ...extra,
  });
}

export function refresh(server, client, refreshToken, extra = {}) {
  return asClient(server, client, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

/** A full code flow → token response JSON. */
export async function grantTokens(server, opts) {
  const c = await getCode(server, opts);
  return assertTokenOk(await exchange(server, opts.client, c), 'code exchange');
}

/** GET <issuer>/v1<path> with a bearer token → {status, headers, json, text}. */
export async function apiGet(server, token, path, { headers = {} } = {}) {
  const h = new Headers(headers);
  if (token !== undefined) h.set('authorization', `Bearer ${token}`);
  const res = await fetch(`${server.url}/v1${path}`, { headers: h, redirect: 'manual' });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * The fixed set of error_description values the Web API gives a refused token
 * (docs/operations.md, "Refused tokens"): never text taken from the request.
 */
const TOKEN_REFUSAL_REASONS = ['expired', 'revoked', 'malformed', 'wrong audience', 'wrong issuer', 'not yet valid',
  'unknown key', 'bad signature', 'user token required'];

/** RFC 6750 §3 + Spotify's object: 401, `Bearer realm=..., error="invalid_token", error_description=<one of the set>`. */
export function assertInvalidToken(r, what) {
  const ctx = `${what}: HTTP ${r.status} WWW-Authenticate: ${r.headers.get('www-authenticate')}\n${r.text.slice(0, 300)}`;
  assert.equal(r.status, 401, ctx);
  const m = /^Bearer realm="[^"]*", error="invalid_token", error_description="([^"]*)"$/.exec(r.headers.get('www-authenticate') ?? '');
  assert.ok(m, ctx);
  assert.ok(TOKEN_REFUSAL_REASONS.includes(m[1]), ctx);
  assert.deepEqual(Object.keys(r.json ?? {}), ['error'], ctx);
  assert.equal(r.json.error.status, 401, ctx);
  assert.equal(typeof r.json.error.message, 'string', ctx);
}

// ---------------------------------------------------------------------------------------
// Raw HTTP over node:net

/**
 * Writes `payload` (string, latin1, or Buffer) on a fresh connection and collects what comes
 * back until the server closes or `timeoutMs` passes. Resolves {data: Buffer, closed,
 * responses: [{status, headers, body}]}.
 */
export function rawExchange(server, payload, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const u = new URL(server.url);
    const sock = net.connect(Number(u.port), u.hostname);
    const chunks = [];
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const data = Buffer.concat(chunks);
      resolve({ data, closed, responses: parseResponses(data) });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    sock.write(Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'latin1'));
  });
}

/** Splits a byte stream into HTTP/1.1 responses (Content-Length or chunked bodies). */
export function parseResponses(data) {
  const out = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = data.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) break;
    const headers = [];
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
    }
    const get = (n) => headers.find(([k]) => k === n)?.[1];
    let bodyEnd = end + 4;
    const len = get('content-length');
    if (len !== undefined) bodyEnd += Number(len);
    out.push({
      status: Number(m[1]), head: head.join('\r\n'), headers, get,
      body: data.subarray(end + 4, Math.min(bodyEnd, data.length)).toString('utf8'),
    });
    at = bodyEnd;
  }
  return out;
}

/**
 * A slow client: sends `head`, then one byte of `drip` per `everyMs` for at most `maxMs`.
 * Resolves {closedAfterMs | null, data} once the server closes the connection (or maxMs).
 */
export function slowClient(server, head, { drip = 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', everyMs = 500, maxMs = 20000 } = {}) {
  return new Promise((resolve) => {
    const u = new URL(server.url);
    const started = Date.now();
    const sock = net.connect(Number(u.port), u.hostname);
    const chunks = [];
    let i = 0;
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(stop);
      sock.destroy();
      resolve({ closedAfterMs: closed ? Date.now() - started : null, data: Buffer.concat(chunks) });
    };
    const timer = setInterval(() => {
      if (!sock.writable) return;
      sock.write(drip[i % drip.length]);
      i++;
    }, everyMs);
    const stop = setTimeout(() => finish(false), maxMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    sock.write(head);
  });
}

// ---------------------------------------------------------------------------------------
// JWTs forged with node:crypto

export const b64u = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

/** Signs header.payload with `alg` (EdDSA | ES256 | RS256 | HS256; 'none' signs nothing). */
export function signJwt(header, payload, { alg = header.alg, key } = {}) {
  const input = `${typeof header === 'string' ? header : b64u(header)}.${typeof payload === 'string' ? payload : b64u(payload)}`;
  let sig;
  switch (alg) {
    case 'EdDSA': sig = crypto.sign(null, Buffer.from(input), key); break;
    case 'ES256': sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }); break;
    case 'RS256': sig = crypto.sign('sha256', Buffer.from(input), key); break;
    case 'HS256': sig = crypto.createHmac('sha256', key).update(input).digest(); break;
    default: sig = Buffer.alloc(0);
  }
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}

/** Flips bit `bit` of byte `byte` of the base64url segment `part` (0..2) of a compact JWS. */
export function flipBit(token, part, byte, bit = 0) {
  const parts = token.split('.');
  const raw = Buffer.from(parts[part], 'base64url');
  raw[byte % raw.length] ^= 1 << bit;
  parts[part] = raw.toString('base64url');
  return parts.join('.');
}

/**
 * A stand-in issuer on 127.0.0.1 that publishes one Ed25519 key (kid `k1`) at
 * /.well-known/jwks.json, so an api-only node (`serve --roles api --issuer <this>`) trusts
 * it and the tests can sign tokens whose only defect is the one under test. Every other
 * path answers an attacker's JWKS and is recorded in `hits`: a verifier that followed
 * jku/x5u would show up there.
 */
export async function startFakeIssuer() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const attacker = crypto.generateKeyPairSync('ed25519');
  const jwk = (k, kid) => ({ ...k.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' });
  const hits = [];
  const srv = http.createServer((req, res) => {
    const body = req.url === '/.well-known/jwks.json'
      ? { keys: [jwk(publicKey, 'k1')] }
      : { keys: [jwk(attacker.publicKey, 'k1')] };
    if (req.url !== '/.well-known/jwks.json') hits.push(req.url);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${srv.address().port}`;
  return {
    issuer, audience: `${issuer}/v1`, publicKey, privateKey, attackerKey: attacker.privateKey,
    attackerJwk: jwk(attacker.publicKey, 'k1'), publicJwk: jwk(publicKey, 'k1'), hits,
    close: () => new Promise((r) => srv.close(r)),
  };
}

/** Claims of a client-credentials style access token from `iss` for `aud`, valid now. */
export function claims(iss, aud, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss, sub: 'attack-suite-client', aud, exp: now + 600, iat: now, jti: crypto.randomUUID(),
    client_id: 'attack-suite-client', scope: '', ...extra,
  };
}
