// issue16:revlog. An api-only node next to an accounts node on the same machine follows the
// revocations log of the accounts database (SQLite, read-only) and refuses a token within a
// few seconds of its revocation through the accounts node: "Remove access" on the account
// pages, and RFC 7009 revocation of one access token. No timing is asserted beyond "before a
// generous deadline" (the poll interval, 1 s by default, bounds the delay).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, freePort, Browser, findForm, basicAuth } from './lib/server.mjs';
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

// issue16 review. An api-only node that cannot read the revocations log at start (database
// unreachable, wrong URL) would accept tokens revoked elsewhere: it is not ready until its
// first read, says why in its log (at most once per 10 s, never the URL's password) and in
// stagepass_revocation_feed_age_seconds; pointed at a reachable database it becomes ready.
describe('an api-only node that cannot read the revocations log', () => {
  let accounts;
  let apiNode;
  const PASSWORD = 'pw-never-logged-7f3a';

  before(async () => {
    accounts = await startServer({ label: 'sp-push-ready-accounts', env: WEBAPI_ENV, timeoutMs: 30000 });
    const closed = await freePort(); // nothing listens there
    apiNode = await startServer({
      label: 'sp-push-ready-api',
      args: ['--roles', 'api', '--issuer', accounts.issuer],
      env: {
        ...WEBAPI_ENV,
        STAGEPASS_DATABASE: `postgresql://stagepass:${PASSWORD}@127.0.0.1:${closed}/stagepass`,
        STAGEPASS_MUSIC_DATABASE: path.join(accounts.tmpdir, 'music.db'),
      },
    });
  });
  after(async () => {
    await apiNode?.stop();
    await accounts?.stop();
  });

  it('answers /readyz 503 and logs why, without the password', async () => {
    let logged = '';
    const until = Date.now() + DEADLINE_MS;
    while (Date.now() < until && !logged) {
      const r = await fetch(`${apiNode.url}/readyz`);
      assert.equal(r.status, 503, `ready without having read the revocations log\n${apiNode.logs()}`);
      assert.match(await r.text(), /revocations not loaded/);
      logged = apiNode.stdout().split('\n').find((l) => l.includes('revocations log not read')) || '';
      if (!logged) await sleep(100);
    }
    assert.ok(logged, `no log line for the failed poll\n${apiNode.logs()}`);
    assert.match(JSON.parse(logged).error, /cannot connect/);
    await sleep(2500); // polls every second meanwhile: still one line (once per 10 s)
    const lines = apiNode.stdout().split('\n').filter((l) => l.includes('revocations log not read'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.ok(!apiNode.stdout().includes(PASSWORD) && !apiNode.stderr().includes(PASSWORD), 'the URL password reached the log');
    const metrics = await (await fetch(`${apiNode.url}/metrics`)).text();
    assert.match(metrics, /stagepass_revocation_feed_age_seconds \d/);
    assert.equal((await fetch(`${apiNode.url}/readyz`)).status, 503);
  });

  it('becomes ready once pointed at a reachable database', async () => {
    apiNode.env.STAGEPASS_DATABASE = accounts.env.STAGEPASS_DATABASE;
    await apiNode.restart();
    let r;
    const until = Date.now() + DEADLINE_MS;
    do {
      r = await fetch(`${apiNode.url}/readyz`);
      await r.arrayBuffer();
      if (r.status === 200) break;
      await sleep(100);
    } while (Date.now() < until);
    assert.equal(r.status, 200, apiNode.logs());
  });
});
