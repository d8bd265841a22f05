// Interop with npm openid-client v6 (panva), used exactly as an app would use it. Only
// allowInsecureRequests is enabled (plain http on loopback); every other check stays on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import {
  startServer, Browser, authorizeInBrowser, getJson, verifyJwtWithJwks, assertSameScopes,
} from './lib/server.mjs';

const REDIRECT = 'https://app.example/callback';
const ALICE = { email: 'alice@example.com', displayName: 'Alice Example', password: 'alice-correct-horse-1' };
const insecure = { execute: [client.allowInsecureRequests] };

describe('openid-client v6 interop', () => {
  let server;
  let alice;
  let conf;
  let pub;
  let jwks;
  let browser;

  before(async () => {
    server = await startServer({ label: 'sp-openid-client' });
    alice = await server.createUser(ALICE);
    conf = await server.createClient({ name: 'openid-client app', redirectUris: [REDIRECT] });
    pub = await server.createClient({ name: 'openid-client native', redirectUris: [REDIRECT], isPublic: true });
    jwks = (await getJson(server, '/.well-known/jwks.json')).json;
    browser = new Browser(server);
  });
  after(async () => { await server?.stop(); });

  const issuerUrl = () => new URL(server.issuer);

  async function codeFlow(config, scope) {
    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope, code_challenge: challenge, code_challenge_method: 'S256', state,
    });
    assert.equal(`${url.origin}${url.pathname}`, `${server.issuer}/authorize`);
    const r = await authorizeInBrowser({ server, browser, url, email: alice.email, password: alice.password });
    assert.equal(r.stoppedAt, 'redirect', `browser step did not reach the redirect URI:\n${browser.traceText()}`);
    return client.authorizationCodeGrant(config, new URL(r.location), { pkceCodeVerifier: verifier, expectedState: state });
  }

  it('discovers the server (openid-configuration and oauth-authorization-server)', async () => {
    const oidc = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, undefined, insecure);
    const md = oidc.serverMetadata();
    assert.equal(md.issuer, server.issuer);
    assert.equal(md.token_endpoint, `${server.issuer}/api/token`);
    assert.equal(md.authorization_endpoint, `${server.issuer}/authorize`);
    assert.ok(md.supportsPKCE('S256'));
    const oauth2 = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, undefined, { ...insecure, algorithm: 'oauth2' });
    assert.equal(oauth2.serverMetadata().issuer, server.issuer);
  });

  it('gets client_credentials tokens (client_secret_post and client_secret_basic)', async () => {
    for (const auth of [undefined /* library default: client_secret_post */, client.ClientSecretBasic(conf.client_secret)]) {
      const config = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, auth, insecure);
      const tokens = await client.clientCredentialsGrant(config);
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(tokens.refresh_token, undefined);
      assert.ok(tokens.expiresIn() > 3500 && tokens.expiresIn() <= 3600);
      const { payload } = verifyJwtWithJwks(tokens.access_token, jwks);
      assert.equal(payload.sub, conf.client_id);
    }
  });

  it('runs authorization code + PKCE and refreshes (confidential client)', async () => {
    const config = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, undefined, insecure);
    const scope = 'user-read-private user-library-read';
    const tokens = await codeFlow(config, scope);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assertSameScopes(tokens.scope, scope);
    assert.ok(tokens.refresh_token);
    const { payload } = verifyJwtWithJwks(tokens.access_token, jwks);
    assert.equal(payload.sub, String(alice.id));
    assert.equal(payload.client_id, conf.client_id);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assertSameScopes(refreshed.scope, scope);

    const narrowed = await client.refreshTokenGrant(config, refreshed.refresh_token, { scope: 'user-read-private' });
    assertSameScopes(narrowed.scope, 'user-read-private');

    // The rotated-out token is refused with a standard error the library understands.
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (err) => {
      assert.equal(err.error, 'invalid_grant', `got ${err.name}: ${err.message}`);
      return true;
    });
  });

  it('runs authorization code + PKCE and refreshes (public client, auth none)', async () => {
    const config = await client.discovery(issuerUrl(), pub.client_id, undefined, client.None(), insecure);
    const tokens = await codeFlow(config, 'user-read-email');
    assertSameScopes(tokens.scope, 'user-read-email');
    assert.ok(tokens.refresh_token);
    const { payload } = verifyJwtWithJwks(tokens.access_token, jwks);
    assert.equal(payload.client_id, pub.client_id);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  });

  it('surfaces a denied consent as an authorization response error', async () => {
    const config = await client.discovery(issuerUrl(), conf.client_id, conf.client_secret, undefined, insecure);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'playlist-modify-private', state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const r = await authorizeInBrowser({ server, browser, url, email: alice.email, password: alice.password, decision: 'deny' });
    assert.equal(r.stoppedAt, 'redirect', browser.traceText());
    await assert.rejects(
      client.authorizationCodeGrant(config, new URL(r.location), { pkceCodeVerifier: verifier, expectedState: state }),
      (err) => { assert.equal(err.error, 'access_denied', `got ${err.name}: ${err.message}`); return true; },
    );
  });
});
