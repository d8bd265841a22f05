#!/usr/bin/env python3
"""The relative CPU cost of Web API calls: the figures behind the limit units of
docs/operations.md ("Web API limits and call costs").

Starts `stagepass serve` on a free loopback port (full-size catalog unless --scale, its own
temp dir, no rate limit or quota in the way), creates one person and one app with the admin
CLI, gets a user token (bench/user_token.py) and a client-credentials token, then sends each
call of the table N times in a row over one kept-alive connection and reads the server's CPU
time (utime + stime of the process, /proc) before and after. Prints, per call: the matches
(search: the paging object's total, which Spotify's shape caps at offset 1000 + limit) or rows,
the server's CPU µs per call, and the ratio to GET /v1/me (a profile read, 1 unit).
Standard library only; 127.0.0.1 only.

usage: bench/api_costs.py [--bin build/stagepass] [--scale 1.0] [--repeat 300] [--seconds 2]
                          [--json FILE]
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REDIRECT = "http://127.0.0.1:9/cb"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build", "stagepass"))
    ap.add_argument("--scale", default="1.0", help="STAGEPASS_CATALOG_SCALE (default 1.0)")
    ap.add_argument("--repeat", type=int, default=300, help="calls per row (default 300)")
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="and at least this long per row, for the CPU clock's resolution")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="sp-costs-")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = dict(os.environ, STAGEPASS_LISTEN=f"127.0.0.1:{port}", STAGEPASS_ISSUER=issuer,
               STAGEPASS_DATABASE=os.path.join(tmp, "stagepass.db"),
               STAGEPASS_MASTER_KEY_FILE=os.path.join(tmp, "master.key"),
               STAGEPASS_CATALOG_SCALE=args.scale, STAGEPASS_ACCESS_LOG="off",
               STAGEPASS_RATE_LIMIT="1000000000", STAGEPASS_API_DAILY_QUOTA="0")
    env.pop("STAGEPASS_MASTER_KEY", None)
    server = subprocess.Popen([args.bin, "serve"], env=env, cwd=tmp,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "err"), "w"))
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(issuer + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.time() > deadline:
                sys.exit(f"api_costs.py: the server did not start:\n{open(os.path.join(tmp, 'err')).read()}")
            time.sleep(0.2)

        def admin(*a, stdin=None):
            out = subprocess.run([args.bin, "admin", *a, "--json"], env=env, cwd=tmp, input=stdin,
                                 capture_output=True, text=True, check=True)
            return json.loads(out.stdout)

        admin("user", "create", "--email", "bench@example.com", "--display-name", "Bench",
              "--password-stdin", stdin="correct horse battery staple\n")
        app = admin("client", "create", "--name", "Costs", "--redirect-uri", REDIRECT)
        user_token = subprocess.run(
            [sys.executable, os.path.join(HERE, "user_token.py"), issuer, app["client_id"],
             app["client_secret"], "bench@example.com", "correct horse battery staple",
             "user-read-private user-read-email user-library-read"],
            capture_output=True, text=True, check=True).stdout.strip()
        basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
        req = urllib.request.Request(issuer + "/api/token", data=b"grant_type=client_credentials",
                                     headers={"Authorization": "Basic " + basic})
        with urllib.request.urlopen(req) as r:
            cc_token = json.load(r)["access_token"]

        conn = http.client.HTTPConnection("127.0.0.1", port)

        def get(path, token):
            conn.request("GET", path, headers={"Authorization": "Bearer " + token})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                sys.exit(f"api_costs.py: GET {path} answered {r.status}: {body[:300]!r}")
            return json.loads(body)

        def search(q, t):
            return "/v1/search?" + urllib.parse.urlencode({"q": q, "type": t})

        first = get(search("midnight", "track"), cc_token)["tracks"]["items"][0]
        album = first["album"]["id"]
        artist = first["artists"][0]["id"]
        rows = [
            ("GET /v1/me (profile read)", "/v1/me", user_token, None),
            ("GET /v1/tracks/{id}", f"/v1/tracks/{first['id']}", cc_token, None),
            ("GET /v1/albums/{id}", f"/v1/albums/{album}", cc_token, None),
            ("GET /v1/albums/{id}/tracks", f"/v1/albums/{album}/tracks", cc_token, None),
            ("GET /v1/artists/{id}", f"/v1/artists/{artist}", cc_token, None),
            ("GET /v1/artists/{id}/albums", f"/v1/artists/{artist}/albums", cc_token,
             lambda j: j["total"]),
            ("GET /v1/artists/{id}/top-tracks", f"/v1/artists/{artist}/top-tracks", cc_token, None),
            ("GET /v1/me/tracks", "/v1/me/tracks", user_token, None),
        ]
        queries = [("midnight", "track"), ("midnight heart", "track"), ("heart", "track"),
                   ("m", "track"), ("s", "track"), ("silver river", "track"), ("s m b c", "track"),
                   ("midnight", "album"), ("m", "album"), ("midnight", "artist"), ("a", "artist"),
                   ("midnight", "playlist")]
        for q, t in queries:
            rows.append((f"GET /v1/search?q={q}&type={t}", search(q, t), cc_token,
                         lambda j, t=t: j[t + "s"]["total"]))

        hz = os.sysconf("SC_CLK_TCK")
        results = []
        for name, path, token, size in rows:
            probe = get(path, token)
            for _ in range(20):  # warm caches and the connection
                get(path, token)
            t0, c0 = time.perf_counter(), cpu_ticks(server.pid)
            n = 0
            while n < args.repeat or time.perf_counter() - t0 < args.seconds:
                get(path, token)
                n += 1
            wall = (time.perf_counter() - t0) / n
            cpu = (cpu_ticks(server.pid) - c0) / hz / n
            results.append({"call": name, "rows": size(probe) if size else None,
                            "cpu_us": cpu * 1e6, "wall_us": wall * 1e6})
        base = results[0]["cpu_us"] or 1
        print(f"catalog scale {args.scale}, {args.repeat} calls per row, one connection, "
              f"server CPU per call")
        print("| call | matches / rows | server CPU µs | × profile read | wall µs |")
        print("|---|---:|---:|---:|---:|")
        for r in results:
            r["ratio"] = r["cpu_us"] / base
            rows_txt = "" if r["rows"] is None else str(r["rows"])
            print(f"| `{r['call']}` | {rows_txt} | {r['cpu_us']:.0f} | {r['ratio']:.1f} | "
                  f"{r['wall_us']:.0f} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
