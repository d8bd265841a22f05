#!/usr/bin/env python3
"""A refresh storm against one `stagepass serve` on 127.0.0.1 (SQLite, the default store), to
see whether the accounts database stays flat (issue 17, "Growth without end").

Starts the server in a fresh directory, registers a confidential client, seeds --chains
refresh-token chains (stagepass-bench-seed --refresh N: one grant and person each), and runs
wrk with bench/wrk/refresh_chain.lua for --duration seconds: every request presents the
refresh token the previous answer of its chain returned, so each refresh rotates a chain and
leaves one rotated token behind. Every --sample seconds it prints (and keeps) the size of the
database file and of its -wal, the refreshes answered 200 in that interval (from /metrics:
stagepass_token_requests_total) and the rows pruned so far (stagepass_pruned_rows_total, absent
on a binary without the pruner). At the end: wrk's summary line, the rows left in
refresh_tokens, and one JSON object (also written to --json).

  bench/prune_storm.py --stagepass build/stagepass --duration 600 --json new.json
  bench/prune_storm.py --stagepass /work/main/build/stagepass --duration 600 --json old.json

The seeder defaults to the one beside --stagepass, so an older binary's database gets that
binary's schema. Load only on 127.0.0.1, bounded by --duration. Python 3 standard library.
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness.common import free_port, request  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REFRESH_OK = re.compile(
    r'^stagepass_token_requests_total\{grant_type="refresh_token",status="200"[^}]*\} (\d+)$',
    re.M)
PRUNED = re.compile(r'^stagepass_pruned_rows_total\{kind="([a-z_]+)"\} (\d+)$', re.M)


def say(message):
    print(f"prune_storm: {message}", file=sys.stderr, flush=True)


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def metrics(url):
    """(refreshes answered 200 so far, {kind: rows pruned}) from /metrics."""
    try:
        status, _, body = request("GET", url + "/metrics", timeout=10)
    except OSError:
        return None, {}
    if status != 200:
        return None, {}
    text = body.decode()
    return (sum(int(n) for n in REFRESH_OK.findall(text)),
            {k: int(n) for k, n in PRUNED.findall(text)})


def wait_ok(proc, url, log):
    for _ in range(600):
        if proc.poll() is not None:
            sys.stderr.write(open(log).read()[-3000:])
            sys.exit(f"prune_storm: server exited before {url} answered")
        try:
            if request("GET", url, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"prune_storm: {url} did not answer within 60 s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stagepass", default=os.path.join("build", "stagepass"),
                    help="the server binary (default build/stagepass)")
    ap.add_argument("--seed", help="stagepass-bench-seed (default: beside --stagepass, else "
                                   "build/stagepass-bench-seed)")
    ap.add_argument("--duration", type=int, default=600, help="seconds of storm (default 600)")
    ap.add_argument("--sample", type=int, default=30, help="seconds between samples (30)")
    ap.add_argument("--chains", type=int, default=128, help="refresh chains seeded (128)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    ap.add_argument("--connections", type=int, default=64, help="wrk -c (64)")
    ap.add_argument("--dir", help="data directory (default: a new one under /tmp, removed)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="extra STAGEPASS_* setting for the server, e.g. "
                         "STAGEPASS_PRUNE_INTERVAL=0")
    ap.add_argument("--json", help="write the result object here too")
    a = ap.parse_args()
    if a.chains < a.connections:
        sys.exit("prune_storm: --chains must be at least --connections (one chain per request "
                 "in flight)")
    seed = a.seed or os.path.join(os.path.dirname(a.stagepass), "stagepass-bench-seed")
    if not os.path.exists(seed):
        seed = os.path.join("build", "stagepass-bench-seed")

    own_dir = a.dir is None
    directory = a.dir or tempfile.mkdtemp(prefix="prune-storm-")
    os.makedirs(directory, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = os.path.join(directory, "stagepass.db")
    env = {**os.environ,
           "STAGEPASS_LISTEN": f"127.0.0.1:{port}", "STAGEPASS_ISSUER": url,
           "STAGEPASS_DATABASE": db,
           "STAGEPASS_MASTER_KEY_FILE": os.path.join(directory, "master.key"),
           "STAGEPASS_ACCESS_LOG": "off", "STAGEPASS_CATALOG_SCALE": "0.02",
           "STAGEPASS_RATE_LIMIT": "1000000000"}
    for kv in a.set:
        name, _, value = kv.partition("=")
        env[name] = value
    log = os.path.join(directory, "serve.log")
    server = subprocess.Popen([a.stagepass, "serve"], env=env, stdout=open(log, "a"),
                              stderr=subprocess.STDOUT)
    wrk = None
    try:
        wait_ok(server, url + "/healthz", log)
        client = json.loads(subprocess.run(
            [a.stagepass, "admin", "client", "create", "--name", "storm", "--redirect-uri",
             "http://127.0.0.1:9/cb", "--json"], env=env, check=True, capture_output=True,
            text=True).stdout.strip().splitlines()[-1])
        chains = os.path.join(directory, "chains.txt")
        subprocess.run([seed, "--client-id", client["client_id"], "--refresh", str(a.chains),
                        "--refresh-out", chains], env=env, check=True, stdout=subprocess.DEVNULL)
        samples = []
        ok0, _ = metrics(url)

        def sample(t, ok_before):
            ok, pruned = metrics(url)
            s = {"t": round(t), "db_bytes": file_size(db), "wal_bytes": file_size(db + "-wal"),
                 "refreshes": (ok or 0) - (ok_before or 0), "pruned": pruned}
            samples.append(s)
            say(f"t={s['t']:4d}s db={s['db_bytes'] / 1e6:8.1f} MB "
                f"wal={s['wal_bytes'] / 1e6:7.1f} MB refreshes={s['refreshes']:7d} "
                f"pruned={sum(pruned.values())}")
            return ok

        sample(0, ok0)
        wrk_env = {**os.environ, "CHAIN_FILE": chains, "CLIENT_ID": client["client_id"],
                   "CLIENT_SECRET": client["client_secret"], "WRK_THREADS": str(a.threads),
                   "BENCH_DIR": BENCH_DIR}
        wrk_out = os.path.join(directory, "wrk.out")
        wrk = subprocess.Popen(
            ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{a.duration}s", "--timeout",
             "10s", "-s", os.path.join(BENCH_DIR, "wrk", "refresh_chain.lua"), url],
            env=wrk_env, stdout=open(wrk_out, "w"), stderr=subprocess.STDOUT)
        start = time.monotonic()
        ok_prev = ok0
        while wrk.poll() is None:
            next_at = start + (len(samples)) * a.sample
            while wrk.poll() is None and time.monotonic() < next_at:
                time.sleep(0.5)
            if wrk.poll() is None:
                ok_prev = sample(time.monotonic() - start, ok_prev)
        ok_prev = sample(time.monotonic() - start, ok_prev)
        summary = {}
        for line in open(wrk_out):
            if line.startswith("{"):
                summary = json.loads(line)
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        rows = con.execute("SELECT count(*), count(rotated_at) FROM refresh_tokens").fetchone()
        families = con.execute("SELECT count(*) FROM refresh_families").fetchone()[0]
        con.close()
        result = {"stagepass": a.stagepass, "settings": a.set, "chains": a.chains,
                  "duration_s": a.duration, "wrk": summary, "samples": samples,
                  "refresh_tokens": rows[0], "rotated_refresh_tokens": rows[1],
                  "refresh_families": families,
                  "final_db_bytes": samples[-1]["db_bytes"],
                  "final_wal_bytes": samples[-1]["wal_bytes"]}
        print(json.dumps(result))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(result, f, indent=1)
    finally:
        if wrk and wrk.poll() is None:
            wrk.terminate()
            wrk.wait()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
