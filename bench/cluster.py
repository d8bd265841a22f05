#!/usr/bin/env python3
"""Scale-out measurement (issue 16): client-credentials and refresh grants per second of one
and of three `stagepass serve` nodes behind HAProxy, on PostgreSQL and on SQLite, on one
machine under the same wrk load (-t2 -c64 by default), and the CPU each part spends per grant:
the stagepass nodes, the PostgreSQL server (postmaster and all its backends) and HAProxy.

Configurations (--configs), every one behind the same HAProxy (round robin per request), so
the balancer's cost is in every row:
  sqlite-1  one node on a SQLite file (the default store)
  pg-1      one node on PostgreSQL
  pg-3      three nodes on one PostgreSQL database
  sqlite-3  three nodes on one SQLite file (the same file: not a supported deployment, measured
            to show what happens)
Scenarios (--scenarios): cc (client credentials, wrk/client_credentials.lua) and refresh
(refresh grant with rotation, each seeded token once, wrk/refresh.lua).

A round starts each configuration in turn (fresh stagepass and HAProxy processes; the
databases persist over the run), and for each scenario runs one wrk warm-up and one measured
run; the order of the configurations alternates between rounds, so a machine whose speed
drifts over minutes moves every configuration alike. Rows are medians over the rounds.
PostgreSQL 15 is a throw-away server (scripts/pg-test-server.sh: fsync and synchronous_commit
on, as in production) in a temporary directory beside the SQLite file (same filesystem),
started first and stopped at the end. Loopback only; every process is stopped by its PID,
also on Ctrl-C; the data directory is removed unless --keep-data.

Output: $BUILD_DIR/cluster.md (the table and the scaling model), $BUILD_DIR/cluster.json
(every run) and $BUILD_DIR/cluster-wrk.log (wrk's own reports). Python 3 standard library."""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from harness import common
from harness.common import (Die, Interrupted, basic, cpu_idle_percent, cpu_ticks, die, form,
                            free_port, last_json, peak_rss_kb, request, say, seconds, tail,
                            tree_cpu_ticks)
from harness.pair import pool_for

common.PROG = "cluster.py"
CONFIGS = {"sqlite-1": ("sqlite", 1), "pg-1": ("pg", 1), "pg-3": ("pg", 3),
           "sqlite-3": ("sqlite", 3)}
SCENARIOS = ["cc", "refresh"]
REDIRECT_URI = "http://127.0.0.1:9/cb"
# The least refresh rate (req/s) a warm-up's pool and a measured run's pool are sized for (else
# the last round's rate, and for a run 1.5 times its warm-up's): a warm-up is slower than the
# run after it (on PostgreSQL each node opens its pool's connections during it), and the
# machine may be quieter than in the last round.
FIRST_REFRESH_ESTIMATE = 3000
MIN_REFRESH_ESTIMATE = 2000


def options(argv):
    p = argparse.ArgumentParser(
        prog="bench/cluster.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="environment (defaults): BUILD_DIR=build-bench WRK_THREADS=2 WRK_CONNECTIONS=64 "
        "WRK_DURATION=10s WRK_WARMUP=2s POOL_FACTOR=1.5")
    p.add_argument("--no-build", dest="build", action="store_false",
                   help="use the binaries already in $BUILD_DIR")
    p.add_argument("--configs", default="sqlite-1,pg-1,pg-3,sqlite-3",
                   help="configurations, comma-separated (default: all four)")
    p.add_argument("--scenarios", default="cc,refresh", help="cc, refresh (default: both)")
    p.add_argument("--rounds", type=int, default=2,
                   help="times every configuration is measured (default 2; rows are medians)")
    p.add_argument("--data-dir", default="",
                   help="parent of the run's data directory (SQLite file and PostgreSQL's "
                   "cluster alike; default $BUILD_DIR/bench-data)")
    p.add_argument("--keep-data", dest="keep", action="store_true",
                   help="keep the data directory (databases, logs, HAProxy configuration)")
    a = p.parse_args(argv)
    for name, listed, known in (("configuration", a.configs, CONFIGS),
                                ("scenario", a.scenarios, SCENARIOS)):
        for x in listed.split(","):
            if x not in known:
                p.error(f"unknown {name} '{x}'")
    if a.rounds < 1:
        p.error("--rounds must be at least 1")
    a.configs, a.scenarios = a.configs.split(","), a.scenarios.split(",")
    env = os.environ
    a.build_dir = env.get("BUILD_DIR") or "build-bench"
    a.threads = int(env.get("WRK_THREADS") or 2)
    a.connections = int(env.get("WRK_CONNECTIONS") or 64)
    a.duration = env.get("WRK_DURATION") or "10s"
    a.warmup = env.get("WRK_WARMUP") or "2s"
    a.pool_factor = float(env.get("POOL_FACTOR") or 1.5)
    a.root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    a.bench_dir = os.path.join(a.root, "bench")
    a.data_parent = a.data_dir or os.path.join(a.build_dir, "bench-data")
    return a


