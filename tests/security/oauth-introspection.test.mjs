// Token introspection (RFC 7662 §2.1, §4): a client learns only about the tokens issued to
// itself unless the operator marked it a resource server (`admin client create
// --introspect-any`), and `username` (the person's email) appears only when the grant lets
// the app read the email.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, basicAuth } from '../e2e/lib/server.mjs';
import { userTokens } from '../e2e/lib/webapi.mjs';

const REDIRECT = 'https://app.example/callback';

describe('introspection is scoped to the asking client', () => {
  let server;
  let app;
  let nosy;
  let resourceServer;
  let user;

  before(async () => {
    server = await startServer({ label: 'sp-sec-introspect' });
    app = await server.createClient({ name: 'Token Owner', redirectUris: [REDIRECT] });
    nosy = await server.createClient({ name: 'Nosy App', redirectUris: [REDIRECT] });
    resourceServer = await server.adminJson(['client', 'create', '--name', 'Music RS', '--redirect-uri', REDIRECT, '--introspect-any']);
    user = await server.createUser({ email: 'intro@example.com', password: 'intro-password-1' });
  });
  after(async () => { await server?.stop(); });

  const introspect = async (c, token) => {
    const res = await fetch(`${server.url}/api/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(c.client_id, c.client_secret) },
      body: new URLSearchParams({ token }),
    });
    assert.equal(res.status, 200);
    return res.json();
  };

  it('another client gets {"active":false} for both token kinds', async () => {
    const t = await userTokens(server, { client: app, user, scope: 'user-read-email user-read-private' });
    assert.deepEqual(await introspect(nosy, t.access_token), { active: false });
    assert.deepEqual(await introspect(nosy, t.refresh_token), { active: false });
    assert.equal((await introspect(app, t.access_token)).active, true, 'the owner still sees its token');
    assert.equal((await introspect(app, t.refresh_token)).active, true);
  });

  it('a resource server created with --introspect-any sees every app\'s tokens', async () => {
    assert.equal(resourceServer.introspect_any, true);
    const t = await userTokens(server, { client: app, user, scope: 'user-read-email' });
    const a = await introspect(resourceServer, t.access_token);
    assert.equal(a.active, true);
    assert.equal(a.client_id, app.client_id);
  });

  it('a public client cannot be made a resource server', async () => {
    const r = await server.run(['admin', 'client', 'create', '--name', 'X', '--redirect-uri', REDIRECT, '--public', '--introspect-any', '--json']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /introspect-any/);
  });

  it('username only when the grant holds user-read-email', async () => {
    const other = await server.createUser({ email: 'private@example.com', password: 'private-password-1' });
    const t = await userTokens(server, { client: app, user: other, scope: 'user-read-private' });
    for (const token of [t.access_token, t.refresh_token]) {
      const r = await introspect(app, token);
      assert.equal(r.active, true);
      assert.equal(r.sub, other.id);
      assert.equal(r.username, undefined, `no email without user-read-email: ${JSON.stringify(r)}`);
    }
    const withEmail = await userTokens(server, { client: app, user, scope: 'user-read-email' });
    assert.equal((await introspect(app, withEmail.access_token)).username, 'intro@example.com');
  });
});
