#!/usr/bin/env python3
"""Checks stagepass-bench-hello --durable FILE (make bench-smoke), so that the durable bound
is a bound of real work:
- each answer is a new signed token whose row is in FILE (WAL) when the answer arrives (the
  server pauses before every COMMIT here, so an answer that did not wait would come first);
- while another connection holds the write lock, the answer is 500 and no token: an answer
  waits for its commit, it does not come first;
- GET /metrics counts the writer's busy and COMMIT seconds, writes and commits, and the writer
  thread is named as stagepass's (the harness reads both);
- SIGTERM stops it with status 0.

Usage: bench/hello/smoke.py BUILD_DIR/stagepass-bench-hello. Loopback only; exits 1 with the
reason on the first failure.
"""
import contextlib
import glob
import http.client
import os
import select
import sqlite3
import subprocess
import sys
import tempfile

REQUESTS = 20
TIMEOUT_S = 10
COMMIT_DELAY_MS = 50


def fail(message):
    sys.exit(f"hello --durable: {message}")


def post(port):
    """(status, body) of one token request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        conn.request("POST", "/api/token", body=b"grant_type=refresh_token",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


def metrics(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", "/metrics")
        answer = conn.getresponse()
        body = answer.read().decode()
    finally:
        conn.close()
    values = dict(line.split() for line in body.splitlines() if line)
    return {name: float(values[name]) for name in ("stagepass_store_writer_busy_seconds_total",
                                                  "stagepass_store_commit_seconds_total",
                                                  "stagepass_store_writes_total",
                                                  "stagepass_store_commits_total")
            if name in values}


def check(port, database, pid):
    # The server's database, read as any other reader of a WAL file would.
    with contextlib.closing(sqlite3.connect(database, timeout=0)) as db:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            fail(f"journal_mode is {mode!r}, not wal")
        tokens = set()
        for _ in range(REQUESTS):
            status, token = post(port)
            # claims.signature: the signature is 64 bytes in unpadded base64url
            if status != 200 or len(token.rsplit(".", 1)[-1]) != 86 or token in tokens:
                fail(f"answer {status} {token[:60]!r} is not a new signed token")
            tokens.add(token)
            claims = token.rsplit(".", 1)[0]
            if not db.execute("SELECT 1 FROM tokens WHERE claims = ?", (claims,)).fetchone():
                fail("a token was answered before its row was committed")
    # A write lock held elsewhere: the server's commit fails at once (no busy timeout).
    with contextlib.closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as locker:
        locker.execute("BEGIN IMMEDIATE")
        try:
            status, body = post(port)
        finally:
            locker.execute("ROLLBACK")
        if status != 500 or body != "not durable":
            fail(f"with the write lock held elsewhere the answer was {status} {body[:60]!r}")
    status, _ = post(port)
    if status != 200:
        fail(f"after the lock was released the answer was {status}")
    seen = metrics(port)
    if len(seen) != 4 or not seen["stagepass_store_writer_busy_seconds_total"] > 0:
        fail(f"/metrics has no writer time: {seen}")
    # Each request was a transaction of its own (one at a time); the refused one is no commit.
    if seen["stagepass_store_writes_total"] != REQUESTS + 1 or \
            seen["stagepass_store_commits_total"] != REQUESTS + 1:
        fail(f"/metrics does not count {REQUESTS + 1} writes and commits: {seen}")
    if not 0 <= seen["stagepass_store_commit_seconds_total"] <= \
            seen["stagepass_store_writer_busy_seconds_total"]:
        fail(f"COMMIT time is not a part of the busy time: {seen}")
    names = []
    for path in glob.glob(f"/proc/{pid}/task/*/comm"):
        with open(path) as f:
            names.append(f.read().strip())
    if "sp-acct-writer" not in names:
        fail(f"no thread named sp-acct-writer: {names}")


def run(binary, delay_ms):
    """All the checks against one server started with HELLO_DURABLE_COMMIT_DELAY_MS."""
    with tempfile.TemporaryDirectory() as tmp:
        database = os.path.join(tmp, "durable.db")
        server = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--threads", "2",
                                   "--durable", database], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env={**os.environ,
                                       "HELLO_DURABLE_COMMIT_DELAY_MS": str(delay_ms)})
        stopped = None
        try:
            ready, _, _ = select.select([server.stdout], [], [], TIMEOUT_S)
            line = server.stdout.readline() if ready else ""
            if "committing a row" not in line:
                fail(f"did not start within {TIMEOUT_S} s: {line!r}")
            # "... listening on 127.0.0.1:PORT with N threads, ..."
            port = int(line.split(" with ")[0].rsplit(":", 1)[1])
            check(port, database, server.pid)
        finally:
            server.terminate()
            try:
                stopped = server.wait(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        # The refused commit is the one line expected on its standard error.
        errors = server.stderr.read().splitlines()
        server.stdout.close()
        server.stderr.close()
        if stopped != 0:
            fail(f"SIGTERM: status {stopped}, standard error {errors}")
        if errors != ["--durable: rows not committed: database is locked"]:
            fail(f"unexpected standard error: {errors}")


def main(binary):
    # With the pause an answer that came before its commit is always caught; without it, the
    # server runs as the harness runs it.
    for delay_ms in (COMMIT_DELAY_MS, 0):
        run(binary, delay_ms)
    print(f"hello --durable: {REQUESTS} tokens answered, each after its row was committed; "
          "none while the write lock was held elsewhere (with and without a pause before "
          "COMMIT)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
