// Numeric settings out of range (negative, or past what the field holds) refuse to start with
// one clear line naming the setting, instead of wrapping into another meaning: 2^32 sign-ups
// per IP used to become 0, "no limit".
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { refusingServeEnv, runServe } from './lib/transport.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sp-sec-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const serveEnv = (extra) => refusingServeEnv(dir, extra);

describe('security: numeric settings out of range refuse to start', () => {
  const cases = [
    ['STAGEPASS_SESSION_IDLE_TTL', '-1'],
    ['STAGEPASS_SESSION_IDLE_TTL', '9223372036854775807'],
    ['STAGEPASS_SIGNUP_MAX_PER_IP', '4294967296'],
    ['STAGEPASS_LOGIN_MAX_FAILURES', '4294967301'],
  ];
  for (const [name, value] of cases) {
    it(`${name}=${value}`, async () => {
      const r = await runServe(serveEnv({ [name]: value }), { timeoutMs: 5000 });
      assert.equal(r.stillRunning, false, `the server started:\n${r.stdout.slice(-1000)}`);
      assert.notEqual(r.code, 0);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one clear line on stderr, got:\n${r.stderr}`);
      assert.match(lines[0], new RegExp(`^stagepass: ${name} must be an integer from \\d+ to \\d+, got '${value}'$`));
    });
  }
});
