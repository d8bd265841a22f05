// issue16:revlog. An api-only node next to an accounts node on the same machine follows the
// revocations log of the accounts database (SQLite, read-only) and refuses a token within a
// few seconds of its revocation through the accounts node: "Remove access" on the account
// pages, and RFC 7009 revocation of one access token. No timing is asserted beyond "before a
// generous deadline" (the poll interval, 1 s by default, bounds the delay).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, Browser, findForm, basicAuth } from './lib/server.mjs';
import { REDIRECT, WEBAPI_ENV, api, describeCall, expectOk, userTokens, sleep } from './lib/webapi.mjs';

const REMOVE = '/account/apps/remove';
const DEADLINE_MS = 15000;

/** Calls GET /me on `node` until it answers 401 or the deadline passes; returns the last answer. */
async function untilRefused(node, token) {
  const until = Date.now() + DEADLINE_MS;
  let r;
  do {
    r = await api(node, token, 'GET', '/me');
    if (r.status === 401) return r;
    await sleep(50);
  } while (Date.now() < until);
  return r;
}

describe('revocation reaches an api-only node', () => {
  let accounts;
  let apiNode;
  let client;
  let alice;

  before(async () => {
    accounts = await startServer({ label: 'sp-push-accounts', env: WEBAPI_ENV, timeoutMs: 30000 });
    client = await accounts.createClient({ name: 'Crate Digger', redirectUris: [REDIRECT] });
    alice = { ...(await accounts.createUser({ email: 'alice@example.com', displayName: 'Alice' })), browser: new Browser(accounts) };
    apiNode = await startServer({
      label: 'sp-push-api',
      args: ['--roles', 'api', '--issuer', accounts.issuer],
      env: {
        ...WEBAPI_ENV,
        STAGEPASS_DATABASE: path.join(accounts.tmpdir, 'stagepass.db'),
        STAGEPASS_MUSIC_DATABASE: path.join(accounts.tmpdir, 'music.db'),
      },
    });
  });
  after(async () => {
    await apiNode?.stop();
    await accounts?.stop();
  });

  const connect = () => userTokens(accounts, { client, user: alice, scope: 'user-read-email', browser: alice.browser });

  it('"Remove access" on the accounts node: the api-only node refuses the token', async () => {
    const tok = await connect();
    expectOk(await api(apiNode, tok.access_token, 'GET', '/me'), 200);
    const page = await alice.browser.get('/account/apps');
    const form = findForm(page.text, page.url, REMOVE);
    assert.ok(form, 'no remove form on /account/apps');
    const confirmPage = await alice.browser.submit(page, form);
    const done = await alice.browser.submit(confirmPage, findForm(confirmPage.text, confirmPage.url, REMOVE));
    assert.equal(done.status, 303);
    const r = await untilRefused(apiNode, tok.access_token);
    assert.equal(r.status, 401, `api-only node still accepts the token: ${describeCall(r)}\n${apiNode.logs()}`);
  });

  it('RFC 7009 revocation of one access token: refused there too; another token still works', async () => {
    const tok = await connect();
    const keep = await connect();
    expectOk(await api(apiNode, tok.access_token, 'GET', '/me'), 200);
    const res = await fetch(`${accounts.url}/api/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(client.client_id, client.client_secret) },
      body: new URLSearchParams({ token: tok.access_token, token_type_hint: 'access_token' }),
    });
    assert.equal(res.status, 200);
    const r = await untilRefused(apiNode, tok.access_token);
    assert.equal(r.status, 401, `api-only node still accepts the token: ${describeCall(r)}`);
    expectOk(await api(apiNode, keep.access_token, 'GET', '/me'), 200);
  });
});
