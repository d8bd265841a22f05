#!/usr/bin/env python3
"""Checks stagepass-bench-hello --durable FILE (make bench-smoke): every answered request is a
signed token whose row is already in FILE, so the durable bound is a bound of real work.

Usage: bench/hello/smoke.py BUILD_DIR/stagepass-bench-hello. Loopback only; exits 1 with the
reason on the first failure.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request

REQUESTS = 20


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        database = os.path.join(tmp, "durable.db")
        server = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--threads", "2",
                                   "--durable", database], stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            if "committing a row" not in line:
                sys.exit(f"hello --durable did not start: {line!r}")
            port = line.split(" with ")[0].rsplit(":", 1)[1]
            tokens = []
            for _ in range(REQUESTS):
                request = urllib.request.Request(f"http://127.0.0.1:{port}/api/token",
                                                 data=b"grant_type=refresh_token")
                with urllib.request.urlopen(request, timeout=10) as answer:
                    tokens.append(answer.read().decode())
            if len(set(tokens)) != REQUESTS or any(len(t.rsplit(".", 1)[-1]) != 86 for t in tokens):
                # claims.signature, the signature 64 bytes in unpadded base64url
                sys.exit("hello --durable: the answers are not distinct signed tokens")
            # Each answer came after its commit: the rows are there while the server still runs.
            with sqlite3.connect(database) as db:
                stored = {row[0] for row in db.execute("SELECT claims FROM tokens")}
            missing = [t for t in tokens if t.rsplit(".", 1)[0] not in stored]
            if missing:
                sys.exit(f"hello --durable: {len(missing)} answered tokens have no row")
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"hello --durable: {REQUESTS} tokens answered, each after its row was committed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
