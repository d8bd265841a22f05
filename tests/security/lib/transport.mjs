// Helpers for the transport tests (TLS, listeners, timeouts, forwarded addresses):
// throw-away certificates made by the openssl CLI, raw HTTP/1.1 over one socket (so a test
// controls exactly which connection carries which request), and `stagepass serve` run to
// watch it refuse a configuration.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { BINARY } from '../../e2e/lib/server.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A self-signed P-256 certificate for 127.0.0.1 (its own CA), written as `<name>.pem` and
 * `<name>.key` in `dir`. `san`: its subjectAltName. Returns {cert, key (paths), pem (text),
 * fingerprint256}.
 */
export function makeCert(dir, name = 'server', cn = '127.0.0.1', san = 'IP:127.0.0.1') {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`, '-days', '2',
    '-keyout', key, '-out', cert,
  ], { stdio: 'pipe' });
  const pem = readFileSync(cert, 'utf8');
  const fingerprint256 = new crypto.X509Certificate(pem).fingerprint256;
  return { cert, key, pem, fingerprint256 };
}

/** A TLS connection to 127.0.0.1:port; resolves once the handshake is done. */
export function connectTls(port, options = {}) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    socket.once('secureConnect', () => { socket.off('error', reject); resolve(socket); });
    socket.once('error', reject);
  });
}

/** A plain TCP connection to 127.0.0.1:port. */
export function connectTcp(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.off('error', reject); resolve(socket); });
    socket.once('error', reject);
  });
}

/**
 * Writes `text` (a raw request) on `socket` and reads one response with a Content-Length
 * body. Resolves {status, headers (lower-case names → [values]), body, head}; rejects if the
 * connection closes first.
 */
export function exchange(socket, text, { timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('no complete response in time')), timeoutMs);
    const done = (err, value) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (err) reject(err); else resolve(value);
    };
    const onClose = (e) => done(new Error(`connection closed before a response${e ? `: ${e.message}` : ''}`));
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).trim().toLowerCase();
        (headers[k] ??= []).push(l.slice(i + 1).trim());
      }
      const length = Number(headers['content-length']?.[0] ?? 0);
      if (buf.length < end + 4 + length) return;
      done(null, {
        status: Number(statusLine.split(' ')[1]),
        headers,
        head,
        body: buf.subarray(end + 4, end + 4 + length).toString('utf8'),
      });
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
    if (text) socket.write(text);
  });
}

/** Resolves with the time (ms) the peer took to close `socket`, or rejects after `timeoutMs`. */
export function closedWithin(socket, timeoutMs) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.readableEnded) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
    const finish = () => { clearTimeout(timer); resolve(Date.now() - started); };
    socket.on('data', () => {});
    socket.once('end', finish);
    socket.once('close', finish);
  });
}

/**
 * A minimal environment for a `serve` run (runServe) expected to refuse to start: a fresh
 * database directory under `dir`, a small catalog, loopback http; `extra` says what to refuse.
 */
export function refusingServeEnv(dir, extra) {
  const d = mkdtempSync(path.join(dir, 'refuse-'));
  return {
    ...process.env,
    STAGEPASS_DATABASE: path.join(d, 'stagepass.db'),
    STAGEPASS_MASTER_KEY_FILE: path.join(d, 'master.key'),
    STAGEPASS_CATALOG_SCALE: '0.02',
    STAGEPASS_LISTEN: '127.0.0.1:0',
    STAGEPASS_ISSUER: 'http://127.0.0.1:8080',
    ...extra,
  };
}

/**
 * Runs `stagepass serve` with exactly `env` and waits for it to exit. Resolves {code,
 * signal, stderr, stdout}; a server still running after `timeoutMs` is stopped (SIGTERM, by
 * its PID, then SIGKILL 10 s later) and reported with `stillRunning: true`. Under the
 * sanitizers (ASAN_OPTIONS in `env`) a server that needed the SIGKILL rejects with its log
 * tail instead: LeakSanitizer never ran.
 */
export function runServe(env, { timeoutMs = 10000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, ['serve'], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stillRunning = false;
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    let killTimer;
    const timer = setTimeout(() => {
      stillRunning = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, 10000);
    }, timeoutMs);
    const done = () => { clearTimeout(timer); clearTimeout(killTimer); };
    child.on('error', (e) => { done(); reject(e); });
    child.on('close', (code, signal) => {
      done();
      if (killed && env?.ASAN_OPTIONS) {
        const tail = (t) => t.slice(-4000);
        reject(new Error(
          `stagepass serve (pid ${child.pid}) still running 10 s after SIGTERM: killed with ` +
          `SIGKILL, so LeakSanitizer never ran\n--- stderr ---\n${tail(stderr)}\n--- stdout ---\n${tail(stdout)}`,
        ));
        return;
      }
      resolve({ code, signal, stderr, stdout, stillRunning });
    });
  });
}

/** Polls `read()` (e.g. a server's stdout) until it matches `re`; returns the match. */
export async function waitForText(read, re, { timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = read().match(re);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms`);
    await sleep(50);
  }
}
