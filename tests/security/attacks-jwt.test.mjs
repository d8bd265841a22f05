// Forged access tokens (RFC 8725 JWT BCP, RFC 7515 §4.1.11, RFC 9068 §4, RFC 9700 §4.10.2).
//
// Most forgeries are tested at an api-only node (`serve --roles api`) that trusts a stand-in
// issuer run by this file: the test holds the issuer's signing key, so each token can be
// perfectly signed and wrong in exactly one way (typ, crit, exp, aud, ...). Without the key
// such tests would only prove that a broken signature is refused. The issuer's own Web API
// (the all-in-one server) gets the forgeries that need no key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { tokenRequest, assertTokenOk } from '../e2e/lib/server.mjs';
import {
  REDIRECT, startDefaultServer, signedIn, grantTokens, apiGet, assertInvalidToken, signJwt, flipBit,
  startFakeIssuer, claims, b64u,
} from './attacks-lib.mjs';

const SEARCH = '/search?q=a&type=artist&limit=1';
const now = () => Math.floor(Date.now() / 1000);
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('attacks: forged JWTs at an api-only node (stand-in issuer, key held by the test)', () => {
  let fake;
  let node;
  before(async () => {
    fake = await startFakeIssuer();
    node = await startDefaultServer('sp-sec-jwt-api', { args: ['--roles', 'api', '--issuer', fake.issuer] });
  });
  after(async () => {
    await node?.stop();
    await fake?.close();
  });

  const header = (extra = {}) => ({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1', ...extra });
  /** Signed by the trusted issuer's key; `drop` removes claims or header members. */
  const signed = ({ hdr = {}, over = {}, drop = [], dropHeader = [] } = {}) => {
    const h = header(hdr);
    for (const k of dropHeader) delete h[k];
    const c = claims(fake.issuer, fake.audience, over);
    for (const k of drop) delete c[k];
    return signJwt(h, c, { alg: 'EdDSA', key: fake.privateKey });
  };
  const call = (token) => apiGet(node, token, SEARCH);
  async function refused(cases) {
    for (const [what, token] of cases) assertInvalidToken(await call(token), what);
    const health = await fetch(`${node.url}/healthz`);
    await health.arrayBuffer();
    assert.equal(health.status, 200, 'the node still serves');
  }

  it('control: a token signed by the issuer, with every claim right, is accepted', async () => {
    const r = await call(signed());
    assert.equal(r.status, 200, `${r.status} ${r.text.slice(0, 300)}`);
    const lower = await apiGet(node, undefined, SEARCH, { headers: { authorization: `bearer ${signed()}` } });
    assert.equal(lower.status, 200, 'the scheme is case-insensitive (RFC 9110 §11.1)');
  });

  it('alg "none" is refused, in any spelling, with or without a signature', async () => {
    const c = claims(fake.issuer, fake.audience);
    const good = signed().split('.')[2];
    const cases = [];
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      cases.push([`alg ${alg}`, `${b64u(header({ alg }))}.${b64u(c)}.`]);
      cases.push([`alg ${alg}, no kid`, `${b64u({ alg, typ: 'at+jwt' })}.${b64u(c)}.`]);
      cases.push([`alg ${alg} + a real signature`, `${b64u(header({ alg }))}.${b64u(c)}.${good}`]);
    }
    cases.push(['no alg at all', `${b64u({ typ: 'at+jwt', kid: 'k1' })}.${b64u(c)}.`]);
    await refused(cases);
  });

  it('HS256 with the issuer\'s public key as the HMAC secret is refused', async () => {
    const c = claims(fake.issuer, fake.audience);
    const jwk = fake.publicKey.export({ format: 'jwk' });
    const secrets = {
      'raw 32-byte key': Buffer.from(jwk.x, 'base64url'),
      'base64url x': jwk.x,
      'JWK JSON': JSON.stringify(fake.publicJwk),
      'SPKI PEM': fake.publicKey.export({ type: 'spki', format: 'pem' }),
      'SPKI DER': fake.publicKey.export({ type: 'spki', format: 'der' }),
      'empty key': Buffer.alloc(0),
    };
    await refused(Object.entries(secrets).map(([what, key]) => [`HS256 with ${what}`, signJwt(header({ alg: 'HS256' }), c, { alg: 'HS256', key })]));
  });

  it('RS256, ES256 and EdDSA signed by another key under the issuer\'s kid are refused', async () => {
    const c = claims(fake.issuer, fake.audience);
    await refused([
      ['RS256, attacker RSA key', signJwt(header({ alg: 'RS256' }), c, { alg: 'RS256', key: rsa.privateKey })],
      ['ES256, attacker P-256 key', signJwt(header({ alg: 'ES256' }), c, { alg: 'ES256', key: p256.privateKey })],
      ['EdDSA, attacker Ed25519 key', signJwt(header(), c, { alg: 'EdDSA', key: fake.attackerKey })],
      ['ES256 with the issuer\'s real Ed25519 signature bytes', `${b64u(header({ alg: 'ES256' }))}.${b64u(c)}.${signed().split('.')[2]}`],
    ]);
  });

  it('kid: unknown, path-like and SQL-like values select no key', async () => {
    const c = claims(fake.issuer, fake.audience);
    const kids = ['k2', '', '../../../../../../dev/null', '/dev/null', '/etc/passwd', 'file:///dev/null',
      "k1' OR '1'='1", "x' UNION SELECT 'secret' --", 'k1\u0000', 'K1', ' k1', 'k1 ', 'https://evil.example/jwks.json'];
    const cases = [];
    for (const kid of kids) {
      cases.push([`kid ${JSON.stringify(kid)}, HS256 with an empty key`, signJwt(header({ alg: 'HS256', kid }), c, { alg: 'HS256', key: Buffer.alloc(0) })]);
      cases.push([`kid ${JSON.stringify(kid)}, HS256 with "secret"`, signJwt(header({ alg: 'HS256', kid }), c, { alg: 'HS256', key: 'secret' })]);
      cases.push([`kid ${JSON.stringify(kid)}, attacker EdDSA`, signJwt(header({ kid }), c, { alg: 'EdDSA', key: fake.attackerKey })]);
    }
    for (const kid of [1, ['k1'], { kid: 'k1' }, null]) {
      cases.push([`kid ${JSON.stringify(kid)} (not a string), attacker EdDSA`, signJwt(header({ kid }), c, { alg: 'EdDSA', key: fake.attackerKey })]);
    }
    cases.push(['no kid, attacker EdDSA', signJwt({ alg: 'EdDSA', typ: 'at+jwt' }, c, { alg: 'EdDSA', key: fake.attackerKey })]);
    await refused(cases);
    assert.deepEqual(fake.hits, [], 'the verifier fetched something other than the issuer\'s JWKS');
  });

  it('jku, x5u, jwk and x5c headers are not followed or trusted', async () => {
    const c = claims(fake.issuer, fake.audience);
    const attackerRsaJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1' };
    await refused([
      ['jku → attacker JWKS', signJwt(header({ jku: `${fake.issuer}/attacker/jwks.json` }), c, { alg: 'EdDSA', key: fake.attackerKey })],
      ['jku + attacker kid', signJwt(header({ kid: 'attacker', jku: `${fake.issuer}/attacker/jwks.json` }), c, { alg: 'EdDSA', key: fake.attackerKey })],
      ['x5u → attacker certificate', signJwt(header({ x5u: `${fake.issuer}/attacker/cert.pem` }), c, { alg: 'EdDSA', key: fake.attackerKey })],
      ['embedded jwk (Ed25519)', signJwt(header({ jwk: fake.attackerJwk }), c, { alg: 'EdDSA', key: fake.attackerKey })],
      ['embedded jwk (RSA), RS256', signJwt(header({ alg: 'RS256', jwk: attackerRsaJwk }), c, { alg: 'RS256', key: rsa.privateKey })],
      ['embedded x5c', signJwt(header({ x5c: [rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')] }), c, { alg: 'EdDSA', key: fake.attackerKey })],
    ]);
    assert.deepEqual(fake.hits, [], 'the verifier fetched a URL named in the token');
  });

  it('crit naming an extension the verifier does not know is refused (RFC 7515 §4.1.11)', async () => {
    // Signed by the trusted key: the only defect is the critical extension.
    await refused([
      ['crit ["x-unknown"]', signed({ hdr: { crit: ['x-unknown'], 'x-unknown': true } })],
      ['crit ["exp"]', signed({ hdr: { crit: ['exp'], exp: now() + 600 } })],
      ['crit ["b64"], b64: false', signed({ hdr: { crit: ['b64'], b64: false } })],
      ['crit [] (must not be empty)', signed({ hdr: { crit: [] } })],
      ['crit "x-unknown" (not a list)', signed({ hdr: { crit: 'x-unknown', 'x-unknown': 1 } })],
    ]);
  });

  it('typ other than at+jwt is refused (RFC 9068 §4)', async () => {
    await refused([
      ['typ JWT', signed({ hdr: { typ: 'JWT' } })],
      ['typ jwt', signed({ hdr: { typ: 'jwt' } })],
      ['typ at+jwt with a space', signed({ hdr: { typ: 'at+jwt ' } })],
      ['typ dpop+jwt', signed({ hdr: { typ: 'dpop+jwt' } })],
      ['typ logout+jwt', signed({ hdr: { typ: 'logout+jwt' } })],
      ['no typ', signed({ dropHeader: ['typ'] })],
    ]);
  });

  it('expired, not yet valid, or missing exp is refused (beyond the clock skew)', async () => {
    await refused([
      ['exp an hour ago', signed({ over: { exp: now() - 3600, iat: now() - 7200 } })],
      ['exp 30 s ago (skew is 10 s)', signed({ over: { exp: now() - 30, iat: now() - 600 } })],
      ['no exp', signed({ drop: ['exp'] })],
      ['exp as a string', signed({ over: { exp: String(now() + 600) } })],
      ['exp 0', signed({ over: { exp: 0 } })],
      ['nbf in an hour', signed({ over: { nbf: now() + 3600 } })],
      ['iat (hence nbf) in an hour', signed({ over: { iat: now() + 3600, exp: now() + 7200 } })],
    ]);
  });

  it('a wrong or missing iss, aud, sub or jti is refused (RFC 9068 §4, RFC 9700 §4.10.2)', async () => {
    await refused([
      ['iss another issuer', signed({ over: { iss: 'https://evil.example' } })],
      ['iss with a trailing slash', signed({ over: { iss: `${fake.issuer}/` } })],
      ['no iss', signed({ drop: ['iss'] })],
      ['aud = the issuer', signed({ over: { aud: fake.issuer } })],
      ['aud another resource server', signed({ over: { aud: 'https://other.example/v1' } })],
      ['aud with a trailing slash', signed({ over: { aud: `${fake.audience}/` } })],
      ['no aud', signed({ drop: ['aud'] })],
      ['no sub', signed({ drop: ['sub'] })],
      ['no jti', signed({ drop: ['jti'] })],
    ]);
  });

  it('bit flips anywhere, truncation, extra segments and malformed parts are refused', async () => {
    const token = signed();
    const cases = [];
    for (const byte of [0, 13, 31, 32, 50, 63]) cases.push([`signature byte ${byte} flipped`, flipBit(token, 2, byte, byte % 8)]);
    for (const byte of [0, 10, 40]) cases.push([`payload byte ${byte} flipped`, flipBit(token, 1, byte, 1)]);
    for (const byte of [2, 20]) cases.push([`header byte ${byte} flipped`, flipBit(token, 0, byte, 2)]);
    const [h, p, s] = token.split('.');
    cases.push(
      ['signature truncated', `${h}.${p}.${s.slice(0, -4)}`],
      ['signature empty', `${h}.${p}.`],
      ['signature doubled', `${h}.${p}.${s}${s}`],
      ['four segments', `${h}.${p}.${s}.${s}`],
      ['JWE-shaped (five segments)', `${h}..${p}.${s}.x`],
      ['payload of another token', `${h}.${signed({ over: { sub: 'someone-else' } }).split('.')[1]}.${s}`],
      ['header not JSON', `${b64u('not json')}.${p}.${s}`],
      ['header a JSON array', `${b64u('[]')}.${p}.${s}`],
      ['deeply nested header', `${b64u(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`)}.${p}.${s}`],
      ['payload not JSON', `${h}.${b64u('{')}.${s}`],
      ['whitespace inside', `${h}. ${p}.${s}`],
    );
    await refused(cases);
  });
});

describe('attacks: forged JWTs at the issuer\'s own Web API (no key needed)', () => {
  let server;
  let client;
  let user;
  let cc; // a real client-credentials token
  let ut; // a real user token
  let jwks;
  before(async () => {
    server = await startDefaultServer('sp-sec-jwt');
    client = await server.createClient({ name: 'JWT Target', redirectUris: [REDIRECT] });
    user = await server.createUser({ email: 'jwt@example.com', displayName: 'Jay', password: 'jwt-suite-password-1' });
    cc = assertTokenOk(await tokenRequest(server, { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] })).access_token;
    const b = await signedIn(server, user);
    ut = (await grantTokens(server, { browser: b, user, client })).access_token;
    jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
  });
  after(async () => { await server?.stop(); });

  it('control: the real tokens are accepted', async () => {
    assert.equal((await apiGet(server, cc, SEARCH)).status, 200);
    assert.equal((await apiGet(server, ut, '/me')).status, 200);
  });

  it('re-signing a real token\'s claims with none, HS256(public key), RS256, ES256 or another EdDSA key is refused', async () => {
    const [h, p] = ut.split('.');
    const hdr = JSON.parse(Buffer.from(h, 'base64url'));
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    const jwk = jwks.keys.find((k) => k.kid === hdr.kid);
    assert.ok(jwk, 'the token\'s kid is in the JWKS');
    const other = crypto.generateKeyPairSync('ed25519');
    const cases = [
      ['alg none', `${b64u({ ...hdr, alg: 'none' })}.${p}.`],
      ['HS256, raw public key', signJwt({ ...hdr, alg: 'HS256' }, payload, { alg: 'HS256', key: Buffer.from(jwk.x, 'base64url') })],
      ['HS256, JWK JSON', signJwt({ ...hdr, alg: 'HS256' }, payload, { alg: 'HS256', key: JSON.stringify(jwk) })],
      ['HS256, base64url x', signJwt({ ...hdr, alg: 'HS256' }, payload, { alg: 'HS256', key: jwk.x })],
      ['RS256, attacker key', signJwt({ ...hdr, alg: 'RS256' }, payload, { alg: 'RS256', key: rsa.privateKey })],
      ['ES256, attacker key', signJwt({ ...hdr, alg: 'ES256' }, payload, { alg: 'ES256', key: p256.privateKey })],
      ['EdDSA, attacker key', signJwt(hdr, payload, { alg: 'EdDSA', key: other.privateKey })],
      ['EdDSA, attacker key, jwk header', signJwt({ ...hdr, jwk: other.publicKey.export({ format: 'jwk' }) }, payload, { alg: 'EdDSA', key: other.privateKey })],
    ];
    for (const [what, token] of cases) assertInvalidToken(await apiGet(server, token, '/me'), what);
  });

  it('tampered claims (another user, more scope, later exp, the client token promoted to a user) are refused', async () => {
    const tamper = (token, change) => {
      const [h, p, s] = token.split('.');
      const payload = { ...JSON.parse(Buffer.from(p, 'base64url')), ...change };
      return `${h}.${b64u(payload)}.${s}`;
    };
    const cases = [
      ['sub of someone else', tamper(ut, { sub: 'zzzzzzzzzzzzzzzzzzzzzz' })],
      ['wider scope', tamper(ut, { scope: 'user-read-private user-read-email user-library-modify' })],
      ['exp a year later', tamper(ut, { exp: now() + 365 * 86400 })],
      ['client-credentials token given a gid', tamper(cc, { gid: 'zzzzzzzzzzzzzzzzzzzzzz' })],
      ['signature bit flipped', flipBit(ut, 2, 7, 3)],
    ];
    for (const [what, token] of cases) assertInvalidToken(await apiGet(server, token, '/me'), what);
  });

  it('a token of another issuer is refused even when well signed', async () => {
    const fake = await startFakeIssuer();
    try {
      const foreign = signJwt({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' }, claims(fake.issuer, `${server.issuer}/v1`), { alg: 'EdDSA', key: fake.privateKey });
      assertInvalidToken(await apiGet(server, foreign, SEARCH), 'foreign issuer');
      const claimsOurs = signJwt({ alg: 'EdDSA', typ: 'at+jwt', kid: jwks.keys[0].kid }, claims(server.issuer, `${server.issuer}/v1`), { alg: 'EdDSA', key: fake.privateKey });
      assertInvalidToken(await apiGet(server, claimsOurs, SEARCH), 'our iss and kid, another key');
    } finally {
      await fake.close();
    }
  });
});
