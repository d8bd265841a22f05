// Interop with npm oauth4webapi v3 (panva), the strict low-level client, including its RFC 9068
// resource-server helper validateJwtAccessToken (audience = issuer + "/v1").
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startServer, Browser, authorizeInBrowser, assertSameScopes } from './lib/server.mjs';

const REDIRECT = 'https://app.example/callback';
const ALICE = { email: 'alice@example.com', displayName: 'Alice Example', password: 'alice-correct-horse-1' };
const insecure = { [oauth.allowInsecureRequests]: true };

describe('oauth4webapi v3 interop', () => {
  let server;
  let alice;
  let conf;
  let pub;
  let as;
  let browser;

  before(async () => {
    server = await startServer({ label: 'sp-oauth4webapi' });
    alice = await server.createUser(ALICE);
    conf = await server.createClient({ name: 'oauth4webapi app', redirectUris: [REDIRECT] });
    pub = await server.createClient({ name: 'oauth4webapi native', redirectUris: [REDIRECT], isPublic: true });
    browser = new Browser(server);
  });
  after(async () => { await server?.stop(); });

  /** RFC 9068 validation as a resource server would do it, for the Web API audience. */
  function validateAccessToken(accessToken) {
    const request = new Request(`${server.issuer}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    return oauth.validateJwtAccessToken(as, request, `${server.issuer}/v1`, insecure);
  }

  async function authorize(clientId, scope, decision = 'allow') {
    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', REDIRECT);
    url.searchParams.set('scope', scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    const r = await authorizeInBrowser({ server, browser, url, email: alice.email, password: alice.password, decision });
    assert.equal(r.stoppedAt, 'redirect', `browser step did not reach the redirect URI:\n${browser.traceText()}`);
    return { verifier, state, callback: new URL(r.location) };
  }

  it('discovers the server with RFC 8414 metadata', async () => {
    const issuer = new URL(server.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    assert.equal(as.issuer, server.issuer);
    assert.equal(as.authorization_response_iss_parameter_supported, true);
    const oidc = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
    assert.equal(oidc.issuer, server.issuer);
  });

  it('gets a client_credentials token with client_secret_basic and validates it as RFC 9068', async () => {
    assert.ok(as, 'discovery test must run first');
    const c = { client_id: conf.client_id };
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(conf.client_secret), new URLSearchParams(), insecure);
    const tokens = await oauth.processClientCredentialsResponse(as, c, res);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.refresh_token, undefined);
    const claims = await validateAccessToken(tokens.access_token);
    assert.equal(claims.sub, conf.client_id);
    assert.equal(claims.client_id, conf.client_id);
  });

  it('runs authorization code + PKCE (client_secret_post), validates the JWT and refreshes (client_secret_basic)', async () => {
    assert.ok(as, 'discovery test must run first');
    const c = { client_id: conf.client_id };
    const scope = 'user-read-private user-read-playback-state';
    const { verifier, state, callback } = await authorize(conf.client_id, scope);
    const params = oauth.validateAuthResponse(as, c, callback, state);
    const res = await oauth.authorizationCodeGrantRequest(as, c, oauth.ClientSecretPost(conf.client_secret), params, REDIRECT, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, c, res);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.expires_in, 3600);
    assertSameScopes(tokens.scope, scope);
    assert.ok(tokens.refresh_token);

    const claims = await validateAccessToken(tokens.access_token);
    assert.equal(claims.sub, String(alice.id));
    assert.equal(claims.client_id, conf.client_id);
    assertSameScopes(claims.scope, scope);
    assert.equal(typeof claims.gid, 'string');

    const rres = await oauth.refreshTokenGrantRequest(as, c, oauth.ClientSecretBasic(conf.client_secret), tokens.refresh_token, insecure);
    const refreshed = await oauth.processRefreshTokenResponse(as, c, rres);
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    const claims2 = await validateAccessToken(refreshed.access_token);
    assert.equal(claims2.gid, claims.gid);

    // Once the successor was used, the old token is reuse (inside the grace window it would
    // still be answered, as a retry after a lost response).
    const next = await oauth.refreshTokenGrantRequest(as, c, oauth.ClientSecretBasic(conf.client_secret), refreshed.refresh_token, insecure);
    assert.ok((await oauth.processRefreshTokenResponse(as, c, next)).refresh_token);
    const stale = await oauth.refreshTokenGrantRequest(as, c, oauth.ClientSecretBasic(conf.client_secret), tokens.refresh_token, insecure);
    await assert.rejects(oauth.processRefreshTokenResponse(as, c, stale), (err) => {
      assert.ok(err instanceof oauth.ResponseBodyError, `got ${err.name}: ${err.message}`);
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
  });

  it('runs authorization code + PKCE for a public client (auth none)', async () => {
    assert.ok(as, 'discovery test must run first');
    const c = { client_id: pub.client_id };
    const { verifier, state, callback } = await authorize(pub.client_id, 'user-follow-read');
    const params = oauth.validateAuthResponse(as, c, callback, state);
    const res = await oauth.authorizationCodeGrantRequest(as, c, oauth.None(), params, REDIRECT, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, c, res);
    assertSameScopes(tokens.scope, 'user-follow-read');
    const claims = await validateAccessToken(tokens.access_token);
    assert.equal(claims.client_id, pub.client_id);
    const rres = await oauth.refreshTokenGrantRequest(as, c, oauth.None(), tokens.refresh_token, insecure);
    const refreshed = await oauth.processRefreshTokenResponse(as, c, rres);
    await validateAccessToken(refreshed.access_token);
  });

  it('reports a denied consent through validateAuthResponse', async () => {
    assert.ok(as, 'discovery test must run first');
    const c = { client_id: conf.client_id };
    const { state, callback } = await authorize(conf.client_id, 'user-top-read', 'deny');
    assert.throws(() => oauth.validateAuthResponse(as, c, callback, state), (err) => {
      assert.ok(err instanceof oauth.AuthorizationResponseError, `got ${err.name}: ${err.message}`);
      assert.equal(err.error, 'access_denied');
      return true;
    });
  });

  it('rejects a tampered access token in validateJwtAccessToken', async () => {
    assert.ok(as, 'discovery test must run first');
    const c = { client_id: conf.client_id };
    const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic(conf.client_secret), new URLSearchParams(), insecure);
    const { access_token } = await oauth.processClientCredentialsResponse(as, c, res);
    const [h, p, s] = access_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.sub = 'someone-else';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    // Refused for its signature, not for anything else (the JWKS fetch, the claims).
    await assert.rejects(validateAccessToken(forged), (err) => {
      assert.ok(err instanceof oauth.OperationProcessingError, `got ${err.name}: ${err.message}`);
      assert.equal(err.message, 'JWT signature verification failed');
      return true;
    });
    await validateAccessToken(access_token); // control: the token as issued passes
  });
});
