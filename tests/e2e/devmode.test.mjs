// Development mode and the allowlist (issue 15), through the real server over HTTP, its admin
// CLI and a real api-only node (`--roles api`, no accounts database): a person not on a
// development-mode app's allowlist signs in and consents, but the Web API refuses their token
// with 403 and the reason USER_NOT_ALLOWLISTED; added, the app's next refresh gives a token
// that works; removed, their access ends; extended apps and client-credentials tokens are not
// affected.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, tokenRequest, assertOAuthError, assertTokenOk, decodeJwt } from './lib/server.mjs';
import { api, expectOk, assertApiError, assertInvalidToken, clientToken, userTokens, describeCall, sleep, REDIRECT } from './lib/webapi.mjs';
import { Browser } from './lib/browser.mjs';

const SCOPE = 'user-read-email user-read-private';
const LIMIT = 2; // STAGEPASS_DEV_ALLOWLIST_LIMIT for this server

/** 403 {"error":{"status":403,"message":...,"reason":"USER_NOT_ALLOWLISTED"}}. */
function assertNotAllowlisted(r, what) {
  const error = assertApiError(r, 403);
  assert.equal(error.reason, 'USER_NOT_ALLOWLISTED', `${what}: ${describeCall(r)}`);
  assert.deepEqual(Object.keys(error).sort(), ['message', 'reason', 'status'], `${what}: ${describeCall(r)}`);
}

const refresh = (server, app, rt) =>
  tokenRequest(server, { grant_type: 'refresh_token', refresh_token: rt }, { basic: [app.client_id, app.client_secret] });

