"""Starting and stopping the servers of the side-by-side runs, each on a free 127.0.0.1 port:
stagepass, stagepass-bench-hello (the HTTP ceiling) and the peers (bench/peers/). Each start
appends a "server" record (storage and notes) to the results."""
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass

from .common import Die, basic, die, free_port, pid_alive, read_json_line, request, say, tail

REDIRECT_URI = "http://127.0.0.1:9/cb"


class StagepassSite:
    """The stagepass of a run: one loopback port for the whole run and one data directory
    (per size in a growth run) whose database outlives the server's restarts."""

    def __init__(self, settings):
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = None
        self.filled = None  # growth runs: the filled store's unused refresh tokens (a file)

    def use_dir(self, directory):
        self.dir = directory
        if self.filled:
            self.filled.close()
            self.filled = None

    def draw_filled(self, count, path):
        """Writes up to COUNT of the filled store's refresh tokens not handed out yet to PATH
        (the file was shuffled once: consecutive lines are a random sample of the whole store);
        returns how many."""
        if not self.filled:
            with open(path, "w"):
                return 0
        with open(path, "w") as out:
            for n in range(count):
                line = self.filled.readline()
                if not line:
                    return n
                out.write(line)
        return count

    def env(self):
        return {
            "STAGEPASS_LISTEN": f"127.0.0.1:{self.port}",
            "STAGEPASS_ISSUER": self.url,
            "STAGEPASS_DATABASE": os.path.join(self.dir, "stagepass.db"),
            "STAGEPASS_MASTER_KEY_FILE": os.path.join(self.dir, "master.key"),
            "STAGEPASS_ACCESS_LOG": "off",
            "STAGEPASS_CATALOG_SCALE": self.settings.catalog_scale,
            "STAGEPASS_RATE_LIMIT": "1000000000",
            # The search row spends ~100 units a call: no app reaches a day's quota in a run.
            "STAGEPASS_API_DAILY_QUOTA": "1000000000000",
            "STAGEPASS_CODE_TTL": "3600",  # seeded codes wait for their run
            # /metrics on the public listener, where the harness reads the writer's time
            # (empty: unset, whatever the caller's shell says).
            "STAGEPASS_ADMIN_LISTEN": "",
        }

    def seed(self, client_id, *args, stdout=subprocess.PIPE):
        """stagepass-bench-seed with the server's settings; returns its JSON line (text)."""
        r = subprocess.run([self.settings.build_path("stagepass-bench-seed"), "--client-id",
                            client_id, *map(str, args)],
                           env={**os.environ, **self.env()}, stdout=stdout, text=True)
        if r.returncode != 0:
            die("seeding failed")
        return (r.stdout or "").strip()


@dataclass
class Server:
    """A started server: where it listens, how a client authenticates, how to stop it."""
    name: str
    base_url: str = ""
    token_path: str = "/api/token"
    introspect_path: str = ""
    scope: str = ""
    client_id: str = ""
    client_secret: str = ""
    pid: int = 0
    proc: subprocess.Popen | None = None  # our child; None for glewlwyd (its own session)
    glewlwyd_dir: str = ""
    stored_refresh: int | None = None  # growth runs: refresh tokens stored when it started

    def alive(self):
        return self.proc.poll() is None if self.proc else pid_alive(self.pid)

    def spawn(self, argv, env, stdout, stderr):
        self.proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr)
        self.pid = self.proc.pid

    def wait_ok(self, url, log, seconds=30, status=200):
        """Waits up to SECONDS for URL to answer STATUS while the server lives."""
        for _ in range(10 * seconds):
            try:
                if request("GET", url, timeout=5)[0] == status:
                    return
            except OSError:
                pass
            if not self.alive():
                sys.stderr.write(tail(log, 20))
                die(f"server exited before {url} answered {status}")
            time.sleep(0.1)
        sys.stderr.write(tail(log, 20))
        die(f"{url} did not answer {status} within {seconds} s")


# The servers that stand for a bound, not a product: they get stagepass's requests.
CEILINGS = ("hello", "hello-sign", "hello-durable", "hello-verify")


def start(run, server):
    """Starts SERVER (already registered with its pair, so a failure still stops it)."""
    {"hello": _hello, "hello-sign": lambda r, s: _hello(r, s, sign=True),
     "hello-durable": lambda r, s: _hello(r, s, durable=True),
     "hello-verify": lambda r, s: _hello(r, s, verify=True),
     "stagepass": _stagepass,
     "glewlwyd": lambda r, s: _glewlwyd(r, s, ""),
     "glewlwyd-1k": lambda r, s: _glewlwyd(r, s, "1000"),
     "oidc-jwt": lambda r, s: _oidc(r, s, "jwt"),
     "oidc-opaque": lambda r, s: _oidc(r, s, "opaque")}[server.name](run, server)