class Bench:
    """One run: the PostgreSQL server, the databases, the balancer's port, every process."""

    def __init__(self, o, work):
        self.o, self.work = o, work
        self.clk_tck = os.sysconf("SC_CLK_TCK")
        self.lb_port = free_port()
        self.lb_url = f"http://127.0.0.1:{self.lb_port}"
        # Every node (and the seed tool) unseals the same signing keys: one master key per run,
        # in the children's environment only.
        self.master_key = os.urandom(32).hex()
        self.pg_dir = self.pg_url = self.pg_env = None
        self.clients = {}  # backend -> (client_id, client_secret)
        self.procs = []  # (name, Popen) of this configuration: nodes, then HAProxy
        self.wrk_proc = None
        self.runs = []
        self.estimate = {}  # (config, scenario) -> req/s the next refresh pool is sized for
        self.wrk_log = os.path.join(o.build_dir, "cluster-wrk.log")
        open(self.wrk_log, "w").close()

    def bin(self, name):
        return os.path.join(self.o.root, self.o.build_dir, name)

    # -- PostgreSQL ---------------------------------------------------------------------------

    def start_postgres(self):
        script = os.path.join(self.o.root, "scripts", "pg-test-server.sh")
        r = subprocess.run([script, "start"], env={**os.environ, "TMPDIR": self.work},
                           stdout=subprocess.PIPE, text=True)
        exports = {}
        for line in r.stdout.splitlines():
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].split("=", 1)
                exports[k] = v.strip("'")
        self.pg_dir = exports.get("STAGEPASS_PG_DIR")
        if r.returncode != 0 or not self.pg_dir:
            die("PostgreSQL did not start (scripts/pg-test-server.sh start)")
        self.pg_url = exports["STAGEPASS_TEST_POSTGRESQL"]
        self.pg_env = {"PGPASSFILE": exports["PGPASSFILE"]}
        say(f"PostgreSQL 15 on {self.pg_url} (data in {self.pg_dir})")

    def postmaster_pid(self):
        with open(os.path.join(self.pg_dir, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def stop_postgres(self):
        if self.pg_dir:
            subprocess.run([os.path.join(self.o.root, "scripts", "pg-test-server.sh"), "stop",
                            self.pg_dir], stdout=sys.stderr.fileno())
            self.pg_dir = None

    # -- stagepass nodes and the balancer -----------------------------------------------------

    def backend_env(self, backend):
        env = {**os.environ,
               "STAGEPASS_ISSUER": self.lb_url,  # one issuer: the balancer's
               "STAGEPASS_MASTER_KEY": self.master_key,
               "STAGEPASS_ACCESS_LOG": "off",
               "STAGEPASS_CATALOG_SCALE": "0.02",
               "STAGEPASS_RATE_LIMIT": "1000000000"}
        if backend == "pg":
            env.update(self.pg_env)
            env["STAGEPASS_DATABASE"] = self.pg_url
        else:
            env["STAGEPASS_DATABASE"] = os.path.join(self.work, "sqlite", "stagepass.db")
            os.makedirs(os.path.join(self.work, "sqlite"), exist_ok=True)
        return env

    def start_config(self, config):
        backend, nodes = CONFIGS[config]
        ports = []
        for i in range(1, nodes + 1):
            # Nodes one after the other: the first applies the migrations and makes the first
            # signing key, which the others then load.
            d = os.path.join(self.work, f"{config}-node{i}")
            os.makedirs(d, exist_ok=True)
            port = free_port()
            env = self.backend_env(backend)
            env.update({"STAGEPASS_LISTEN": f"127.0.0.1:{port}",
                        "STAGEPASS_MUSIC_DATABASE": os.path.join(d, "music.db")})
            log = os.path.join(d, "serve.log")
            with open(log, "a") as out:
                proc = subprocess.Popen([self.bin("stagepass"), "serve"], cwd=d, env=env,
                                        stdout=out, stderr=subprocess.STDOUT)
            self.procs.append((f"node{i}", proc))
            self.wait_ok(f"http://127.0.0.1:{port}/healthz", proc, log)
            ports.append(port)
        cfg = os.path.join(self.work, f"haproxy-{config}.cfg")
        with open(cfg, "w") as f:
            f.write(haproxy_config(self.lb_port, ports))
        log = os.path.join(self.work, f"haproxy-{config}.log")
        with open(log, "a") as out:
            proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=out,
                                    stderr=subprocess.STDOUT)
        self.procs.append(("haproxy", proc))
        self.wait_ok(self.lb_url + "/healthz", proc, log)
        if backend not in self.clients:
            r = subprocess.run([self.bin("stagepass"), "admin", "client", "create", "--name",
                                "bench", "--redirect-uri", REDIRECT_URI, "--json"],
                               env=self.backend_env(backend), stdout=subprocess.PIPE, text=True,
                               cwd=self.work)
            if r.returncode != 0:
                die(f"stagepass admin client create failed on {backend}")
            c = last_json(r.stdout)
            self.clients[backend] = (c["client_id"], c["client_secret"])
        # One grant through every node by hand: each answers, with the same keys.
        cid, secret = self.clients[backend]
        for port in ports:
            self.expect_200(f"http://127.0.0.1:{port}/api/token", cid, secret,
                            {"grant_type": "client_credentials"})

    def stop_config(self):
        """SIGTERM by PID (HAProxy first), SIGKILL after 10 s."""
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    say(f"{name} (PID {proc.pid}) still alive 10 s after SIGTERM: SIGKILL")
                    proc.kill()
                    proc.wait()
        self.procs = []

    def wait_ok(self, url, proc, log):
        for _ in range(300):
            try:
                if request("GET", url, timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            if proc.poll() is not None:
                sys.stderr.write(tail(log, 20))
                die(f"{url}: the process exited before answering 200")
            time.sleep(0.1)
        sys.stderr.write(tail(log, 20))
        die(f"{url} did not answer 200 within 30 s")

    def expect_200(self, url, cid, secret, fields):
        try:
            status, _, body = request("POST", url, {"Authorization": basic(cid, secret)},
                                      form(fields))
        except OSError as e:
            status, body = 0, str(e).encode()
        if status != 200:
            die(f"probe {url} answered {status}: {body[:300].decode(errors='replace')}")

    # -- pools --------------------------------------------------------------------------------

    def seed_refresh(self, backend, count, path):
        """COUNT refresh tokens, each with its own person and grant, made and stored as the
        server makes them (stagepass-bench-seed, through the store factory), into PATH."""
        r = subprocess.run([self.bin("stagepass-bench-seed"), "--client-id",
                            self.clients[backend][0], "--refresh", str(count), "--refresh-out",
                            path, "--no-profiles"],
                           env=self.backend_env(backend), stdout=subprocess.PIPE, text=True,
                           cwd=self.work)
        if r.returncode != 0:
            die("seeding refresh tokens failed")
        return json.loads(r.stdout.strip().splitlines()[-1])

    # -- measurement --------------------------------------------------------------------------

    def cell(self, round_no, config, scenario):
        """One warm-up and one measured run of SCENARIO on the started CONFIG."""
        backend, nodes = CONFIGS[config]
        cid, secret = self.clients[backend]
        env = {**os.environ, "BENCH_DIR": self.o.bench_dir, "WRK_THREADS": str(self.o.threads),
               "CLIENT_ID": cid, "CLIENT_SECRET": secret}
        if scenario == "cc":
            script = os.path.join(self.o.bench_dir, "wrk", "client_credentials.lua")
            self.expect_200(self.lb_url + "/api/token", cid, secret,
                            {"grant_type": "client_credentials"})
            self.wrk(round_no, config, scenario, "warmup", self.o.warmup, script, env, 0)
            self.wrk(round_no, config, scenario, "run", self.o.duration, script, env, 0)
            return
        script = os.path.join(self.o.bench_dir, "wrk", "refresh.lua")
        probe = os.path.join(self.work, "probe.txt")
        self.seed_refresh(backend, 1, probe)
        with open(probe) as f:
            self.expect_200(self.lb_url + "/api/token", cid, secret,
                            {"grant_type": "refresh_token", "refresh_token": f.read().strip()})
        key = (config, scenario)
        pool = os.path.join(self.work, "pool.txt")
        warm_s, dur_s = seconds(self.o.warmup), seconds(self.o.duration)
        est = max(self.estimate.get(key, 0), FIRST_REFRESH_ESTIMATE)
        size = pool_for(est, warm_s, self.o.pool_factor, self.o.connections)
        self.seed_refresh(backend, size, pool)
        warm = self.wrk(round_no, config, scenario, "warmup", self.o.warmup, script,
                        {**env, "POOL_FILE": pool}, size)
        # The measured run's pool, sized for 1.5 times the warm-up's rate, the last round's
        # rate or MIN_REFRESH_ESTIMATE, whichever is highest (twice that if the warm-up's pool
        # ran dry). A run whose pool ran out is kept as "retried" and run again once with a
        # pool twice as large.
        est = max(1.5 * warm["rps"], self.estimate.get(key, 0), MIN_REFRESH_ESTIMATE)
        est *= 2 if warm["pool_exhausted"] else 1
        for tries in (1, 2):
            size = pool_for(est, dur_s, self.o.pool_factor, self.o.connections)
            self.seed_refresh(backend, size, pool)
            r = self.wrk(round_no, config, scenario, "run", self.o.duration, script,
                         {**env, "POOL_FILE": pool}, size)
            if not r["pool_exhausted"] or tries == 2:
                break
            say(f"{config}/{scenario}: the pool ran out: running again with a larger one")
            r["type"] = "retried"
            est = 2 * max(r["rps"], est)
        self.estimate[key] = max(r["rps"], 200)
        os.remove(pool)

    def wrk(self, round_no, config, scenario, phase, duration, script, env, pool_size):
        o = self.o
        args = [f"-t{o.threads}", f"-c{o.connections}", f"-d{duration}", "-s", script,
                self.lb_url]
        header = f"== round {round_no} / {config} / {scenario} / {phase}: wrk {' '.join(args)}"
        print(header, file=sys.stderr, flush=True)
        nodes = [p for n, p in self.procs if n.startswith("node")]
        lb = next(p for n, p in self.procs if n == "haproxy")
        # PostgreSQL's CPU counts in the rows whose nodes use it (it idles beside SQLite rows).
        postmaster = self.postmaster_pid() if CONFIGS[config][0] == "pg" else None

        def sample():
            # The machine's busy time and wrk's (a reaped child of this process) too, so what
            # other work took of the cores during the run can be told apart.
            with open("/proc/stat") as f:
                # user nice system idle iowait irq softirq: all but idle and iowait
                ticks = f.readline().split()[1:8]
            busy = sum(int(x) for i, x in enumerate(ticks) if i not in (3, 4))
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            return (sum(cpu_ticks(p.pid) for p in nodes), cpu_ticks(lb.pid),
                    tree_cpu_ticks(postmaster) if postmaster else 0,
                    busy, (ru.ru_utime + ru.ru_stime) * self.clk_tck)

        started = time.monotonic()

        before = sample()
        out_path = os.path.join(self.work, "wrk.out")
        with open(out_path, "w") as f:
            self.wrk_proc = subprocess.Popen(["wrk", *args], stdout=f, stderr=subprocess.STDOUT,
                                             env=env)
        self.wrk_proc.wait()
        self.wrk_proc = None
        for n, p in self.procs:
            if p.poll() is not None:
                die(f"{n} exited during the run")
        after = sample()
        with open(out_path) as f:
            text = f.read()
        with open(self.wrk_log, "a") as log:
            log.write(header + "\n" + text)
        summary = last_json(text)
        if summary is None:
            die(f"wrk printed no summary: {tail(out_path, 5)}")
        node_s, lb_s, pg_s, busy_s, wrk_s = (
            (a - b) / self.clk_tck for a, b in zip(after, before))
        elapsed = time.monotonic() - started
        # Cores busy with anything else than the nodes, PostgreSQL, HAProxy and wrk.
        other_cores = max(0.0, busy_s - node_s - lb_s - pg_s - wrk_s) / elapsed
        req = summary["requests"] or 1
        r = dict(summary)
        r.update({
            "type": "warmup" if phase == "warmup" else "run", "round": round_no,
            "config": config, "scenario": scenario, "pool_size": pool_size,
            "node_cpu_s": node_s, "haproxy_cpu_s": lb_s, "pg_cpu_s": pg_s,
            "node_cpu_s_per_1000": 1000 * node_s / req, "haproxy_cpu_s_per_1000":
            1000 * lb_s / req, "pg_cpu_s_per_1000": 1000 * pg_s / req if postmaster else None,
            "node_peak_rss_mib": max(peak_rss_kb(p.pid) for p in nodes) / 1024,
            "wrk_cpu_s": wrk_s, "other_cores": other_cores, "loadavg_1m": os.getloadavg()[0]})
        self.runs.append(r)
        if r["non_2xx"] or r["socket_errors"] or r["pool_exhausted"]:
            say(f"warning: {config}/{scenario} {phase}: {r['non_2xx']} non-2xx, "
                f"{r['socket_errors']} socket errors, {r['pool_exhausted']} pool-exhausted")
        return r

    def stop_all(self):
        if self.wrk_proc and self.wrk_proc.poll() is None:
            self.wrk_proc.terminate()
            self.wrk_proc.wait()
        self.stop_config()
        self.stop_postgres()


def haproxy_config(port, node_ports):
    """A minimal balancer: HTTP mode, keep-alive on both sides, each request to the next node
    in turn (round robin; HAProxy routes every request of a keep-alive connection anew)."""
    servers = "".join(f"    server node{i} 127.0.0.1:{p}\n" for i, p in enumerate(node_ports, 1))
    return ("global\n    maxconn 4096\n"
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n"
            "    timeout server 30s\n"
            f"frontend stagepass\n    bind 127.0.0.1:{port}\n    default_backend nodes\n"
            f"backend nodes\n    balance roundrobin\n{servers}")


# -- report -----------------------------------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rows(runs, configs, scenarios):
    out = []
    for scenario in scenarios:
        for config in configs:
            rs = [r for r in runs if r["type"] == "run" and r["config"] == config
                  and r["scenario"] == scenario]
            if not rs:
                out.append({"config": config, "scenario": scenario, "runs": 0})
                continue
            row = {"config": config, "scenario": scenario, "runs": len(rs),
                   "backend": CONFIGS[config][0], "nodes": CONFIGS[config][1],
                   "rps": median([r["rps"] for r in rs]),
                   "rps_min": min(r["rps"] for r in rs), "rps_max": max(r["rps"] for r in rs),
                   "p50_ms": median([r["p50_us"] / 1000 for r in rs]),
                   "p99_ms": median([r["p99_us"] / 1000 for r in rs]),
                   "non_2xx": sum(r["non_2xx"] for r in rs),
                   "socket_errors": sum(r["socket_errors"] for r in rs),
                   "pool_exhausted": sum(r["pool_exhausted"] for r in rs),
                   "node_cpu_s_per_1000": median([r["node_cpu_s_per_1000"] for r in rs]),
                   "pg_cpu_s_per_1000": median([r["pg_cpu_s_per_1000"] for r in rs]),
                   "haproxy_cpu_s_per_1000": median([r["haproxy_cpu_s_per_1000"] for r in rs]),
                   "node_peak_rss_mib": max(r["node_peak_rss_mib"] for r in rs)}
            out.append(row)
    return out


def model(table):
    """The paper model of N nodes, from the pg rows: what one PostgreSQL core sustains of each
    grant (1 / its CPU per grant) and how many cores of stagepass nodes it feeds."""
    out = []
    for scenario in SCENARIOS:
        pg = [r for r in table if r["scenario"] == scenario and r.get("backend") == "pg"
              and r.get("pg_cpu_s_per_1000")]
        if not pg:
            continue
        for r in pg:
            pg_per_core = 1000 / r["pg_cpu_s_per_1000"]
            node_per_core = 1000 / r["node_cpu_s_per_1000"]
            out.append({"scenario": scenario, "config": r["config"],
                        "pg_grants_per_core_s": pg_per_core,
                        "node_grants_per_core_s": node_per_core,
                        "node_cores_per_pg_core": pg_per_core / node_per_core})
    return out


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def markdown(table, model_rows, meta):
    lines = [f"# Scale-out: 1 vs 3 nodes on PostgreSQL and SQLite ({meta['date']})", "",
             f"Machine: {meta['nproc']} cores, {meta['cpu_model']}; load average before "
             f"{meta['loadavg_before']}; CPU {meta['cpu_idle_percent_before']} % idle before. "
             f"wrk -t{meta['wrk_threads']} -c{meta['wrk_connections']} -d{meta['duration']} "
             f"(warm-up {meta['warmup']}), {meta['rounds']} rounds, medians. Every configuration "
             f"behind HAProxy {meta['haproxy']} (round robin). Data on {meta['fstype']}. "
             f"Revision {meta['git']}. Other work on the machine during the measured runs: "
             f"{fmt(meta.get('other_cores_median'), 2)} cores (median; max "
             f"{fmt(meta.get('other_cores_max'), 2)}).", "",
             "| scenario | config | req/s median (min–max) | p50 ms | p99 ms | non-2xx | "
             "stagepass CPU s / 1000 | PostgreSQL CPU s / 1000 | HAProxy CPU s / 1000 | "
             "peak RSS MiB / node |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table:
        if not r["runs"]:
            lines.append(f"| {r['scenario']} | {r['config']} | did not complete | | | | | | | |")
            continue
        bad = r["non_2xx"] + r["socket_errors"] + r["pool_exhausted"]
        lines.append(
            f"| {r['scenario']} | {r['config']} | {fmt(r['rps'])} ({fmt(r['rps_min'])}–"
            f"{fmt(r['rps_max'])}) | {fmt(r['p50_ms'], 1)} | {fmt(r['p99_ms'], 1)} | "
            f"{bad} | {fmt(r['node_cpu_s_per_1000'], 3)} | {fmt(r['pg_cpu_s_per_1000'], 3)} | "
            f"{fmt(r['haproxy_cpu_s_per_1000'], 3)} | {fmt(r['node_peak_rss_mib'], 1)} |")
    if model_rows:
        lines += ["", "## Paper model", "",
                  "| scenario | from | grants/s per PostgreSQL core | grants/s per stagepass "
                  "core | stagepass cores one PostgreSQL core feeds |", "|---|---|---|---|---|"]
        for m in model_rows:
            lines.append(f"| {m['scenario']} | {m['config']} | {fmt(m['pg_grants_per_core_s'])}"
                         f" | {fmt(m['node_grants_per_core_s'])} | "
                         f"{fmt(m['node_cores_per_pg_core'], 2)} |")
    return "\n".join(lines) + "\n"


def machine_meta(o, idle, load, fstype):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    git = subprocess.run(["git", "describe", "--always", "--dirty"], text=True, cwd=o.root,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip()
    haproxy = subprocess.run(["haproxy", "-v"], text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout.split()
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "nproc": len(os.sched_getaffinity(0)), "cpu_model": cpu,
            "cpu_idle_percent_before": idle, "loadavg_before": load, "fstype": fstype,
            "wrk_threads": o.threads, "wrk_connections": o.connections, "duration": o.duration,
            "warmup": o.warmup, "rounds": o.rounds, "git": git or "unknown",
            "haproxy": haproxy[2] if len(haproxy) > 2 else "?"}


def on_signal(signum, frame):
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    raise Interrupted()


def main(argv=None):
    o = options(argv)
    os.chdir(o.root)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    if o.build:
        for cmd in (["cmake", "-G", "Ninja", "-S", ".", "-B", o.build_dir,
                     "-DCMAKE_BUILD_TYPE=Release", "-DSTAGEPASS_BENCH=ON",
                     "-DSTAGEPASS_TESTS=OFF"],
                    ["cmake", "--build", o.build_dir, "--target", "stagepass",
                     "stagepass-bench-seed"]):
            if subprocess.run(cmd).returncode != 0:
                return 1
    work = bench = None
    try:
        for name in ("stagepass", "stagepass-bench-seed"):
            if not os.access(os.path.join(o.build_dir, name), os.X_OK):
                raise Die(f"{o.build_dir}/{name} not found (build first, or drop --no-build)")
        for tool in ("wrk", "haproxy"):
            if not shutil.which(tool):
                raise Die(f"{tool} not found (apt-get install {tool})")
        os.makedirs(o.data_parent, exist_ok=True)
        work = os.path.abspath(tempfile.mkdtemp(prefix="cluster.", dir=o.data_parent))
        os.chmod(work, 0o755)  # PostgreSQL's own user makes its directory inside
        fstype = subprocess.run(["df", "--output=fstype", work], text=True,
                                stdout=subprocess.PIPE).stdout.split()[-1]
        bench = Bench(o, work)
        load = "%.2f %.2f %.2f" % os.getloadavg()
        idle = cpu_idle_percent()
        if idle < 90:
            say(f"warning: CPU only {idle}% idle before the loads: figures will be low")
        meta = machine_meta(o, idle, load, fstype)
        if any(CONFIGS[c][0] == "pg" for c in o.configs):
            bench.start_postgres()
        for round_no in range(1, o.rounds + 1):
            order = o.configs if round_no % 2 else list(reversed(o.configs))
            say(f"==== round {round_no} of {o.rounds}: {', '.join(order)}")
            for config in order:
                try:
                    bench.start_config(config)
                    for scenario in o.scenarios:
                        bench.cell(round_no, config, scenario)
                except Die as e:
                    say(f"{config}: {e}; going on")
                    bench.runs.append({"type": "failed", "round": round_no, "config": config,
                                       "error": str(e)})
                finally:
                    bench.stop_config()
        bench.stop_postgres()
        table = rows(bench.runs, o.configs, o.scenarios)
        others = [r["other_cores"] for r in bench.runs if r["type"] == "run"]
        meta["other_cores_median"] = median(others)
        meta["other_cores_max"] = max(others) if others else None
        model_rows = model(table)
        md = markdown(table, model_rows, meta)
        with open(os.path.join(o.build_dir, "cluster.md"), "w") as f:
            f.write(md)
        with open(os.path.join(o.build_dir, "cluster.json"), "w") as f:
            json.dump({"settings": meta, "rows": table, "model": model_rows,
                       "runs": bench.runs}, f, indent=1)
        print(md)
        return 0
    except Die as e:
        say(str(e))
        return 1
    except Interrupted:
        say("interrupted")
        return 130
    finally:
        if bench:
            bench.stop_all()
        if work and o.keep:
            say(f"kept {work}")
        elif work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
