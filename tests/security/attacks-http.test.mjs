// Attacks on the HTTP layer, over raw sockets (node:net) because fetch would refuse to send
// them: request smuggling (RFC 9112 §6, §11.2), slow clients, oversized input. The limits
// asserted are the documented ones (docs/operations.md): 16 KiB of request line + headers
// (431), 64 KiB of body (413), a request must arrive within 10 s.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tokenRequest, basicAuth, assertOAuthError, assertTokenOk } from '../e2e/lib/server.mjs';
import { REDIRECT, startDefaultServer, rawExchange, slowClient, sleep } from './attacks-lib.mjs';

const READ_TIMEOUT_MS = 10000; // documented: "a request must arrive completely within 10 s"
const SLACK_MS = 5000;

describe('attacks: HTTP layer', () => {
  let server;
  let client;
  let host;
  before(async () => {
    server = await startDefaultServer('sp-sec-http');
    client = await server.createClient({ name: 'HTTP Target', redirectUris: [REDIRECT] });
    host = `Host: 127.0.0.1:${server.port}`;
  });
  after(async () => { await server?.stop(); });

  async function healthy() {
    const r = await fetch(`${server.url}/healthz`);
    await r.arrayBuffer();
    assert.equal(r.status, 200, 'the server still serves');
  }

  describe('request smuggling (RFC 9112 §6.1, §6.3, §11.2)', () => {
    // Each ambiguous request is followed, in the same write, by a request a desynchronised
    // parser would answer as a second request. Only one answer may come: the refusal.
    const smuggled = () => `GET /smuggled HTTP/1.1\r\n${host}\r\n\r\n`;
    async function refusedAlone(head, body = '', status = 400) {
      const r = await rawExchange(server, `${head}\r\n\r\n${body}${smuggled()}`);
      const statuses = r.responses.map((x) => x.status);
      const ctx = `${JSON.stringify(head)}: answered ${JSON.stringify(statuses)}\n${r.data.toString('latin1').slice(0, 600)}`;
      assert.deepEqual(statuses, [status], ctx);
      assert.ok(r.closed, `the connection must be closed after the refusal (${ctx})`);
      assert.equal(r.responses[0].get('connection'), 'close', ctx);
    }
    const post = (...headers) => [`POST /api/token HTTP/1.1`, host, 'Content-Type: application/x-www-form-urlencoded', ...headers].join('\r\n');

    it('control: two pipelined requests get two answers, and a valid chunked body is read', async () => {
      const r = await rawExchange(server, `GET /healthz HTTP/1.1\r\n${host}\r\n\r\nGET /healthz HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`);
      assert.deepEqual(r.responses.map((x) => x.status), [200, 200]);
      const body = 'grant_type=client_credentials';
      const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const c = await rawExchange(server, `${post('Transfer-Encoding: chunked', `Authorization: ${basicAuth(client.client_id, client.client_secret)}`, 'Connection: close')}\r\n\r\n${chunked}`);
      assert.deepEqual(c.responses.map((x) => x.status), [200], c.data.toString('latin1').slice(0, 400));
    });

    it('refuses Content-Length together with Transfer-Encoding (CL.TE and TE.CL)', async () => {
      await refusedAlone(post('Content-Length: 5', 'Transfer-Encoding: chunked'), '0\r\n\r\n');
      await refusedAlone(post('Transfer-Encoding: chunked', 'Content-Length: 5'), '0\r\n\r\n');
      await refusedAlone(post('Content-Length: 0', 'Transfer-Encoding: chunked'), '0\r\n\r\n');
    });

    it('refuses two different Content-Length values and malformed ones', async () => {
      await refusedAlone(post('Content-Length: 0', 'Content-Length: 44'));
      for (const v of ['0, 44', '+0', '-1', '0x0', '1 0', '']) await refusedAlone(post(`Content-Length: ${v}`));
    });

    it('refuses a Transfer-Encoding whose final coding is not chunked, then closes (RFC 9112 §6.3)', async () => {
      // "If a Transfer-Encoding header field is present in a request and the chunked transfer
      // coding is not the final encoding, ... the server MUST respond with the 400 (Bad
      // Request) status code and then close the connection."
      for (const te of ['identity', 'xchunked', 'chunked, identity', 'gzip', 'chunked;q=1']) {
        await refusedAlone(post(`Transfer-Encoding: ${te}`));
      }
    });

    it('refuses obfuscated Transfer-Encoding headers (space before the colon, folded, repeated)', async () => {
      await refusedAlone(post('Transfer-Encoding : chunked', 'Content-Length: 5'), '0\r\n\r\n');
      await refusedAlone(post('Content-Length: 5', 'Transfer-Encoding:\r\n chunked'), '0\r\n\r\n');
      await refusedAlone(post('Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'), '0\r\n\r\n');
    });

    it('answers a coding it does not implement before chunked with 501 and closes (RFC 9112 §6.1)', async () => {
      await refusedAlone(post('Transfer-Encoding: gzip, chunked'), '0\r\n\r\n', 501);
    });

    it('refuses bad chunk sizes and chunk framing', async () => {
      for (const chunk of ['zz\r\nabc\r\n0\r\n\r\n', '-1\r\nabc\r\n0\r\n\r\n', `${'f'.repeat(24)}\r\nabc\r\n0\r\n\r\n`,
        '0x3\r\nabc\r\n0\r\n\r\n', ' 3\r\nabc\r\n0\r\n\r\n', '3\r\nabcX\r\n0\r\n\r\n', '5\r\nabc\r\n0\r\n\r\n']) {
        await refusedAlone(post('Transfer-Encoding: chunked'), chunk);
      }
    });

    it('refuses bare CR, NUL and bare LF line endings in the head', async () => {
      await refusedAlone(`GET /healthz HTTP/1.1\r\n${host}\r\nX-A: a\rb`);
      await refusedAlone(`GET /healthz HTTP/1.1\r\n${host}\r\nX-A: a\u0000b`);
      const r = await rawExchange(server, `GET /healthz HTTP/1.1\n${host}\n\n${smuggled()}`);
      assert.deepEqual(r.responses.map((x) => x.status), [400]);
    });
  });

  describe('slow clients', () => {
    it('cuts a client that sends its headers a byte at a time (slowloris) within the read timeout', async () => {
      const r = await slowClient(server, `GET /healthz HTTP/1.1\r\n${host}\r\n`, { maxMs: READ_TIMEOUT_MS + SLACK_MS });
      assert.ok(r.closedAfterMs !== null, `still connected after ${READ_TIMEOUT_MS + SLACK_MS} ms`);
      await healthy();
    });

    it('cuts a client that sends its body a byte at a time within the read timeout', async () => {
      const r = await slowClient(server, `${['POST /api/token HTTP/1.1', host, 'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 10000'].join('\r\n')}\r\n\r\n`,
        { drip: 'grant_type=client_credentials&', maxMs: READ_TIMEOUT_MS + SLACK_MS });
      assert.ok(r.closedAfterMs !== null, `still connected after ${READ_TIMEOUT_MS + SLACK_MS} ms`);
      await healthy();
    });
  });

  describe('oversized input', () => {
    const get = (path, headers = []) => rawExchange(server, [`GET ${path} HTTP/1.1`, host, 'Connection: close', ...headers].join('\r\n') + '\r\n\r\n');

    it('answers 431 for a head over 16 KiB (one big header, many headers, a long URL) and keeps serving', async () => {
      assert.deepEqual((await get('/healthz', [`X-Pad: ${'a'.repeat(15000)}`])).responses.map((x) => x.status), [200], 'control: 15 000 bytes of header');
      for (const [what, r] of [
        ['one 17 KiB header', await get('/healthz', [`X-Pad: ${'a'.repeat(17 * 1024)}`])],
        ['2 000 small headers', await get('/healthz', Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`))],
        ['a 20 KiB request target', await get(`/healthz?${'a'.repeat(20 * 1024)}`)],
        ['a 1 MiB header', await get('/healthz', [`X-Pad: ${'a'.repeat(1 << 20)}`])],
      ]) {
        assert.deepEqual(r.responses.map((x) => x.status), [431], `${what}: ${r.data.toString('latin1').slice(0, 200)}`);
      }
      await healthy();
    });

    it('answers 413 for a body over 64 KiB (declared or chunked) on every kind of endpoint', async () => {
      const auth = `Authorization: ${basicAuth(client.client_id, client.client_secret)}`;
      const form = (n) => `grant_type=client_credentials&pad=${'a'.repeat(n - 'grant_type=client_credentials&pad='.length)}`;
      const ok = await tokenRequest(server, undefined, { basic: [client.client_id, client.client_secret], body: form(64 * 1024) });
      assertTokenOk(ok, 'control: a 64 KiB body is read');
      for (const path of ['/api/token', '/login', '/v1/me/tracks']) {
        const declared = await rawExchange(server, `POST ${path} HTTP/1.1\r\n${host}\r\n${auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${64 * 1024 + 1}\r\n\r\n${form(64 * 1024 + 1)}`);
        assert.deepEqual(declared.responses.map((x) => x.status), [413], `${path}, Content-Length: ${declared.data.toString('latin1').slice(0, 200)}`);
        const big = form(70 * 1024);
        const chunked = await rawExchange(server, `POST ${path} HTTP/1.1\r\n${host}\r\n${auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`);
        assert.deepEqual(chunked.responses.map((x) => x.status), [413], `${path}, chunked: ${chunked.data.toString('latin1').slice(0, 200)}`);
      }
      const huge = await rawExchange(server, `POST /api/token HTTP/1.1\r\n${host}\r\nContent-Length: 99999999999\r\n\r\n`);
      assert.deepEqual(huge.responses.map((x) => x.status), [413], 'a 100 GB declaration');
      await healthy();
    });

    it('answers a huge scope string with invalid_scope, not an error or a hang', async () => {
      const basic = { basic: [client.client_id, client.client_secret] };
      const unknown = Array.from({ length: 6000 }, (_, i) => `s${i}`).join(' ');
      assertOAuthError(await tokenRequest(server, { grant_type: 'client_credentials', scope: unknown }, basic), 'invalid_scope');
      const spaces = `user-read-private${' '.repeat(60000)}no-such-scope`;
      assertOAuthError(await tokenRequest(server, { grant_type: 'client_credentials', scope: spaces }, basic), 'invalid_scope');
      const repeated = Array.from({ length: 3500 }, () => 'user-read-private').join(' ');
      const r = await tokenRequest(server, { grant_type: 'client_credentials', scope: repeated }, basic);
      assert.equal(r.status, 200, `the same allowed scope 3 500 times is one scope: ${r.text.slice(0, 200)}`);
      assert.equal(r.json.scope, 'user-read-private');
      await healthy();
    });

    it('answers thousands of form fields with a plain 4xx (repeated) or as usual (distinct)', async () => {
      const basic = { basic: [client.client_id, client.client_secret] };
      const repeated = `grant_type=client_credentials${'&a=1'.repeat(15000)}`;
      assertOAuthError(await tokenRequest(server, undefined, { ...basic, body: repeated }), 'invalid_request');
      const distinct = `grant_type=client_credentials${Array.from({ length: 6000 }, (_, i) => `&f${i}=1`).join('')}`;
      assertTokenOk(await tokenRequest(server, undefined, { ...basic, body: distinct }), 'unknown parameters are ignored');
      const ampersands = `grant_type=client_credentials${'&'.repeat(60000)}`;
      assertTokenOk(await tokenRequest(server, undefined, { ...basic, body: ampersands }), 'empty fields are skipped');
      const badEscapes = `grant_type=client_credentials&x=${'%zz'.repeat(100)}`;
      assertOAuthError(await tokenRequest(server, undefined, { ...basic, body: badEscapes }), 'invalid_request');
      const query = Array.from({ length: 1500 }, (_, i) => `q${i}=1`).join('&');
      const page = await fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' });
      await page.arrayBuffer();
      assert.equal(page.status, 400, 'thousands of query parameters: the error page');
      await healthy();
    });
  });
});

describe('attacks: connection slots (STAGEPASS_MAX_CONNECTIONS=6)', () => {
  let server;
  before(async () => { server = await startDefaultServer('sp-sec-slots', { env: { STAGEPASS_MAX_CONNECTIONS: 6 } }); });
  after(async () => { await server?.stop(); });

  it('slow clients holding every slot get cut at the read timeout, and the slots are free again', async () => {
    const host = `Host: 127.0.0.1:${server.port}`;
    const probe = async () => (await rawExchange(server, `GET /healthz HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`)).responses.map((x) => x.status);
    const slow = Array.from({ length: 6 }, () => slowClient(server, `GET /healthz HTTP/1.1\r\n${host}\r\n`, { maxMs: READ_TIMEOUT_MS + SLACK_MS }));
    /** Probes until it sees `status` (sessions start and end asynchronously), at most 3 s. */
    const probeUntil = async (status) => {
      let seen;
      for (const deadline = Date.now() + 3000; Date.now() < deadline; await sleep(100)) {
        seen = await probe();
        if (seen[0] === status) break;
      }
      return seen;
    };
    assert.deepEqual(await probeUntil(503), [503], 'control: with every slot held by a slow client, a new connection gets 503');
    const results = await Promise.all(slow);
    assert.ok(results.every((r) => r.closedAfterMs !== null), `slow clients still connected: ${JSON.stringify(results.map((r) => r.closedAfterMs))}`);
    assert.deepEqual(await probeUntil(200), [200], 'after the cut, new connections are served again');
  });
});