def stop(run, server):
    """SIGTERM by PID and SIGKILL after 10 s; glewlwyd through peers/glewlwyd.sh stop."""
    if server.glewlwyd_dir:
        subprocess.run([os.path.join(run.settings.bench_dir, "peers", "glewlwyd.sh"), "stop",
                        server.glewlwyd_dir], stdout=sys.stderr.fileno())
        return
    if not server.proc:
        return
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        say(f"PID {server.pid} still alive 10 s after SIGTERM: SIGKILL")
        server.proc.kill()
        server.proc.wait()


def _hello(run, server, sign=False, verify=False, durable=False):
    port = free_port()
    log = run.path("hello.log")
    database = None
    if durable:
        # A new database for every start, on the file system of stagepass's.
        database = os.path.join(run.site.dir, "hello-durable.db")
        os.makedirs(run.site.dir, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(database + suffix):
                os.remove(database + suffix)
    # --verify: the key pair of the run's seed, whose tokens run.shapes mints (environment,
    # not argv).
    env = {**os.environ, "HELLO_KEY_SEED": run.shapes.verify_seed} if verify else None
    with open(log, "w") as out:
        server.spawn([run.settings.build_path("stagepass-bench-hello"), "--listen",
                      f"127.0.0.1:{port}"] + (["--sign"] if sign else [])
                     + (["--durable", database] if durable else [])
                     + (["--verify"] if verify else []), env, out, subprocess.STDOUT)
    server.base_url = f"http://127.0.0.1:{port}"
    # With --verify a request without a token is refused: 401 says it is up.
    server.wait_ok(server.base_url + "/", log, status=401 if verify else 200)
    # The stagepass client's id and secret (run.shapes): the same Authorization header.
    server.client_id = run.shapes.client_id or "bench"
    server.client_secret = run.shapes.client_secret or "bench"
    if verify:
        run.results.append({"type": "server", "server": "hello-verify", "storage": "none",
                            "notes": "hello that verifies the Ed25519 signature of each "
                            "request's bearer token (libsodium, tokens as long as stagepass's) "
                            "and answers 200 \"hello\": the bound of a Web API call with a "
                            "token never seen before"})
        return
    if durable:
        run.results.append({"type": "server", "server": "hello-durable",
                            "storage": "SQLite file, WAL, synchronous=FULL",
                            "notes": "hello that signs one EdDSA token per answer, as hello-sign, "
                            "and answers only once one new row (the token's digest and claims) "
                            "is committed by stagepass's accounts writer alone (its SQLite "
                            "settings and priority; every row queued during a commit goes in "
                            "the next: group commit): the bound of a durable grant on this "
                            "disk"})
        return
    if sign:
        run.results.append({"type": "server", "server": "hello-sign", "storage": "none",
                            "notes": "hello that signs one EdDSA token (libsodium Ed25519, "
                            "~260 bytes of claims) per answer and returns it: the bound of a "
                            "grant"})
        return
    run.results.append({"type": "server", "server": "hello", "storage": "none", "notes": (
        'bare Boost.Beast server, same I/O model as stagepass, answers 200 "hello" to every '
        "request: the HTTP ceiling")})


def _stagepass(run, server):
    site = run.site
    os.makedirs(site.dir, exist_ok=True)
    env = {**os.environ, **site.env()}
    log = os.path.join(site.dir, "serve.log")
    with open(log, "a") as out:
        server.spawn([run.settings.build_path("stagepass"), "serve"], env, out, subprocess.STDOUT)
    server.base_url = site.url
    # The first start of a run generates the catalog (scale 1.0: ~5 s here; slower when busy).
    server.wait_ok(site.url + "/healthz", log, 600)
    # One confidential client for the whole run (the database outlives the restarts).
    client = os.path.join(site.dir, "client.json")
    if not os.path.exists(client):
        with open(client + ".tmp", "w") as out:
            subprocess.run([run.settings.build_path("stagepass"), "admin", "client", "create",
                            "--name", "bench", "--redirect-uri", REDIRECT_URI, "--json"],
                           env=env, stdout=out, check=True)
        os.replace(client + ".tmp", client)
    c = read_json_line(client)
    server.client_id, server.client_secret = c["client_id"], c["client_secret"]
    server.introspect_path = "/api/introspect"
    if run.growth_size:
        _fill(run, server)
    run.results.append({
        "type": "server", "server": "stagepass",
        "storage": f"SQLite (WAL, synchronous=FULL: an fsync per commit) in {site.dir} "
                   f"({run.fstype})",
        "notes": "client secret: SHA-256; refresh tokens and codes stored hashed; access tokens "
                 "EdDSA JWTs (not stored)"})


def _fill(run, server):
    """A growth run's store gets run.growth_size refresh tokens (ten per grant and user) once,
    straight through the store layer, before its first scenario. Their raw values go to
    filled-refresh.txt, shuffled, and the refresh pools are drawn from it (site.draw_filled):
    the measured requests look up tokens all over the filled store. Every pair then records
    how many refresh tokens the store holds when it starts."""
    site = run.site
    filled = os.path.join(site.dir, "filled.json")
    values = os.path.join(site.dir, "filled-refresh.txt")
    database = os.path.join(site.dir, "stagepass.db")
    if not os.path.exists(filled):
        say(f"growth: filling {site.dir} with {run.growth_size} refresh tokens")
        with open(filled + ".tmp", "w") as out:
            try:
                site.seed(server.client_id, "--refresh", run.growth_size, "--refresh-out",
                          values, "--per-grant", 10, "--no-profiles", "--batch", 100000,
                          "--cache-mib", run.settings.growth_cache_mib, stdout=out)
            except Die:
                die("filling the store failed")
        started = time.monotonic()
        if subprocess.run(["shuf", "-o", values, values]).returncode != 0:
            die(f"cannot shuffle {values}")
        r = read_json_line(filled + ".tmp")
        os.replace(filled + ".tmp", filled)
        run.results.append({"type": "fill", "size": run.growth_size, "seconds": r["seconds"],
                            "shuffle_seconds": time.monotonic() - started,
                            "database_bytes": os.path.getsize(database)})
        site.filled = open(values)
        # One of them by hand (it is spent): the filled tokens must be accepted.
        token = site.filled.readline().strip()
        status, _, body = request("POST", site.url + "/api/token",
                                  {"Authorization": basic(server.client_id, server.client_secret),
                                   "Content-Type": "application/x-www-form-urlencoded"},
                                  f"grant_type=refresh_token&refresh_token={token}")
        if status != 200:
            die(f"a filled refresh token was refused ({status}): {body[:200]!r}")
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        # Live refresh tokens: one row per chain (refresh_families, issue17:family), plus any
        # token of the older per-token shape.
        server.stored_refresh = db.execute(
            "SELECT (SELECT count(*) FROM refresh_families) + "
            "(SELECT count(*) FROM refresh_tokens WHERE rotated_at IS NULL)").fetchone()[0]
    finally:
        db.close()


def _peer_fields(server, info):
    server.base_url, server.token_path = info["base_url"], info["token_path"]
    server.scope = info["scope"]
    server.introspect_path = urllib.parse.urlsplit(info["introspection_url"]).path
    server.client_id, server.client_secret = info["client_id"], info["client_secret"]


def _glewlwyd(run, server, iterations):
    port = free_port()
    workdir = run.path("glewlwyd")
    out = run.path("glewlwyd.json")
    server.glewlwyd_dir = workdir  # glewlwyd.sh stop: whatever start left running, if anything
    with open(out, "w") as f:
        r = subprocess.run([os.path.join(run.settings.bench_dir, "peers", "glewlwyd.sh"), "start",
                            str(port), workdir],
                           env={**os.environ, "GLEWLWYD_PBKDF2_ITERATIONS": iterations}, stdout=f)
    if r.returncode != 0:
        die(f"glewlwyd did not start (see {workdir}/glewlwyd.log)")
    info = read_json_line(out)
    server.pid = int(info["pid"])
    _peer_fields(server, info)
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "glewlwyd"], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    run.results.append({
        "type": "server", "server": server.name,
        "storage": f"SQLite (autocommit: an fsync per token insert) in "
                   f"{workdir}/glewlwyd.db ({run.fstype})",
        "notes": f"Debian glewlwyd {version.stdout if version.returncode == 0 else '?'}; "
                 f"client secret: PBKDF2 {info['pbkdf2_iterations']} iterations; access tokens "
                 "EdDSA JWTs, each also stored"})


