"""One row of the table: a scenario against one server. Starts the server, checks one request
by hand (a benchmark of errors measures nothing), prepares what the scenario consumes, runs
one wrk warm-up and RUNS measured runs, reading the server's CPU time around each, then its
peak RSS; the server and the load generators are stopped whatever happens (Pair.stop)."""
import glob
import json
import math
import os
import re
import subprocess
import sys
import time

from . import servers
from .common import (basic, cpu_ticks, die, form, last_json, peak_rss_kb, request, say, tail,
                     thread_schedstat)
from .servers import REDIRECT_URI
from .shapes import SEARCH_PATH, SEARCH_WALK, pick_artist, search_walk_env, shuffle_file


# The single-use scenarios (each request spends a seeded value) and the first guess of their
# rate (req/s), before a phase has measured it.
FIRST_ESTIMATE = {"refresh": 8000, "code": 8000, "me-cold": 15000, "mixed": 20000}


def pool_for(rps, secs, factor, connections, share=1.0):
    """How many single-use values a phase needs: the rate times the duration times
    POOL_FACTOR (times SHARE, the fraction of requests that use the pool), plus some slack
    for the requests in flight when wrk stops."""
    return int(math.ceil(float(rps) * secs * factor * share)) + 2 * connections


def next_estimate(rps, exhausted, old, floor):
    """The rate the next pool is sized for: the last phase's, never below FLOOR (a short
    warm-up on a busy machine can be much slower than the runs after it). A phase that ran
    dry measured partly cheap refusals: twice the larger of it and the previous estimate."""
    return round(2 * max(rps, old)) if exhausted else round(max(rps, floor))


