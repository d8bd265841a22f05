"""The shape of stagepass's requests, so a scenario's ceiling run (stagepass-bench-hello) sends
the same bytes: the same wrk script, the same headers and bodies, with placeholder values of
the same length where stagepass's are single-use or secret to the server (hello checks
nothing). Learnt once per run by Shapes.calibrate, which starts stagepass once before the
first round: it creates the run's client, generates the catalog, mints a client-credentials
token, seeds one refresh token, code and user access token, and picks the artist of the
albums row. Also: the random order of the pools (shuffle_file) and the artist choice.
hello-verify (row 5) checks signatures, so its pool is real tokens: minted by
`stagepass-bench-hello --mint` from the access token sample, under the run's own key seed."""
import json
import os
import random
import secrets
import subprocess
import urllib.parse

from . import servers
from .common import basic, die, form, request, say
from .servers import REDIRECT_URI

# Placeholder values per ceiling pool (hello goes round them: it checks none).
CEILING_POOL = 10000
_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# The search row's request (issue 17): one common word, ~1,000 matching tracks at scale 1.0.
SEARCH_PATH = "/v1/search?q=midnight&type=track&limit=5"
# Row 11 (search-uncached, bench/wrk/search_pages.lua): the same search over these words (the
# catalog generator's adjectives, drawn uniformly: at scale 1.0 each matches 1,735-1,857
# tracks, "midnight" 1,813) and every offset 0..1000, each wrk thread walking its own slice of
# the 16,016 pages: a page comes back only after the 8,007 others of its slice (-t2), and the
# server's search memo holds 4,096, so it never answers.
SEARCH_WORDS = ("midnight,lucky,lost,crystal,endless,sleepy,savage,summer,magnetic,ancient,"
                "cosmic,quiet,lonely,distant,painted,solar")
SEARCH_WALK = {"WORDS": SEARCH_WORDS, "LIMIT": "5", "MAX_OFFSET": "1000"}
SEARCH_MEMO_PAGES = 4096  # src/music/sqlite/catalog_cache.hpp, CatalogCache::searches


def search_walk_env(run):
    """search_pages.lua's environment for one pair: its walk starts at the top (a new server,
    an empty memo) and goes on from one wrk process to the next (WALK_STATE), so the measured
    run does not ask again the pages its warm-up left in the memo."""
    pages = len(SEARCH_WALK["WORDS"].split(",")) * (int(SEARCH_WALK["MAX_OFFSET"]) + 1)
    per_thread = pages // run.settings.wrk_threads
    if per_thread <= SEARCH_MEMO_PAGES:
        say(f"warning: search-uncached: a wrk thread's {per_thread} pages of {pages} fit in the "
            f"search memo ({SEARCH_MEMO_PAGES}): it may answer some (use fewer WRK_THREADS)")
    state = run.path("search-walk.txt")
    if os.path.exists(state):
        os.remove(state)
    return {**SEARCH_WALK, "WALK_STATE": state}


def placeholder(sample, rng=random):
    """A value as long as SAMPLE, with its prefix up to the first "_" (spr_, spc_) and its
    dots (a JWT's three parts) where they were, the rest random base64url characters."""
    keep = sample.index("_") + 1 if "_" in sample[:5] else 0
    return sample[:keep] + "".join(c if c == "." else rng.choice(_CHARS) for c in sample[keep:])


def write_placeholders(path, sample, count):
    rng = random.Random(len(sample))
    with open(path, "w") as f:
        f.writelines(placeholder(sample, rng) + "\n" for _ in range(count))
    return path


def shuffle_file(path):
    """Puts the lines of PATH in random order: the seed tool writes values in the order it
    inserted them (grant after grant, ten tokens of one person in a row), which a load would
    otherwise read back in that order."""
    with open(path) as f:
        lines = f.readlines()
    random.shuffle(lines)
    with open(path, "w") as f:
        f.writelines(lines)


def pick_artist(base_url, token):
    """The id of the artist with the most albums among those of the first 50 tracks matching
    "midnight" (the catalog is generated from a fixed seed: the same artist every time)."""
    auth = {"Authorization": f"Bearer {token}"}
    status, _, body = request("GET", base_url + "/v1/search?q=midnight&type=track&limit=50",
                              auth)
    if status != 200:
        die(f"search answered {status}: {body[:200]!r}")
    candidates = []
    for track in json.loads(body)["tracks"]["items"]:
        for artist in track.get("artists", []):
            if artist["id"] not in candidates:
                candidates.append(artist["id"])
    best, best_total = None, 0
    for artist_id in candidates[:20]:
        status, _, body = request("GET", f"{base_url}/v1/artists/{artist_id}/albums?limit=1", auth)
        total = json.loads(body).get("total", 0) if status == 200 else 0
        if total > best_total:
            best, best_total = artist_id, total
    if best is None:
        die("no artist with albums among the tracks matching \"midnight\"")
    say(f"albums: artist {best} has {best_total} albums")
    return best


