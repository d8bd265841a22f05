"""The options and environment of bench/run.py, checked, and the scenario x server matrix."""
import argparse
import os
import re
import sys
from dataclasses import dataclass

from .common import PROG, seconds

ALL_SCENARIOS = ["cc", "refresh", "code", "me-warm", "me-cold", "introspect", "mixed",
                 "login-storm", "search", "albums", "search-uncached"]
ALL_SERVERS = ["hello", "hello-sign", "hello-durable", "hello-verify", "stagepass", "glewlwyd", "glewlwyd-1k", "oidc-jwt", "oidc-opaque"]
SERVER_GROUPS = {"peers": ["glewlwyd", "glewlwyd-1k", "oidc-jwt", "oidc-opaque"],
                 "oidc": ["oidc-jwt", "oidc-opaque"]}
# What a growth run measures unless --only says otherwise: the scenarios that read or write
# the stored tokens and grants (me-warm and the login storm hit caches and Argon2id).
GROWTH_SCENARIOS = "cc,refresh,code,me-cold,introspect,mixed"
# Which servers take part in which scenario. hello is the scenario's own HTTP ceiling: within
# each round it runs the very requests of stagepass's row (same script, same headers, bodies
# of the same length: bench/harness/shapes.py) right before or after the others, and the
# row's "/ ceiling" is the median of those per-round ratios. The order is reversed every
# other round, so neither side always runs first. hello-sign (`stagepass-bench-hello --sign`)
# runs the same requests and signs one EdDSA token per answer: the bound of a grant (a server
# that mints a token and does nothing else), paired the same way ("/ signature bound");
# hello-durable (`--durable FILE`) signs one token and makes one new row durable per answer
# (stagepass's accounts writer alone: SQLite, WAL, synchronous=FULL, group commit): the bound
# of a durable grant on this disk (rows 2 and 3, "/ durable bound");
# hello-verify (`--verify`) checks the signature of each request's bearer token instead: the
# bound of a Web API call with a token the server has not seen (row 5).
MATRIX = {
    "cc": ["hello", "hello-sign", "stagepass", "glewlwyd", "glewlwyd-1k", "oidc-jwt",
           "oidc-opaque"],
    # hello-durable after stagepass: both bounds run next to it, whichever way a round goes.
    "refresh": ["hello", "hello-sign", "stagepass", "hello-durable"],
    "code": ["hello", "hello-sign", "stagepass", "hello-durable"],
    "me-warm": ["hello", "stagepass"],
    "me-cold": ["hello", "hello-verify", "stagepass"],
    "introspect": ["hello", "stagepass", "glewlwyd", "glewlwyd-1k", "oidc-opaque"],
    "mixed": ["hello", "stagepass"],
    "login-storm": ["hello", "stagepass"],
    "search": ["hello", "stagepass"],
    "albums": ["hello", "stagepass"],
    "search-uncached": ["hello", "stagepass"],
}
# The servers of a growth run: stagepass, and hello beside it in each round unless --servers
# leaves hello out (then the rows are not paired).
GROWTH_SERVERS = ["hello", "stagepass"]

ENVIRONMENT = """\
environment (defaults): BUILD_DIR=build-bench WRK_THREADS=2 WRK_CONNECTIONS=64
  WRK_DURATION=10s WRK_WARMUP=2s RUNS=1 INTROSPECT_POOL=200 LOGIN_CONNECTIONS=4
  MIXED_TOKENS=10000 POOL_FACTOR=1.5 GROWTH_CACHE_MIB=8192 CATALOG_SCALE=1.0
See bench/README.md (Performance) for what each column means."""


@dataclass
class Settings:
    root: str  # the repository; the harness runs there
    bench_dir: str
    build_dir: str  # as given (relative to root by default): passed on to report.py
    build: bool
    quick: bool
    keep: bool
    scenarios: list
    servers: set
    growth_sizes: list
    data_parent: str
    runs: int
    rounds: int
    wrk_threads: int
    wrk_connections: int
    wrk_duration: str
    wrk_warmup: str
    introspect_pool: int
    login_connections: int
    mixed_tokens: int
    pool_factor: float
    growth_cache_mib: str
    catalog_scale: str  # STAGEPASS_CATALOG_SCALE of the run's stagepass
    dur_s: float  # WRK_DURATION and WRK_WARMUP in seconds, for sizing the pools
    warm_s: float

    def build_path(self, *parts):
        return os.path.join(self.root, self.build_dir, *parts)


class UsageError(Exception):
    pass


def parser(description):
    p = argparse.ArgumentParser(
        prog="bench/run.py", allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=description, epilog=ENVIRONMENT)
    p.add_argument("--no-build", dest="build", action="store_false",
                   help="use the binaries already in $BUILD_DIR")
    p.add_argument("--quick", action="store_true",
                   help="1 measured run of 3 s after a 1 s warm-up (WRK_* variables still win)")
    p.add_argument("--only", metavar="SCENARIO[,...]", default="",
                   help="scenarios (names or numbers): 1 cc, 2 refresh, 3 code, 4 me-warm, "
                   "5 me-cold, 6 introspect, 7 mixed, 8 login-storm, 9 search, 10 albums, "
                   "11 search-uncached")
    p.add_argument("--servers", metavar="SERVER[,...]", default="",
                   help="hello, hello-sign, hello-durable, hello-verify, stagepass, glewlwyd, glewlwyd-1k, oidc-jwt, oidc-opaque; "
                   "\"peers\" = the last four, \"oidc\" = both oidc-provider modes")
    p.add_argument("--runs", metavar="N",
                   help="measured runs per scenario, server and round (default 1)")
    p.add_argument("--rounds", metavar="N", default="3",
                   help="go through the whole matrix N times (default 3), each time with a fresh "
                   "server, a warm-up and --runs runs; rows aggregate every round. Within a "
                   "round the servers of a scenario (its hello ceiling included) run back to "
                   "back, in reverse order every other round; the ratios are medians of the "
                   "per-round ratios")
    p.add_argument("--data-dir", metavar="DIR", default="",
                   help="where the databases live (stagepass's and glewlwyd's alike): a fresh "
                   "directory is made inside DIR and removed at the end (default "
                   "$BUILD_DIR/bench-data, on the build's disk; /dev/shm for tmpfs)")
    p.add_argument("--keep-data", dest="keep", action="store_true",
                   help="keep that directory (databases, pools, logs) for inspection")
    p.add_argument("--growth", metavar="SIZE[,...]", default="",
                   help="a growth run instead: stagepass, paired in each round with its hello "
                   "ceiling (unless --servers leaves hello out), for each size (10k, 1m, 10m, or "
                   "a number) on a store first filled with that many refresh tokens (ten per "
                   "grant) by the seed tool, then the scenarios of --only (default "
                   f"{GROWTH_SCENARIOS}); GROWTH_CACHE_MIB (8192) is the filler's page cache")
    return p