describe('development mode and the allowlist', () => {
  let server; // accounts + Web API
  let apiNode; // --roles api: validates tokens from the JWKS alone
  let dev; // an app in development mode
  let extended; // an app in extended mode (the CLI's default)
  let person;
  let browser;

  before(async () => {
    server = await startServer({ label: 'sp-devmode', env: { STAGEPASS_DEV_ALLOWLIST_LIMIT: LIMIT } });
    apiNode = await startServer({
      label: 'sp-devmode-api',
      args: ['--roles', 'api', '--issuer', server.issuer],
      env: { STAGEPASS_MUSIC_DATABASE: path.join(server.tmpdir, 'music.db') },
    });
    dev = await server.adminJson(['client', 'create', '--name', 'Dev App', '--redirect-uri', REDIRECT, '--mode', 'development']);
    extended = await server.createClient({ name: 'Public App', redirectUris: [REDIRECT] });
    person = await server.createUser({ email: 'dana@example.com', displayName: 'Dana', password: 'dana-password-123' });
    browser = new Browser(server);
  });
  after(async () => {
    await apiNode?.stop();
    await server?.stop();
  });

  const allowlist = (verb, app, email) => {
    const args = ['client', 'allowlist', verb, '--client-id', app.client_id];
    if (email) args.push('--email', email);
    return server.adminJson(args);
  };
  // Every /v1 route refuses the person, user route or catalog route, on both nodes.
  async function assertRefusedEverywhere(token, what) {
    for (const node of [server, apiNode]) {
      assertNotAllowlisted(await api(node, token, 'GET', '/me'), `${what} on ${node === apiNode ? 'the api-only node' : 'the server'}`);
      assertNotAllowlisted(await api(node, token, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), `${what} (search)`);
    }
  }
  async function assertServedEverywhere(token, what) {
    for (const node of [server, apiNode]) {
      const me = expectOk(await api(node, token, 'GET', '/me'), 200);
      assert.equal(me.id, person.id, `${what}: /v1/me on ${node === apiNode ? 'the api-only node' : 'the server'}`);
    }
  }

  it('admin client create keeps extended mode unless --mode development is given', async () => {
    assert.equal(dev.mode, 'development');
    assert.equal(extended.mode, 'extended');
    const shown = await server.adminJson(['client', 'show', dev.client_id]);
    assert.equal(shown.mode, 'development');
    const listed = await allowlist('list', dev);
    assert.deepEqual(listed, { client_id: dev.client_id, mode: 'development', limit: LIMIT, people: [] });
  });

  it('an unlisted person signs in and consents, but their token gets 403 USER_NOT_ALLOWLISTED; added, the refreshed token works; removed, access ends', async () => {
    // Sign-in, consent and the code exchange (PKCE) work: only the Web API refuses.
    const first = await userTokens(server, { client: dev, user: person, scope: SCOPE, browser });
    assert.equal(decodeJwt(first.access_token).payload.al, false, 'the token carries the decision ("al")');
    await assertRefusedEverywhere(first.access_token, 'unlisted');
    // A refresh while still unlisted asks again and still says no.
    const stillOut = assertTokenOk(await refresh(server, dev, first.refresh_token), 'refresh while unlisted');
    await assertRefusedEverywhere(stillOut.access_token, 'unlisted after a refresh');

    const added = await allowlist('add', dev, 'DANA@example.com');
    assert.deepEqual(added, { client_id: dev.client_id, user_id: person.id, email: person.email, added: true });
    assert.equal((await allowlist('add', dev, person.email)).added, false, 'adding again changes nothing');
    // The app's next token works: the refresh reads the list again.
    const inside = assertTokenOk(await refresh(server, dev, stillOut.refresh_token), 'refresh once listed');
    assert.equal(decodeJwt(inside.access_token).payload.al, true);
    await assertServedEverywhere(inside.access_token, 'listed, refreshed');
    // A token minted before the addition keeps its answer (documented: the next token works).
    assertNotAllowlisted(await api(server, stillOut.access_token, 'GET', '/me'), 'a token minted before the addition');

    const removed = await allowlist('remove', dev, person.email);
    assert.deepEqual(removed, { client_id: dev.client_id, user_id: person.id, email: person.email, removed: true, grant_revoked: true });
    // The grant is revoked in the removal's write: the refresh token is dead at once.
    assertOAuthError(await refresh(server, dev, inside.refresh_token), 'invalid_grant');
    // The running server learns of the CLI's revocation from its revocation feed (another
    // process: one poll, about a second), so a short, bounded wait; the dashboard's removal
    // happens inside the server and is announced before it answers.
    const t0 = Date.now();
    let r;
    do {
      r = await api(server, inside.access_token, 'GET', '/me');
      if (r.status === 401) break;
      await sleep(100);
    } while (Date.now() - t0 < 5000);
    assertInvalidToken(r, `the access token after removal (waited ${Date.now() - t0} ms)`);
    // Signing in again is possible; the new token is refused again.
    const again = await userTokens(server, { client: dev, user: person, scope: SCOPE, browser });
    await assertRefusedEverywhere(again.access_token, 'removed, signed in again');
  });

  it('an app in extended mode serves the same person, and client-credentials tokens are never affected', async () => {
    const tokens = await userTokens(server, { client: extended, user: person, scope: SCOPE, browser });
    assert.equal('al' in decodeJwt(tokens.access_token).payload, false, 'no "al" claim in extended mode');
    await assertServedEverywhere(tokens.access_token, 'extended app');
    const cc = await clientToken(server, dev);
    assert.equal('al' in decodeJwt(cc).payload, false);
    for (const node of [server, apiNode]) {
      expectOk(await api(node, cc, 'GET', '/search', { query: { q: 'a', type: 'artist', limit: 1 } }), 200);
    }
  });

  it('set-mode extended serves everyone from the app\'s next token; set-mode development stops serving them again', async () => {
    const app = await server.adminJson(['client', 'create', '--name', 'Switching App', '--redirect-uri', REDIRECT, '--mode', 'development']);
    const first = await userTokens(server, { client: app, user: person, scope: SCOPE, browser });
    await assertRefusedEverywhere(first.access_token, 'development mode');
    const opened = await server.adminJson(['client', 'set-mode', '--client-id', app.client_id, '--mode', 'extended']);
    assert.deepEqual(opened, { client_id: app.client_id, mode: 'extended' });
    const next = assertTokenOk(await refresh(server, app, first.refresh_token), 'refresh in extended mode');
    await assertServedEverywhere(next.access_token, 'extended after set-mode');
    await server.adminJson(['client', 'set-mode', '--client-id', app.client_id, '--mode', 'development']);
    const closed = assertTokenOk(await refresh(server, app, next.refresh_token), 'refresh in development mode');
    await assertRefusedEverywhere(closed.access_token, 'development again');
  });

  it(`the allowlist holds at most STAGEPASS_DEV_ALLOWLIST_LIMIT (${LIMIT}) people: one more fails with a clear line and a non-zero exit`, async () => {
    const app = await server.adminJson(['client', 'create', '--name', 'Small App', '--redirect-uri', REDIRECT, '--mode', 'development']);
    const people = [];
    for (const name of ['ann', 'ben', 'cal']) {
      people.push(await server.createUser({ email: `${name}@example.com`, displayName: name }));
    }
    for (const p of people.slice(0, LIMIT)) assert.equal((await allowlist('add', app, p.email)).added, true);
    const over = await server.run(['admin', 'client', 'allowlist', 'add', '--client-id', app.client_id, '--email', people[LIMIT].email, '--json']);
    assert.notEqual(over.code, 0, 'over the limit must exit non-zero');
    assert.equal(over.stdout, '');
    assert.equal(over.stderr, `stagepass: the allowlist is full: an app in development mode serves at most ${LIMIT} people\n`);
    // issue15-fix:allowlist-oracle. A full list is full for every email, with or without an
    // account (the dashboard must not tell which emails exist); with room, the operator's CLI
    // says when nobody has the email.
    const unknownFull = await server.run(['admin', 'client', 'allowlist', 'add', '--client-id', app.client_id, '--email', 'nobody@example.com']);
    assert.notEqual(unknownFull.code, 0);
    assert.equal(unknownFull.stderr, over.stderr);
    const roomy = await server.adminJson(['client', 'create', '--name', 'Roomy App', '--redirect-uri', REDIRECT, '--mode', 'development']);
    const unknown = await server.run(['admin', 'client', 'allowlist', 'add', '--client-id', roomy.client_id, '--email', 'nobody@example.com']);
    assert.notEqual(unknown.code, 0);
    assert.equal(unknown.stderr, 'stagepass: nobody has an account with this email\n');
    const listed = await allowlist('list', app);
    assert.deepEqual(listed.people.map((p) => p.email), people.slice(0, LIMIT).map((p) => p.email));
    const badMode = await server.run(['admin', 'client', 'set-mode', '--client-id', app.client_id, '--mode', 'sandbox']);
    assert.notEqual(badMode.code, 0);
  });
});