class Shapes:
    """What stagepass's requests carry, for the ceiling runs. Filled by calibrate()."""

    def __init__(self):
        self.client_id = self.client_secret = ""
        self.samples = {}  # kind -> one real value: refresh, code, access, cc_access, verifier
        self.artist_id = ""
        # hello-verify's key pair (HELLO_KEY_SEED), new for every run.
        self.verify_seed = secrets.token_hex(32)

    def calibrate(self, run):
        say("calibrating: stagepass once, for the client, the catalog and the request shapes")
        server = servers.Server("stagepass")
        try:
            servers.start(run, server)
            self.client_id, self.client_secret = server.client_id, server.client_secret
            status, _, body = request(
                "POST", run.site.url + "/api/token",
                {"Authorization": basic(self.client_id, self.client_secret)},
                form({"grant_type": "client_credentials"}))
            if status != 200:
                die(f"client credentials grant answered {status}: {body[:200]!r}")
            self.samples["cc_access"] = json.loads(body)["access_token"]
            d = run.path("shape")
            os.makedirs(d, exist_ok=True)
            seeded = json.loads(run.site.seed(
                self.client_id, "--refresh", 1, "--refresh-out", f"{d}/r", "--codes", 1,
                "--codes-out", f"{d}/c", "--redirect-uri", REDIRECT_URI, "--access", 1,
                "--access-out", f"{d}/a"))
            for kind, name in (("refresh", "r"), ("code", "c"), ("access", "a")):
                with open(f"{d}/{name}") as f:
                    self.samples[kind] = f.readline().strip()
            self.samples["verifier"] = seeded["pkce_verifier"]
            self.artist_id = pick_artist(run.site.url, self.samples["cc_access"])
        finally:
            servers.stop(run, server)

    def albums_path(self):
        return f"/v1/artists/{urllib.parse.quote(self.artist_id)}/albums"

    def pool(self, run, kind, count, name):
        """A file of COUNT placeholders shaped like stagepass's KIND values."""
        return write_placeholders(run.path(name), self.samples[kind], count)

    def fake(self, kind):
        return placeholder(self.samples[kind])

    def signed_pool(self, run, count, name):
        """A file of COUNT access tokens as long as stagepass's, each signed under the run's
        key seed (hello-verify's), by stagepass-bench-hello --mint."""
        path = run.path(name)
        with open(path, "w") as out:
            r = subprocess.run([run.settings.build_path("stagepass-bench-hello"), "--mint",
                                str(count)], input=self.samples["access"] + "\n", text=True,
                               stdout=out, env={**os.environ, "HELLO_KEY_SEED": self.verify_seed})
        if r.returncode != 0:
            die("stagepass-bench-hello --mint failed")
        return path

    def ceiling(self, run, scen, base, server="hello"):
        """(script, url, environment) of hello's run of scenario SCEN: the very script and
        environment of stagepass's row, with placeholders as long as stagepass's values, gone
        round instead of spent, and CEILING_RUN=1 (the scripts do not count hello's 200 "hello"
        as a refusal). The login storm's ceiling is the GET alone: a storm against hello would
        load the machine with thousands of sign-ins a second instead of stagepass's few."""
        s = run.settings
        wrk = os.path.join(s.bench_dir, "wrk")
        env = {"CEILING_RUN": "1", "POOL_MODE": "cycle"}
        if scen == "cc":
            env.update({"TOKEN_PATH": "/api/token", "SCOPE": ""})
            return os.path.join(s.bench_dir, "peers", "client_credentials.lua"), base, env
        if scen == "refresh":
            env["POOL_FILE"] = self.pool(run, "refresh", CEILING_POOL, "ceiling-pool.txt")
            return os.path.join(wrk, "refresh.lua"), base, env
        if scen == "code":
            env.update({"POOL_FILE": self.pool(run, "code", CEILING_POOL, "ceiling-pool.txt"),
                        "REDIRECT_URI": REDIRECT_URI, "CODE_VERIFIER": self.samples["verifier"]})
            return os.path.join(wrk, "code_exchange.lua"), base, env
        if scen in ("me-warm", "login-storm"):
            env["TOKEN"] = self.fake("access")
            return os.path.join(wrk, "get.lua"), base + "/v1/me", env
        if scen == "me-cold":
            # hello-verify refuses a token whose signature does not verify: real ones.
            env["POOL_FILE"] = (self.signed_pool(run, CEILING_POOL, "ceiling-pool.txt")
                                if server == "hello-verify" else
                                self.pool(run, "access", CEILING_POOL, "ceiling-pool.txt"))
            return os.path.join(wrk, "bearer_pool.lua"), base + "/v1/me", env
        if scen == "introspect":
            env.update({"POOL_FILE": self.pool(run, "cc_access", s.introspect_pool,
                                               "ceiling-pool.txt"),
                        "INTROSPECT_PATH": "/api/introspect"})
            return os.path.join(wrk, "introspect.lua"), base, env
        if scen == "mixed":
            env.update({
                "TOKEN_FILE": self.pool(run, "access", s.mixed_tokens, "ceiling-tokens.txt"),
                "REFRESH_FILE": self.pool(run, "refresh", CEILING_POOL, "ceiling-refresh.txt"),
                "CODE_FILE": self.pool(run, "code", CEILING_POOL, "ceiling-codes.txt"),
                "REDIRECT_URI": REDIRECT_URI, "CODE_VERIFIER": self.samples["verifier"]})
            return os.path.join(wrk, "mixed.lua"), base, env
        if scen in ("search", "albums"):
            env["TOKEN"] = self.fake("cc_access")
            path = SEARCH_PATH if scen == "search" else self.albums_path()
            return os.path.join(wrk, "get.lua"), base + path, env
        if scen == "search-uncached":
            env.update({"TOKEN": self.fake("cc_access"), **search_walk_env(run)})
            return os.path.join(wrk, "search_pages.lua"), base, env
        die(f"no ceiling shape for scenario {scen}")