class Pair:
    def __init__(self, run, scenario, server_name, round_no=1):
        self.run, self.s = run, run.settings
        self.scenario, self.server_name = scenario, server_name
        self.round_no = round_no
        self.server = None
        self.env = {}  # exported to wrk (the scripts read their parameters from it)
        self.script = self.url = None
        self.storm = False
        self.pool_size = 0
        # Growth runs: of the refresh_count refresh tokens of the pool, those drawn from the
        # filled store.
        self.from_store = self.refresh_count = 0
        self.est = 0
        self.last_rps, self.last_exhausted = 0.0, 0
        self.wrk_proc = self.storm_proc = None

    def wrk(self, name):
        return os.path.join(self.s.bench_dir, "wrk", name)

    def seed(self, *args, stdout=subprocess.PIPE):
        return self.run.site.seed(self.server.client_id, *args, stdout=stdout)

    def expect_status(self, want, method, url, headers=None, body=None):
        """One request by hand before a load; returns the body."""
        try:
            status, _, payload = request(method, url, headers, body)
        except OSError as e:
            status, payload = 0, str(e).encode()
        with open(self.run.path("probe.out"), "wb") as f:
            f.write(payload)
        if status != want:
            die(f"probe answered {status:03d}, not {want}: "
                f"{payload[:300].decode(errors='replace')}")
        return payload

    def token_post(self, url, fields):
        auth = {"Authorization": basic(self.server.client_id, self.server.client_secret)}
        return self.expect_status(200, "POST", url, auth, form(fields))

    # -- the row ------------------------------------------------------------------------------

    def execute(self):
        self.server = servers.Server(self.server_name)
        servers.start(self.run, self.server)
        self.env.update({"CLIENT_ID": self.server.client_id,
                         "CLIENT_SECRET": self.server.client_secret})
        self.prepare()
        self.measure()
        peak = {"type": "peak", "scenario": self.scenario, "server": self.server_name,
                "round": self.round_no, "peak_rss_kb": peak_rss_kb(self.server.pid)}
        if self.run.growth_size:
            peak["size"] = self.run.growth_size
        self.run.results.append(peak)
        self.remove_pools()

    def prepare(self):
        """Checks one request by hand and points wrk at the scenario's script and URL."""
        scen, srv = self.scenario, self.server
        if self.server_name in servers.CEILINGS:
            # The very script and environment of stagepass's row (run.shapes), with placeholders.
            self.script, self.url, env = self.run.shapes.ceiling(self.run, scen, srv.base_url,
                                                                 self.server_name)
            self.env.update(env)
            if self.server_name == "hello-verify":
                self.probe_verify(env["POOL_FILE"])
        elif scen == "cc":
            self.token_post(srv.base_url + srv.token_path,
                            [("grant_type", "client_credentials")]
                            + ([("scope", srv.scope)] if srv.scope else []))
            self.env.update({"TOKEN_PATH": srv.token_path, "SCOPE": srv.scope})
            self.script = os.path.join(self.s.bench_dir, "peers", "client_credentials.lua")
            self.url = srv.base_url
        elif scen in ("refresh", "code", "me-cold"):
            self.probe_stagepass_seed()
            self.script, self.url = {
                "refresh": (self.wrk("refresh.lua"), srv.base_url),
                "code": (self.wrk("code_exchange.lua"), srv.base_url),
                "me-cold": (self.wrk("bearer_pool.lua"), srv.base_url + "/v1/me")}[scen]
        elif scen in ("me-warm", "login-storm"):
            self.prepare_me(srv)
            if scen == "login-storm":
                self.prepare_storm(srv)
        elif scen == "introspect":
            self.prepare_introspect(srv)
        elif scen == "mixed":
            self.probe_stagepass_seed()
            tokens = self.run.path("mixed-tokens.txt")
            self.seed("--access", self.s.mixed_tokens, "--access-out", tokens, "--per-grant", 1,
                      stdout=subprocess.DEVNULL)
            shuffle_file(tokens)
            self.env["TOKEN_FILE"] = tokens
            self.script, self.url = self.wrk("mixed.lua"), srv.base_url
        elif scen in ("search", "albums"):
            self.prepare_catalog_read(srv)
        elif scen == "search-uncached":
            self.prepare_search_walk(srv)

    def prepare_catalog_read(self, srv):
        """GET of the search or an artist's albums with a client-credentials token (the client's
        rate limit is STAGEPASS_RATE_LIMIT, 10^9); the probe must list items."""
        answer = self.token_post(srv.base_url + "/api/token", [("grant_type", "client_credentials")])
        token = json.loads(answer)["access_token"]
        shapes = self.run.shapes
        if self.scenario == "albums" and not shapes.artist_id:
            shapes.artist_id = pick_artist(srv.base_url, token)
        path = SEARCH_PATH if self.scenario == "search" else shapes.albums_path()
        body = json.loads(self.expect_status(200, "GET", srv.base_url + path,
                                             {"Authorization": f"Bearer {token}"}))
        items = body["tracks"] if self.scenario == "search" else body
        if not items.get("items"):
            die(f"GET {path} answered no items")
        say(f"{self.scenario}: GET {path}: {len(items['items'])} items of {items.get('total')}")
        self.env["TOKEN"] = token
        self.script, self.url = self.wrk("get.lua"), srv.base_url + path

    def prepare_search_walk(self, srv):
        """Row 11: the search of row 9 over the pages of several words (bench/wrk/
        search_pages.lua). The probe asks each word's last page (offset 1000): every page of
        the walk must be full (5 tracks), or some requests would answer less and cost less."""
        answer = self.token_post(srv.base_url + "/api/token", [("grant_type", "client_credentials")])
        token = json.loads(answer)["access_token"]
        limit, last = SEARCH_WALK["LIMIT"], SEARCH_WALK["MAX_OFFSET"]
        for word in SEARCH_WALK["WORDS"].split(","):
            path = f"/v1/search?type=track&q={word}&limit={limit}&offset={last}"
            body = json.loads(self.expect_status(200, "GET", srv.base_url + path,
                                                 {"Authorization": f"Bearer {token}"}))
            if len(body["tracks"]["items"]) != int(limit):
                die(f"GET {path} answered {len(body['tracks']['items'])} items, not {limit}")
        say(f"{self.scenario}: each word's last page (offset {last}) holds {limit} tracks")
        self.env.update({"TOKEN": token, **search_walk_env(self.run)})
        self.script, self.url = self.wrk("search_pages.lua"), srv.base_url

    def measure(self):
        """The warm-up, then the measured runs; single-use scenarios get a new pool each."""
        single_use = self.scenario in FIRST_ESTIMATE and self.server_name not in servers.CEILINGS
        self.est = FIRST_ESTIMATE.get(self.scenario, 0)
        if single_use:
            self.prepare_pool(self.s.warm_s)
        self.wrk_phase("warmup", self.s.wrk_warmup)
        floor = self.est
        for run_no in range(1, self.s.runs + 1):
            if not single_use:
                self.wrk_phase(str(run_no), self.s.wrk_duration)
                continue
            # A run whose pool ran dry partly measured cheap refusals: it is kept in the JSON
            # as "retried" and run again with a pool twice as large (at most twice).
            for tries in (1, 2, 3):
                self.est = next_estimate(self.last_rps, self.last_exhausted, self.est, floor)
                self.prepare_pool(self.s.dur_s)
                self.wrk_phase(str(run_no), self.s.wrk_duration)
                if not (self.last_exhausted > 0 and tries < 3):
                    break
                say(f"{self.scenario}: the pool ran out: running again with a larger one")
                self.run.results.mark_last_retried()

    def prepare_me(self, srv):
        token_file = self.run.path("token.txt")
        self.seed("--access", 1, "--access-out", token_file, stdout=subprocess.DEVNULL)
        with open(token_file) as f:
            self.env["TOKEN"] = f.read().strip()
        self.expect_status(200, "GET", srv.base_url + "/v1/me",
                           {"Authorization": f"Bearer {self.env['TOKEN']}"})
        self.script, self.url = self.wrk("get.lua"), srv.base_url + "/v1/me"

    def prepare_storm(self, srv):
        """Sign-ins of seeded people (one Argon2id hash each time), with a CSRF pair read from
        the sign-in page (stateless: the pair stays valid)."""
        emails = self.run.path("emails.txt")
        users = json.loads(self.seed("--access", 100, "--access-out", "/dev/null",
                                     "--users-out", emails))
        status, headers, page = request("GET", srv.base_url + "/login")
        m = re.search(r'name="csrf_token" value="([^"]*)"', page.decode(errors="replace"))
        cookie = next((c.split(";", 1)[0].split("=", 1)[1]
                       for c in headers.get_all("Set-Cookie") or []
                       if c.split("=", 1)[0].strip() == "sp_csrf"), "")
        if not (m and m.group(1) and cookie):
            die("no CSRF pair from GET /login")
        shuffle_file(emails)
        self.env.update({"PASSWORD": users["password"], "CSRF_TOKEN": m.group(1),
                         "CSRF_COOKIE": cookie, "POOL_FILE": emails})
        with open(emails) as f:
            first = f.readline().strip()
        self.expect_status(303, "POST", srv.base_url + "/login", {"Cookie": f"sp_csrf={cookie}"},
                           form({"csrf_token": m.group(1), "username": first,
                                 "password": users["password"]}))
        self.storm = True

    def prepare_introspect(self, srv):
        tokens = self.run.path("introspect-tokens.txt")
        say(f"introspect: minting {self.s.introspect_pool} access tokens from "
            f"{self.server_name}'s token endpoint")
        if subprocess.run([sys.executable, os.path.join(self.s.bench_dir, "mint_tokens.py"),
                           srv.base_url + srv.token_path, srv.client_id, srv.client_secret,
                           str(self.s.introspect_pool), tokens, srv.scope]).returncode != 0:
            die("minting failed")
        with open(tokens) as f:
            first = f.readline().strip()
        answer = self.token_post(srv.base_url + srv.introspect_path, {"token": first})
        if not re.search(rb'"active" *: *true', answer):
            die(f"introspection of a fresh token is not active: "
                f"{answer[:300].decode(errors='replace')}")
        self.env.update({"POOL_FILE": tokens, "POOL_MODE": "cycle",
                         "INTROSPECT_PATH": srv.introspect_path})
        self.script, self.url = self.wrk("introspect.lua"), srv.base_url

    def probe_verify(self, pool):
        """hello-verify must accept the minted tokens and refuse others, or its row would
        measure cheap refusals: the pool's first token answers 200, a placeholder 401."""
        with open(pool) as f:
            token = f.readline().strip()
        url = self.server.base_url + "/v1/me"
        self.expect_status(200, "GET", url, {"Authorization": f"Bearer {token}"})
        self.expect_status(401, "GET", url,
                           {"Authorization": f"Bearer {self.run.shapes.fake('access')}"})

    def probe_stagepass_seed(self):
        """Checks by hand that what the seed tool makes is accepted, with values of its own (a
        probe must not spend a pool value: a code used twice revokes its grant)."""
        d = self.run.path("probe")
        os.makedirs(d, exist_ok=True)
        seeded = json.loads(self.seed("--refresh", 1, "--refresh-out", f"{d}/r", "--codes", 1,
                                      "--codes-out", f"{d}/c", "--redirect-uri", REDIRECT_URI,
                                      "--access", 1, "--access-out", f"{d}/a"))
        values = {}
        for name in "rca":
            with open(f"{d}/{name}") as f:
                values[name] = f.read().strip()
        token_url = self.run.site.url + "/api/token"
        self.token_post(token_url, {"grant_type": "refresh_token", "refresh_token": values["r"]})
        self.token_post(token_url, {"grant_type": "authorization_code", "code": values["c"],
                                    "redirect_uri": REDIRECT_URI,
                                    "code_verifier": seeded["pkce_verifier"]})
        self.expect_status(200, "GET", self.run.site.url + "/v1/me",
                           {"Authorization": f"Bearer {values['a']}"})

    # -- single-use pools ---------------------------------------------------------------------

    def remove_pools(self):
        for path in glob.glob(self.run.path("pool*.txt")) + glob.glob(self.run.path("ceiling-*.txt")):
            os.remove(path)

    def pool_for(self, secs, share=1.0):
        return pool_for(self.est, secs, self.s.pool_factor, self.s.wrk_connections, share)

    def prepare_pool(self, secs):
        """Seeds what one phase of a single-use scenario consumes (a new file each time, in
        random order) and points the wrk script at it, sized for self.est req/s. In a growth
        run the refresh tokens come first from the filled store's own (run.site.draw_filled:
        a random sample of all of them, so lookups land all over its B-trees), and are seeded
        only when those run out."""
        self.remove_pools()
        pool = self.run.path("pool.txt")
        scen = self.scenario
        self.from_store = self.refresh_count = 0
        if scen == "refresh":
            self.pool_size = self.pool_for(secs)
            seeded = self.refresh_pool(self.pool_size, pool)
            self.env["POOL_FILE"] = pool
        elif scen == "code":
            self.pool_size = self.pool_for(secs)
            seeded = self.seed("--codes", self.pool_size, "--codes-out", pool, "--redirect-uri",
                               REDIRECT_URI)
            self.env.update({"POOL_FILE": pool, "REDIRECT_URI": REDIRECT_URI,
                             "CODE_VERIFIER": json.loads(seeded)["pkce_verifier"]})
        elif scen == "me-cold":
            self.pool_size = self.pool_for(secs)
            # Ten tokens per person: every token is still presented once.
            seeded = self.seed("--access", self.pool_size, "--access-out", pool, "--per-grant", 10)
            self.env["POOL_FILE"] = pool
        elif scen == "mixed":
            # Sized for the refreshes (9 %) and new authorizations (1 %); the API tokens were
            # seeded once for the scenario.
            refresh, codes = self.pool_for(secs, 0.09), self.pool_for(secs, 0.01)
            self.pool_size = refresh + codes
            refresh_file, code_file = self.run.path("pool-refresh.txt"), self.run.path(
                "pool-codes.txt")
            self.refresh_pool(refresh, refresh_file)
            seeded = self.seed("--codes", codes, "--codes-out", code_file, "--redirect-uri",
                               REDIRECT_URI)
            self.env.update({"REFRESH_FILE": refresh_file, "CODE_FILE": code_file,
                             "REDIRECT_URI": REDIRECT_URI,
                             "CODE_VERIFIER": json.loads(seeded)["pkce_verifier"]})
        for path in glob.glob(self.run.path("pool*.txt")):
            shuffle_file(path)
        drawn = f", {self.from_store} of them drawn from the filled store" if self.from_store else ""
        say(f"{scen}: {self.pool_size} for ~{self.est} req/s over {secs:g}s{drawn}: {seeded}")

    def refresh_pool(self, count, path):
        """COUNT refresh tokens in PATH: drawn from a growth run's filled store while it has
        unused ones, the rest seeded. Returns the seed tool's JSON line (or "")."""
        drawn = self.run.site.draw_filled(count, path) if self.run.growth_size else 0
        self.from_store += drawn
        self.refresh_count += count
        if drawn == count:
            return ""
        more = path + ".seeded"
        seeded = self.seed("--refresh", count - drawn, "--refresh-out", more)
        with open(more) as src, open(path, "a") as dst:
            dst.write(src.read())
        os.remove(more)
        return seeded

    # -- measurement --------------------------------------------------------------------------

    def wrk_phase(self, phase, duration):
        """Runs wrk with self.script on self.url (and the login storm beside it), and appends
        the run (wrk's summary, the server's CPU seconds) to the results."""
        run, s, srv = self.run, self.s, self.server
        out_path, storm_path = run.path("wrk.out"), run.path("storm.out")
        args = [f"-t{s.wrk_threads}", f"-c{s.wrk_connections}", f"-d{duration}", "-s",
                self.script, self.url]
        header = f"== {self.scenario} / {self.server_name} / {phase}: wrk {' '.join(args)}"
        print(header, file=sys.stderr, flush=True)
        with open(run.wrk_log, "a") as log:
            log.write(header + "\n")
        env = run.child_env(self.env)
        if self.storm:  # the sign-in storm, from its own wrk process, for the same duration
            with open(storm_path, "w") as f:
                self.storm_proc = subprocess.Popen(
                    ["wrk", "-t1", f"-c{s.login_connections}", f"-d{duration}", "-s",
                     self.wrk("login.lua"), srv.base_url],
                    stdout=f, stderr=subprocess.STDOUT, env={**env, "WRK_THREADS": "1"})
        writer0 = self.writer_seconds()
        started = time.monotonic()
        cpu0 = cpu_ticks(srv.pid)
        with open(out_path, "w") as f:
            self.wrk_proc = subprocess.Popen(["wrk", *args], stdout=f, stderr=subprocess.STDOUT,
                                             env=env)
        self.wrk_proc.wait()
        self.wrk_proc = None
        if not srv.alive():
            die("the server exited during the run")
        cpu1 = cpu_ticks(srv.pid)
        elapsed = time.monotonic() - started
        writer1 = self.writer_seconds()
        with open(out_path) as f:
            summary = last_json(f.read())
        if summary is None:
            die(f"wrk printed no summary for {self.scenario}/{self.server_name}: "
                f"{tail(out_path, 5)}")
        storm = None
        if self.storm_proc:
            self.storm_proc.wait()
            self.storm_proc = None
            with open(storm_path) as f:
                storm_out = f.read()
            with open(out_path, "a") as f:
                f.write(f"-- login storm beside it: wrk -t1 -c{s.login_connections} "
                        f"-d{duration} -s login.lua\n{storm_out}")
            storm = last_json(storm_out)
            if storm is None:
                die(f"the login storm's wrk printed no summary: {tail(storm_path, 5)}")
        with open(out_path) as f, open(run.wrk_log, "a") as log:
            log.write(f.read())
        writer = None
        if writer0 and writer1 and elapsed > 0:
            writer = {name: (writer1[name] - writer0[name]) / elapsed
                      for name in writer0 if name in writer1}
            if "oncpu" in writer and writer["oncpu"] <= 0 < writer["busy"]:
                # A kernel without these counts reports zeros: no split rather than a wrong one.
                del writer["oncpu"], writer["queued"]
            if "oncpu" not in writer and not getattr(self.run, "warned_no_schedstat", False):
                self.run.warned_no_schedstat = True
                say(f"note: no kernel counts (/proc/PID/task/*/schedstat) of the thread "
                    f"{self.WRITER_THREAD}: the writer line is not split")
        self.record(phase, summary, (cpu1 - cpu0) / run.clk_tck, storm, writer)
        self.last_rps = float(summary["rps"])
        self.last_exhausted = int(summary.get("pool_exhausted") or 0)
        non_2xx = int(summary.get("non_2xx") or 0)
        if non_2xx > 0 or self.last_exhausted > 0:
            say(f"warning: {self.scenario}/{self.server_name} {phase}: {non_2xx} non-2xx, "
                f"{self.last_exhausted} pool-exhausted requests")

    WRITER_SERIES = {"busy": "stagepass_store_writer_busy_seconds_total",
                     "commit": "stagepass_store_commit_seconds_total"}

    WRITER_THREAD = "sp-acct-writer"

    def writer_seconds(self):
        """The accounts store's writer time so far, from stagepass's /metrics (SQLite only) or
        hello-durable's (the same series, the same thread name): {"busy": s, "commit": s}, or
        None for another server or store. With the kernel's
        counts of that thread (/proc), also "oncpu" and "queued" (runnable, waiting for a
        CPU), of the whole thread: what is left of its busy time, it spent asleep, mostly in
        fdatasync and page I/O (also lock waits)."""
        if self.server_name not in ("stagepass", "hello-durable"):
            return None
        try:
            status, _, body = request("GET", self.server.base_url + "/metrics")
        except OSError:
            return None
        if status != 200:
            say(f"note: {self.server_name}'s /metrics answered {status}: no writer line in the "
                "results")
            return None
        values = {}
        for line in body.decode(errors="replace").splitlines():
            parts = line.split()
            for name, series in self.WRITER_SERIES.items():
                if len(parts) == 2 and parts[0] == series:
                    values[name] = float(parts[1])
        if len(values) != len(self.WRITER_SERIES):
            if not getattr(self.run, "warned_no_writer", False):
                self.run.warned_no_writer = True
                say(f"note: {self.server_name}'s /metrics has no writer series (not SQLite?): "
                    "no writer line in the results")
            return None
        sched = thread_schedstat(self.server.pid, self.WRITER_THREAD)
        if sched:
            values["oncpu"], values["queued"] = sched
        return values

    def record(self, phase, summary, cpu_s, storm, writer=None):
        r = dict(summary)
        r.update({"type": "warmup" if phase == "warmup" else "run", "scenario": self.scenario,
                  "server": self.server_name, "phase": phase, "cpu_s": cpu_s,
                  "pool_size": self.pool_size, "round": self.round_no})
        if self.run.growth_size:
            r["size"] = self.run.growth_size
        if self.run.growth_size and self.server_name not in servers.CEILINGS:
            r["stored_refresh_tokens"] = self.server.stored_refresh
            r["pool_from_store"] = self.from_store
            r["pool_refresh_tokens"] = self.refresh_count
        r["cpu_us_per_request"] = 1e6 * r["cpu_s"] / r["requests"] if r["requests"] else None
        if storm is not None:
            r["login_storm"] = storm
        if writer is not None:  # the share of the run the one writer thread was busy, in COMMIT
            r["writer_busy"] = writer["busy"]
            r["writer_commit"] = writer["commit"]
            if "oncpu" in writer:
                r["writer_oncpu"] = writer["oncpu"]
                r["writer_queued"] = writer["queued"]
                # Per run, so the report's median is of one quantity, not of three medians.
                r["writer_asleep"] = max(0.0, writer["busy"] - writer["oncpu"] - writer["queued"])
        self.run.results.append(r)

    def stop(self):
        """Stops the load generators still running (an interrupted run) and the server."""
        for proc in (self.wrk_proc, self.storm_proc):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait()
        self.wrk_proc = self.storm_proc = None
        if self.server:
            server, self.server = self.server, None
            servers.stop(self.run, server)