def _positive(name, value):
    if not re.fullmatch(r"[1-9][0-9]*", str(value)):
        raise UsageError(f"{name} must be a positive integer")
    return int(value)


def _growth_sizes(text):
    sizes = []
    for g in text.split(","):
        mult = {"k": 1000, "m": 1000000}.get(g[-1:].lower(), 1)
        n = g[:-1] if mult > 1 else g
        if not re.fullmatch(r"[1-9][0-9]*", n):
            raise UsageError(f"bad growth size '{g}'")
        sizes.append(int(n) * mult)
    return sizes


def _scenarios(only):
    if not only:
        return list(ALL_SCENARIOS)
    chosen = []
    for s in only.split(","):
        if re.fullmatch(r"[1-9]|1[01]", s):
            s = ALL_SCENARIOS[int(s) - 1]
        if s not in MATRIX:
            raise UsageError(f"unknown scenario '{s}' ({' '.join(ALL_SCENARIOS)})")
        chosen.append(s)
    return chosen


def _servers(servers):
    if not servers:
        return set(ALL_SERVERS)
    chosen = set()
    for s in servers.split(","):
        if s in SERVER_GROUPS:
            chosen.update(SERVER_GROUPS[s])
        elif s in ALL_SERVERS:
            chosen.add(s)
        else:
            raise UsageError(f"unknown server '{s}' ({' '.join(ALL_SERVERS)}, peers, oidc)")
    return chosen


def parse(argv, env, description=None):
    """Settings from the command line and the environment; exits 2 on a usage error."""
    a = parser(description).parse_args(argv)
    bench_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # --quick lowers the defaults; variables set in the environment still win.
    d = {"WRK_THREADS": "2", "WRK_CONNECTIONS": "64", "WRK_DURATION": "10s", "WRK_WARMUP": "2s",
         "RUNS": "1", "INTROSPECT_POOL": "200", "LOGIN_CONNECTIONS": "4", "MIXED_TOKENS": "10000",
         "POOL_FACTOR": "1.5", "GROWTH_CACHE_MIB": "8192", "BUILD_DIR": "build-bench",
         "CATALOG_SCALE": "1.0"}
    if a.quick:
        d.update({"WRK_DURATION": "3s", "WRK_WARMUP": "1s", "RUNS": "1", "INTROSPECT_POOL": "50",
                  "MIXED_TOKENS": "2000"})
    v = {k: env.get(k) or default for k, default in d.items()}
    try:
        growth_sizes = _growth_sizes(a.growth) if a.growth else []
        only = a.only or (GROWTH_SCENARIOS if growth_sizes else "")
        servers = _servers(a.servers)
        if growth_sizes and "stagepass" not in servers:
            raise UsageError("a growth run measures stagepass: --servers must include it")
        for name in ("POOL_FACTOR", "CATALOG_SCALE"):
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", v[name]):
                raise UsageError(f"{name} must be a number")
        try:
            dur_s, warm_s = seconds(v["WRK_DURATION"]), seconds(v["WRK_WARMUP"])
        except ValueError:
            raise UsageError("WRK_DURATION and WRK_WARMUP are durations like 10s, 500ms, 1m")
        return Settings(
            root=os.path.dirname(bench_dir), bench_dir=bench_dir, build_dir=v["BUILD_DIR"],
            build=a.build, quick=a.quick, keep=a.keep, scenarios=_scenarios(only),
            servers=servers, growth_sizes=growth_sizes,
            data_parent=a.data_dir or os.path.join(v["BUILD_DIR"], "bench-data"),
            runs=_positive("RUNS", a.runs or v["RUNS"]), rounds=_positive("--rounds", a.rounds),
            wrk_threads=_positive("WRK_THREADS", v["WRK_THREADS"]),
            wrk_connections=_positive("WRK_CONNECTIONS", v["WRK_CONNECTIONS"]),
            wrk_duration=v["WRK_DURATION"], wrk_warmup=v["WRK_WARMUP"],
            introspect_pool=_positive("INTROSPECT_POOL", v["INTROSPECT_POOL"]),
            login_connections=_positive("LOGIN_CONNECTIONS", v["LOGIN_CONNECTIONS"]),
            mixed_tokens=_positive("MIXED_TOKENS", v["MIXED_TOKENS"]),
            pool_factor=float(v["POOL_FACTOR"]), growth_cache_mib=v["GROWTH_CACHE_MIB"],
            catalog_scale=v["CATALOG_SCALE"],
            dur_s=dur_s, warm_s=warm_s)
    except UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(2)
