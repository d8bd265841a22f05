#!/usr/bin/env node
// Scans server logs for secrets: every line a `stagepass serve` wrote to standard output or
// standard error during the test suites (tests/e2e/lib/server.mjs and tests/interop/server.py
// copy them to $STAGEPASS_E2E_LOG_DIR; tests/run-e2e.sh runs this after all suites).
//
//   node tests/security/log-scan.mjs DIR     exit 0: clean; 1: secrets found (file:line
//                                            listed, values redacted) or no log to scan
//
// What counts as a secret: opaque tokens by their type prefix (refresh token spr_, code
// spc_, client secret sps_: src/tokens/opaque_token.hpp, src/app/admin.cpp), JWT-shaped
// strings, Authorization and Cookie header values, session and CSRF cookie values,
// form-encoded or JSON secret fields, any 256-bit base64url value (session ids, CSRF seeds,
// PKCE verifiers are 43 characters), 64-hex-digit keys, and every password literal the
// test files use. `serve --demo` prints a banner that shows its demo account and client
// secret on purpose (README: `make run`); the non-JSON lines of a server started with
// --demo are that banner and are skipped — its JSON log lines are scanned like any other.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');

/** [kind, RegExp] — each RegExp is global; a match is a secret on that line. */
export const DETECTORS = [
  ['refresh token (spr_)', /\bspr_[A-Za-z0-9_-]{16,}/g],
  ['authorization code (spc_)', /\bspc_[A-Za-z0-9_-]{16,}/g],
  ['client secret (sps_)', /\bsps_[A-Za-z0-9_-]{16,}/g],
  ['JWT', /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g],
  ['Authorization header value', /\b(?:Bearer|Basic|Digest|DPoP)\s+[A-Za-z0-9._~+/-]{8,}=*/gi],
  ['Authorization/Cookie header field', /["']?(?:authorization|proxy-authorization|cookie|set-cookie)["']?\s*[:=]\s*["']?[^"'\s,}]{4,}/gi],
  ['session or CSRF cookie', /\b(?:__Host-|__Secure-)?sp_(?:session|csrf)=[^;\s"&]+/g],
  ['form-encoded secret field', /(?:^|[?&\s"'])(?:password|passwd|current_password|new_password|client_secret|code_verifier|refresh_token|access_token|code|csrf_token|token)=[^&\s"']+/gi],
  ['JSON secret field', /"(?:password|passwd|current_password|new_password|client_secret|code_verifier|refresh_token|access_token|csrf_token|id_token)"\s*:\s*"[^"]+"/gi],
  ['256-bit base64url value (session id, CSRF seed, PKCE verifier)', /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g],
  ['64 hex digits (a key)', /(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])/g],
];

/** A found value shown safely: its first 6 characters and its length. */
export const redact = (s) => `${s.slice(0, 6)}… (${s.length} chars)`;

function listFiles(dir, exts) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

/**
 * Every password literal the test files use (`password: '...'`, `ALICE_PASSWORD = "..."`,
 * `new_password: '...'`), 8 characters or more: a log line holding one is a leak even when
 * no pattern above matches it.
 */
export function knownPasswords(root = REPO_ROOT) {
  const files = [
    ...listFiles(path.join(root, 'tests', 'e2e'), ['.mjs', '.js']),
    ...listFiles(path.join(root, 'tests', 'security'), ['.mjs']),
    ...listFiles(path.join(root, 'tests', 'interop'), ['.py']),
  ];
  const re = /(?<![A-Za-z])(?:[A-Za-z]+_)?pass(?:word|phrase)?\w*["']?\s*[:=]\s*(['"])([^'"\\\n]{8,})\1/gi;
  const found = new Set();
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(re)) {
      if (m[2].toLowerCase() !== 'password') found.add(m[2]);
    }
  }
  return [...found];
}

/**
 * Scans `text` (one log file) line by line. Returns [{file, line, kind, value}] (`value`
 * already redacted). `demo`: the file is from a `serve --demo` server (banner lines skipped).
 */
export function scanText(text, { file = '<text>', passwords = [], demo = false } = {}) {
  const hits = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (demo && !line.trimStart().startsWith('{')) return;
    for (const [kind, re] of DETECTORS) {
      for (const m of line.matchAll(re)) hits.push({ file, line: i + 1, kind, value: redact(m[0].trim()) });
    }
    for (const p of passwords) {
      if (line.includes(p)) hits.push({ file, line: i + 1, kind: 'a test password', value: redact(p) });
    }
  });
  return hits;
}

/**
 * Scans every *.log file of `dir`. A `<name>.meta.json` beside `<name>.stdout.log` (written
 * by server.mjs) tells which server args produced it. Returns {files, lines, hits}.
 */
export function scanDir(dir, { passwords = knownPasswords() } = {}) {
  const files = listFiles(dir, ['.log']).sort();
  let lines = 0;
  const hits = [];
  for (const f of files) {
    const base = f.replace(/\.(stdout|stderr)\.log$/, '');
    let demo = false;
    try { demo = (JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')).args ?? []).includes('--demo'); } catch { /* no meta: scan everything */ }
    const text = readFileSync(f, 'utf8');
    lines += text.split('\n').length;
    hits.push(...scanText(text, { file: path.relative(dir, f), passwords, demo }));
  }
  return { files: files.length, lines, hits };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: log-scan.mjs DIR');
    process.exit(2);
  }
  const { files, lines, hits } = scanDir(dir);
  if (files === 0) {
    console.error(`log-scan: no server log in ${dir}: nothing was scanned (is STAGEPASS_E2E_LOG_DIR passed through?)`);
    process.exit(1);
  }
  for (const h of hits) console.error(`${path.join(dir, h.file)}:${h.line}: ${h.kind}: ${h.value}`);
  console.log(`log-scan: ${files} log files, ${lines} lines, ${hits.length} secrets found`);
  process.exit(hits.length ? 1 : 0);
}