def _oidc(run, server, mode):
    directory = os.path.join(run.settings.bench_dir, "peers", "oidc-provider")
    if not os.path.isdir(os.path.join(directory, "node_modules", "oidc-provider")):
        say(f"installing oidc-provider (npm ci in {directory})")
        if subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=directory,
                          stdout=sys.stderr.fileno()).returncode != 0:
            die(f"npm ci failed in {directory}")
    port = free_port()
    out, log = run.path(f"oidc-{mode}.json"), run.path(f"oidc-{mode}.log")
    with open(out, "w") as o, open(log, "w") as e:
        server.spawn(["node", os.path.join(directory, "server.mjs"), str(port), mode], None, o, e)
    for _ in range(300):
        if os.path.getsize(out):
            break
        if not server.alive():
            sys.stderr.write(tail(log, 1000))
            die("oidc-provider exited")
        time.sleep(0.1)
    if not os.path.getsize(out):
        die("oidc-provider did not print its JSON line within 30 s")
    info = read_json_line(out)
    _peer_fields(server, info)
    node = subprocess.run(["node", "--version"], text=True, stdout=subprocess.PIPE).stdout.strip()
    run.results.append({
        "type": "server", "server": server.name,
        "storage": "in memory only (development LRU adapter, 1000 entries; nothing survives a "
                   "restart)",
        "notes": f"oidc-provider {info['version']} on Node {node}; client secret compared in "
                 "plaintext; " + ("access tokens EdDSA JWTs, not stored" if mode == "jwt"
                                  else "opaque access tokens in the LRU")})
