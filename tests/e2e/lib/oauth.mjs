// Wire-level OAuth helpers: PKCE, token endpoint requests, RFC 6749 §5.2 error checks and
// offline JWT access-token verification against the JWKS with node:crypto (no jose).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { networkError } from './browser.mjs';

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function pkcePair() {
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

export const randomState = () => b64url(crypto.randomBytes(12));

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding. */
export function formEncode(s) {
  return new URLSearchParams({ x: s }).toString().slice(2);
}

export function basicAuth(id, secret, { encode = formEncode } = {}) {
  return 'Basic ' + Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64');
}

/** Percent-encodes every non-alphanumeric character (still valid form-urlencoding). */
export function percentEncodeAll(s) {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0')))
    .join('');
}

async function readResponse(res) {
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * POST /api/token. `params` is an object or [[k, v]...]; `basic: [id, secret]` adds
 * client_secret_basic; `body`/`contentType` replace the form body entirely.
 */
export async function tokenRequest(server, params, { basic, headers = {}, body, contentType } = {}) {
  const h = new Headers(headers);
  if (basic) h.set('authorization', basicAuth(basic[0], basic[1]));
  let payload = body;
  if (payload === undefined) payload = new URLSearchParams(params).toString();
  h.set('content-type', contentType ?? 'application/x-www-form-urlencoded');
  let res;
  try {
    res = await fetch(new URL('/api/token', server.url), { method: 'POST', headers: h, body: payload });
  } catch (e) {
    throw networkError('POST /api/token', e, server);
  }
  return readResponse(res);
}

export async function getJson(server, pathname, init) {
  let res;
  try {
    res = await fetch(new URL(pathname, server.url), init);
  } catch (e) {
    throw networkError(`${init?.method ?? 'GET'} ${pathname}`, e, server);
  }
  return readResponse(res);
}

export function describeResponse(r) {
  return `HTTP ${r.status} ${r.headers.get('content-type') ?? ''}\n${r.text.slice(0, 1500)}`;
}

/**
 * Asserts an RFC 6749 §5.2 error answer: JSON {error, error_description?, error_uri?} with
 * exactly the `code` and HTTP `status` the server must answer.
 */
export function assertOAuthError(r, code, status = 400) {
  assert.equal(typeof code, 'string', 'assertOAuthError needs the one error code the server must answer');
  assert.equal(typeof status, 'number', 'assertOAuthError needs the one status the server must answer');
  const ctx = `\n${describeResponse(r)}`;
  assert.equal(r.status, status, `expected HTTP ${status}, got ${r.status}${ctx}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/i, `error body must be application/json${ctx}`);
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `error body must be a JSON object${ctx}`);
  assert.equal(r.json.error, code, `expected error ${code}, got ${JSON.stringify(r.json.error)}${ctx}`);
  for (const k of Object.keys(r.json)) {
    assert.ok(['error', 'error_description', 'error_uri'].includes(k), `unexpected member ${k} in error body${ctx}`);
  }
  if ('error_description' in r.json) assert.equal(typeof r.json.error_description, 'string', `error_description must be a string${ctx}`);
  // RFC 6749 §5.2: error_description characters are limited to %x20-21 / %x23-5B / %x5D-7E
  if (typeof r.json.error_description === 'string') {
    assert.match(r.json.error_description, /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/, `error_description has characters outside RFC 6749 §5.2's set${ctx}`);
  }
}

export function assertTokenOk(r, msg = 'token request') {
  assert.equal(r.status, 200, `${msg}: expected 200\n${describeResponse(r)}`);
  assert.ok(r.json && typeof r.json.access_token === 'string', `${msg}: no access_token\n${describeResponse(r)}`);
  return r.json;
}

export function decodeJwt(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a compact JWS: ${token.slice(0, 40)}…`);
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/** Verifies an EdDSA (Ed25519) JWS against a JWKS document; returns {header, payload}. */
export function verifyJwtWithJwks(token, jwks) {
  const { header, payload, signingInput, signature } = decodeJwt(token);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `no JWKS key with kid ${header.kid} (have ${jwks.keys.map((k) => k.kid).join(', ')})`);
  assert.equal(header.alg, 'EdDSA');
  assert.equal(jwk.kty, 'OKP');
  assert.equal(jwk.crv, 'Ed25519');
  const key = crypto.createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  const ok = crypto.verify(null, Buffer.from(signingInput), key, signature);
  assert.ok(ok, 'JWT signature does not verify against the JWKS key');
  return { header, payload };
}

export async function fetchJwks(server) {
  const meta = await getJson(server, '/.well-known/oauth-authorization-server');
  const r = await fetch(meta.json.jwks_uri);
  return r.json();
}

export const scopeSet = (s) => new Set((s ?? '').split(' ').filter(Boolean));

export function assertSameScopes(actual, expected, msg) {
  assert.deepEqual([...scopeSet(actual)].sort(), [...scopeSet(expected)].sort(), msg);
}

/**
 * One raw HTTP/1.1 request over a plain socket (Connection: close). Unlike fetch or
 * node:http it keeps whatever the server answered even if the server then resets the
 * connection (as happens when it refuses a request it has not fully read).
 * Resolves {status, headers (lower-case names), text} or {error} when no answer came.
 */
export function rawRequest(server, { method = 'POST', path = '/api/token', headers = {}, body }) {
  return new Promise((resolve) => {
    const u = new URL(server.url);
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${u.host}`, 'Connection: close'];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
      lines.push(`Content-Length: ${payload.length}`);
    }
    const chunks = [];
    let settled = false;
    const sock = net.connect(Number(u.port), u.hostname);
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const data = Buffer.concat(chunks);
      const end = data.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 20).toString('latin1'));
      if (!m || end < 0) {
        resolve({ error: err ?? new Error(`no HTTP response (got ${data.length} bytes)`) });
        return;
      }
      const head = data.subarray(0, end).toString('latin1').split('\r\n');
      const hdrs = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(m[1]), headers: hdrs, text: data.subarray(end + 4).toString('utf8') });
    };
    const timer = setTimeout(() => finish(new Error('timeout')), 15000);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish());
    sock.write(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]));
  });
}
