#!/usr/bin/env python3
"""The side-by-side harness (issue 6). Builds Release with the benchmarks, starts stagepass once
to learn the shape of its requests (bench/harness/shapes.py), then ROUNDS times (default 3)
for every scenario: for each of its servers in turn, its own HTTP ceiling (hello, sent the
very same requests) included, in reverse order every other round: starts the server on
127.0.0.1, prepares what the scenario consumes, runs one wrk warm-up and RUNS (default 1)
measured wrk runs, and measures the server's CPU time per request
(utime+stime from /proc/PID/stat around each measured run) and its peak RSS (VmHWM from
/proc/PID/status before it is stopped). Writes $BUILD_DIR/results.md, $BUILD_DIR/results.json
(every run, plus the settings) and, when gnuplot is installed, $BUILD_DIR/results.png; wrk's
own reports go to $BUILD_DIR/results-wrk.log. A growth run (--growth) pairs
stagepass with hello the same way at each size and writes results-growth.md and
results-growth.json instead. Loopback only.

Each scenario/server pair is a row: a failure is recorded ("Did not complete") and the run
goes on. SIGINT or SIGTERM stops every server and load generator and writes no report.
Needs wrk and python3 (standard library only; the modules are in bench/harness/)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

from harness import servers
from harness import settings as settings_mod
from harness.common import Die, Interrupted, Results, Run, cpu_idle_percent, say
from harness.pair import Pair
from harness.servers import StagepassSite
from harness.shapes import Shapes


def on_signal(signum, frame):
    # Once: the cleanup that follows (stopping servers, at most ~10 s each) is not cut short.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    raise Interrupted()


def build(s):
    for cmd in (["cmake", "-G", "Ninja", "-S", ".", "-B", s.build_dir, "-DCMAKE_BUILD_TYPE=Release",
                 "-DSTAGEPASS_BENCH=ON", "-DSTAGEPASS_TESTS=OFF"],
                ["cmake", "--build", s.build_dir]):
        status = subprocess.run(cmd).returncode
        if status != 0:
            sys.exit(status)


def one_pair(run, scenario, server, round_no=1):
    """One row, whose server is stopped whatever happens; a failure is recorded, not fatal."""
    say(f"---- {scenario} / {server}" + (f" / {run.growth_size} stored" if run.growth_size else ""))
    pair = Pair(run, scenario, server, round_no)
    status = 0
    try:
        pair.execute()
    except (Die, OSError) as e:  # OSError: a tool that is missing or cannot run
        say(str(e))
        status = 1
    except Exception:  # a bug or an unexpected tool failure: this row only
        traceback.print_exc()
        status = 1
    finally:
        pair.stop()
    if status:
        say(f"{scenario} / {server} failed (status {status}); going on")
        failed = {"type": "failed", "scenario": scenario, "server": server, "status": status,
                  "round": round_no}
        if run.growth_size:
            failed["size"] = run.growth_size
        run.results.append(failed)


def measure(run):
    s = run.settings
    if s.growth_sizes:
        measure_growth(run)
        return
    if s.servers & set(servers.CEILINGS):
        run.shapes.calibrate(run)
    for round_no in range(1, s.rounds + 1):
        if s.rounds != 1:
            say(f"==== round {round_no} of {s.rounds}")
        for scenario in s.scenarios:
            one_round(run, scenario, settings_mod.MATRIX[scenario], round_no)


def one_round(run, scenario, candidates, round_no):
    """The scenario's servers back to back, its ceiling (hello) first in odd rounds and last in
    even ones: the pairs of the per-round ratios are A/B, B/A, A/B ..."""
    names = [n for n in candidates if n in run.settings.servers]
    for server in names if round_no % 2 else reversed(names):
        one_pair(run, scenario, server, round_no)


def fill(run):
    """Fills the size's store (a stagepass start does it once: servers._fill) before its first
    pair, so the filling never falls between a row and its ceiling. A failure here is left to
    the pairs, which then try again and are recorded as failed."""
    server = servers.Server("stagepass")
    try:
        servers.start(run, server)
    except (Die, OSError) as e:
        say(f"filling the store of {run.growth_size} failed: {e}")
    finally:
        servers.stop(run, server)


def measure_growth(run):
    """The same stagepass scenarios over stores that already hold more and more, each row
    paired in each round with its hello ceiling (hello needs no store): rows of different
    sizes, measured minutes apart, are compared through their ratios to their own ceilings."""
    s = run.settings
    if "hello" in s.servers:
        run.shapes.calibrate(run)  # on a store of its own, removed: each size makes its client
        shutil.rmtree(run.site.dir, ignore_errors=True)
    for size in s.growth_sizes:
        run.growth_size = size
        run.site.use_dir(run.path(f"stagepass-{size}"))
        fill(run)
        for round_no in range(1, s.rounds + 1):
            for scenario in s.scenarios:
                one_round(run, scenario, settings_mod.GROWTH_SERVERS, round_no)
        shutil.rmtree(run.site.dir, ignore_errors=True)  # the next size starts empty
    run.growth_size = None


def report(run, idle_before):
    s = run.settings
    git = subprocess.run(["git", "describe", "--always", "--dirty"], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    settings = {
        "git_revision": git.stdout.strip() if git.returncode == 0 else "unknown",
        "cpu_idle_percent_before": idle_before, "nproc": len(os.sched_getaffinity(0)),
        "wrk": {"threads": s.wrk_threads, "connections": s.wrk_connections,
                "duration": s.wrk_duration, "warmup": s.wrk_warmup, "runs": s.runs,
                "rounds": s.rounds},
        "data_dir_fstype": run.fstype, "pool_factor": s.pool_factor,
        "introspect_pool": s.introspect_pool, "login_connections": s.login_connections,
        "mixed_tokens": s.mixed_tokens, "quick": s.quick, "catalog_scale": s.catalog_scale,
        "artist_id": run.shapes.artist_id}
    return subprocess.run([sys.executable, os.path.join(s.bench_dir, "report.py"),
                           run.results.path, s.build_dir, "--settings",
                           json.dumps(settings)]).returncode


def main(argv=None):
    s = settings_mod.parse(argv, os.environ, __doc__)
    os.chdir(s.root)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    work = None
    try:
        if s.build:
            build(s)
        for name in ("stagepass-bench-hello", "stagepass", "stagepass-bench-seed"):
            if not os.access(s.build_path(name), os.X_OK):
                raise Die(f"{s.build_path(name)} not found (build first, or drop --no-build)")
        if not shutil.which("wrk"):
            raise Die("wrk not found (apt-get install wrk)")
        os.makedirs(s.data_parent, exist_ok=True)
        work = os.path.abspath(tempfile.mkdtemp(prefix="run.", dir=s.data_parent))
        fstype = subprocess.run(["df", "--output=fstype", work], text=True,
                                stdout=subprocess.PIPE).stdout.split()[-1]
        wrk_log = s.build_path("results-wrk.log")
        open(wrk_log, "w").close()
        run = Run(settings=s, work=work, fstype=fstype, wrk_log=wrk_log,
                  results=Results(os.path.join(work, "results.jsonl")), site=StagepassSite(s),
                  shapes=Shapes())
        run.site.use_dir(run.path("stagepass"))
        idle = cpu_idle_percent()
        if idle < 90:
            say(f"warning: CPU only {idle}% idle before the loads: figures will be low")
        say(f"data in {work} ({fstype}); wrk's reports in {wrk_log}")
        measure(run)
        return report(run, idle)
    except Die as e:
        say(str(e))
        return 1
    except Interrupted:
        say("interrupted")
        return 130
    finally:
        if work and s.keep:
            say(f"kept {work}")
        elif work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
