// Remembered consent and public clients (RFC 8252 §8.6, RFC 6749 §10.2): a public client's id
// is no secret, so anyone can start its flow in the person's browser. A code is issued
// without the consent page only to an https redirect URI that only the app can receive at;
// loopback and private-use-scheme redirects show the page (one click) every time.
// Also: error_description never carries attacker text outside RFC 6749 §5.2's characters.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, tokenRequest, assertOAuthError, authorizeInBrowser, pkcePair, randomState, Browser,
} from '../e2e/lib/server.mjs';

const HTTPS = 'https://player.example/callback';
const LOOPBACK = 'http://127.0.0.1/callback';
const CUSTOM = 'com.example.player:/callback';
const SAFE = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/; // RFC 6749 §5.2 error_description

describe('remembered consent', () => {
  let server;
  let pub;
  let conf;
  let user;
  let browser;

  before(async () => {
    server = await startServer({ label: 'sp-sec-authorize' });
    pub = await server.createClient({ name: 'Public Player', redirectUris: [HTTPS, LOOPBACK, CUSTOM], isPublic: true });
    conf = await server.createClient({ name: 'Backend Player', redirectUris: [HTTPS] });
    user = await server.createUser({ email: 'consent@example.com', password: 'consent-password-1' });
    browser = new Browser(server);
  });
  after(async () => { await server?.stop(); });

  const walk = (client, redirectUri, decision = null) => authorizeInBrowser({
    server, browser, clientId: client.client_id, redirectUri, scope: 'user-read-private',
    state: randomState(), codeChallenge: pkcePair().challenge, email: user.email, password: user.password, decision,
  });

  it('a public client with a loopback redirect shows the consent page every time', async () => {
    const first = await walk(pub, LOOPBACK, 'allow');
    assert.ok(first.code, first.browser.traceText());
    const again = await walk(pub, LOOPBACK, null);
    assert.equal(again.stoppedAt, 'consent', `a code was issued without asking:\n${browser.traceText()}`);
    assert.equal(again.code, undefined);
  });

  it('a public client with a private-use scheme redirect shows it too', async () => {
    assert.ok((await walk(pub, CUSTOM, 'allow')).code, browser.traceText());
    const again = await walk(pub, CUSTOM, null);
    assert.equal(again.stoppedAt, 'consent');
  });

  it('a public client with a registered https redirect and a live grant is answered at once', async () => {
    assert.ok((await walk(pub, HTTPS, 'allow')).code, browser.traceText());
    const again = await walk(pub, HTTPS, null);
    assert.equal(again.stoppedAt, 'redirect', browser.traceText());
    assert.ok(again.code);
  });

  it('once the app\'s grant is revoked, even the https redirect asks again', async () => {
    const pk = pkcePair();
    const auth = await authorizeInBrowser({
      server, browser, clientId: pub.client_id, redirectUri: HTTPS, scope: 'user-read-private',
      state: randomState(), codeChallenge: pk.challenge, email: user.email, password: user.password, decision: 'allow',
    });
    const t = await tokenRequest(server, {
      grant_type: 'authorization_code', code: auth.code, redirect_uri: HTTPS, code_verifier: pk.verifier, client_id: pub.client_id,
    });
    assert.equal(t.status, 200, JSON.stringify(t.json));
    const revoked = await fetch(`${server.url}/api/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t.json.refresh_token, client_id: pub.client_id }),
    });
    assert.equal(revoked.status, 200);
    const again = await walk(pub, HTTPS, null);
    assert.equal(again.stoppedAt, 'consent', browser.traceText());
  });

  it('a confidential client keeps remembered consent', async () => {
    assert.ok((await walk(conf, HTTPS, 'allow')).code, browser.traceText());
    const again = await walk(conf, HTTPS, null);
    assert.equal(again.stoppedAt, 'redirect');
    assert.ok(again.code);
  });
});

describe('error_description carries no attacker text', () => {
  let server;
  let conf;

  before(async () => {
    server = await startServer({ label: 'sp-sec-errors' });
    conf = await server.createClient({ name: 'Errors App', redirectUris: [HTTPS], scopes: 'user-read-private' });
  });
  after(async () => { await server?.stop(); });

  it('a repeated parameter with quotes, backslashes, controls and non-ASCII in its name', async () => {
    const evil = 'a"\\\r\n\u00e9\u202e<script>';
    const body = `grant_type=client_credentials&${encodeURIComponent(evil)}=1&${encodeURIComponent(evil)}=2`;
    const r = await tokenRequest(server, {}, { basic: [conf.client_id, conf.client_secret], body });
    assertOAuthError(r, 'invalid_request');
    // Each byte outside [A-Za-z0-9._:/-] becomes '?': ", \, CR, LF, é (2 bytes), U+202E (3), <.
    assert.equal(r.json.error_description, "parameter repeated: 'a??????????script?'");
  });

  it('an unknown scope at the token endpoint', async () => {
    const r = await tokenRequest(server, { grant_type: 'client_credentials', scope: `x"\\\u00e9${'y'.repeat(500)}` },
      { basic: [conf.client_id, conf.client_secret] });
    assertOAuthError(r, 'invalid_scope');
    assert.match(r.json.error_description, SAFE);
    assert.ok(r.json.error_description.length < 100, `bounded: ${r.json.error_description.length}`);
  });

  it('an unknown scope at /authorize comes back in a safe error_description', async () => {
    const u = new URL('/authorize', server.url);
    u.search = new URLSearchParams({
      client_id: conf.client_id, response_type: 'code', redirect_uri: HTTPS, state: 's',
      scope: `evil"\\\u00e9\u0001${'z'.repeat(300)}`, code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
    }).toString();
    // The person signs in first: an error redirect comes only after sign-in (RFC 9700 §4.11.2).
    const user = await server.createUser({ email: 'err@example.com', password: 'err-password-12' });
    const auth = await authorizeInBrowser({ server, url: u.href, email: user.email, password: user.password, decision: null });
    assert.equal(auth.stoppedAt, 'redirect', auth.browser.traceText());
    assert.equal(auth.error, 'invalid_scope');
    assert.match(auth.error_description, SAFE, JSON.stringify(auth.error_description));
    assert.ok(auth.error_description.length < 100);
  });
});
