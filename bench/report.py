#!/usr/bin/env python3
"""Turns the results of bench/run.py (one JSON object per line) into BUILD_DIR/results.md,
BUILD_DIR/results.json and, when gnuplot is installed, BUILD_DIR/results.png.

usage: report.py RESULTS.jsonl BUILD_DIR --settings JSON

Lines of RESULTS.jsonl, by "type":
  run      one measured wrk run: wrk's summary (bench/wrk/summary.lua) plus scenario, server,
           phase, cpu_s (server utime+stime over the run), cpu_us_per_request, pool_size and,
           for the login storm, login_storm (the storm's own summary)
  warmup   the same for the warm-up (not aggregated)
  retried  a measured run whose single-use pool ran out, run again (not aggregated)
  peak     peak_rss_kb of the server (VmHWM) once its scenario is done
  fill     a growth run's filling of one store: size, seconds, database_bytes
  server   storage and notes of a server
  failed   a scenario/server pair that did not complete
A growth run's run, peak and failed lines also carry "size" (the refresh tokens the store was
filled with; runs also "stored_refresh_tokens", counted when the server started); its report
goes to results-growth.md / results-growth.json instead.
Standard library only."""
import argparse, json, os, statistics, time

from report_plot import SERVER_ORDER, plot

SCENARIOS = {
    "cc": ("1", "client credentials grant", "POST"),
    "refresh": ("2", "refresh grant, rotation, each token once", "POST"),
    "code": ("3", "authorization code exchange (PKCE), each code once", "POST"),
    "me-warm": ("4", "GET /v1/me, one token (cache warm)", "GET"),
    "me-cold": ("5", "GET /v1/me, every token new (cache cold)", "GET"),
    "introspect": ("6", "introspection of access tokens", "POST"),
    "mixed": ("7", "mixed: 90 % GET /v1/me, 9 % refresh, 1 % code exchange", "GET"),
    "login-storm": ("8", "GET /v1/me while sign-ins (Argon2id) run beside it", "GET"),
    "search": ("9", "GET /v1/search?q=midnight&type=track&limit=5 (one URL: answered from "
               "memory after the first request)", "GET"),
    "albums": ("10", "GET /v1/artists/{id}/albums (one URL: answered from memory after the "
               "first request)", "GET"),
    "search-uncached": ("11", "GET /v1/search, 16 words × offsets 0-1000, limit 5, each page "
                        "in turn (not in the search memo)", "GET"),
}
# The servers that stand for a bound, not a product (bench/harness/servers.py, CEILINGS).
BOUNDS = ("hello", "hello-sign", "hello-durable", "hello-verify")
PEERS = {"glewlwyd", "glewlwyd-1k", "oidc-jwt", "oidc-opaque"}


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def writer_line(rows):
    """The lines that say how busy stagepass's accounts store writer (and hello-durable's,
    the same writer alone) was in each row that wrote (the growth runs name their size), or
    none."""
    busy = [r for r in rows if r.get("writer_busy") is not None and r["writer_busy"] >= 0.01]
    if not busy:
        return []

    def label(r):
        size = f" at {human(r['size'])}" if r.get("size") is not None else ""
        return f"row {SCENARIOS.get(r['scenario'], ('?',))[0]} {r['server']}{size}"

    def split(r):
        return all(r.get(k) is not None for k in ("writer_oncpu", "writer_queued", "writer_asleep"))

    def shares(r):
        text = f"{label(r)} busy {r['writer_busy']:.0%}, in COMMIT {r['writer_commit']:.0%}"
        if split(r):
            text += (f" (on a CPU {r['writer_oncpu']:.0%}, waiting for one "
                     f"{r['writer_queued']:.0%}, asleep {r['writer_asleep']:.0%})")
        return text

    brackets = ("; in brackets, shares of the run from the kernel's counts of that thread: on a "
                "CPU, waiting for one, and what is left of its busy time, asleep (mostly "
                "fdatasync and page I/O, also lock waits; whole-thread counts, so approximate)"
                if any(split(r) for r in busy) else "")
    return ["", "Stagepass's accounts store writer (SQLite: the one thread every durable write "
            "waits for; hello-durable's rows: the same writer in the bound), share of each "
            "measured run's time it was busy, and in COMMIT alone, "
            "median over the rounds" + brackets + ": " + "; ".join(shares(r) for r in busy)
            + ". Near 100 % busy, the row is bound by that thread."]


def median_of(rs, name):
    """The median of a field over the runs that have it, or None."""
    values = [r[name] for r in rs if r.get(name) is not None]
    return statistics.median(values) if values else None


def aggregate(records):
    runs, peaks, servers, failed, warmups = {}, {}, {}, [], {}
    for r in records:
        key = (r.get("scenario"), r.get("server"), r.get("size"))
        t = r["type"]
        if t == "run":
            runs.setdefault(key, []).append(r)
        elif t == "warmup":
            warmups.setdefault(key, []).append(r)
        elif t == "peak":
            peaks[key] = max(peaks.get(key, 0), r["peak_rss_kb"])  # over rounds
        elif t == "server":
            servers[r["server"]] = {"storage": r["storage"], "notes": r["notes"]}
        elif t == "failed":
            failed.append({"scenario": r["scenario"], "server": r["server"], "status": r["status"],
                           "size": r.get("size")})
    rows = []
    for (scenario, server, size), rs in runs.items():
        rps = [r["rps"] for r in rs]
        cpu = [r["cpu_us_per_request"] for r in rs if r.get("cpu_us_per_request") is not None]
        row = {
            "scenario": scenario,
            "server": server,
            "runs": len(rs),
            "rps_median": statistics.median(rps),
            "rps_min": min(rps),
            "rps_max": max(rps),
            "p50_ms": statistics.median(r["p50_us"] for r in rs) / 1000,
            "p99_ms": statistics.median(r["p99_us"] for r in rs) / 1000,
            "p99_ms_max": max(r["p99_us"] for r in rs) / 1000,
            "requests": sum(r["requests"] for r in rs),
            "non_2xx": sum(r["non_2xx"] for r in rs),
            "socket_errors": sum(r["socket_errors"] for r in rs),
            "bad": sum(r.get("bad", 0) for r in rs),
            "pool_exhausted": sum(r.get("pool_exhausted", 0) for r in rs),
            "cpu_us_per_request": statistics.median(cpu) if cpu else None,
            "writer_busy": median_of(rs, "writer_busy"),
            "writer_commit": median_of(rs, "writer_commit"),
            "writer_oncpu": median_of(rs, "writer_oncpu"),
            "writer_queued": median_of(rs, "writer_queued"),
            "writer_asleep": median_of(rs, "writer_asleep"),
            "rps_by_round": by_round(rs),
            "peak_rss_mib": peaks[(scenario, server, size)] / 1024 if (scenario, server, size) in peaks else None,
        }
        if size is not None:
            row["size"] = size
            stored = [r["stored_refresh_tokens"] for r in rs
                      if r.get("stored_refresh_tokens") is not None]
            row["stored_refresh_tokens"] = min(stored) if stored else None  # none for hello
            # The share of the pools' refresh tokens drawn from the filled store (rows 2, 7).
            wanted = sum(r.get("pool_refresh_tokens") or 0 for r in rs)
            drawn = sum(r.get("pool_from_store") or 0 for r in rs)
            row["pool_from_store"] = drawn / wanted if wanted else None
        storms = [r["login_storm"] for r in rs if r.get("login_storm")]
        if storms:
            row["login_storm"] = {
                "rps_median": statistics.median(s["rps"] for s in storms),
                "p99_ms": statistics.median(s["p99_us"] for s in storms) / 1000,
                "unexpected_status": sum(s["non_2xx"] for s in storms),
            }
        rows.append(row)
    order = list(SCENARIOS)
    rows.sort(key=lambda r: (order.index(r["scenario"]) if r["scenario"] in order else 99,
                             SERVER_ORDER.index(r["server"]) if r["server"] in SERVER_ORDER else 99,
                             r.get("size") or 0))
    if any("size" in r for r in rows):
        growth(rows)
        return rows, servers, failed, warmups
    by = {(r["scenario"], r["server"]): r for r in rows}
    for r in rows:
        ceiling = by.get((r["scenario"], "hello"))
        r["ceiling"] = None
        if r["server"] != "hello" and ceiling:
            r["ceiling"] = paired(r["rps_by_round"], ceiling["rps_by_round"])
        # A scenario's signature bound: signing one token (grants) or verifying one (row 5).
        bound = by.get((r["scenario"], "hello-sign")) or by.get((r["scenario"], "hello-verify"))
        r["sign_bound"] = None
        if r["server"] not in BOUNDS and bound:
            r["sign_bound"] = paired(r["rps_by_round"], bound["rps_by_round"])
        # A durable grant's bound: one token signed and one new row committed (rows 2, 3).
        durable = by.get((r["scenario"], "hello-durable"))
        r["durable_bound"] = None
        if r["server"] not in BOUNDS and durable:
            r["durable_bound"] = paired(r["rps_by_round"], durable["rps_by_round"])
        r["vs_best_peer"] = None
        peers = [p for p in rows if p["scenario"] == r["scenario"] and p["server"] in PEERS]
        if r["server"] == "stagepass" and peers:
            r["vs_best_peer"] = vs_best_peer(r, peers)
    # The storm's effect: p99 of /v1/me with and without it.
    warm = by.get(("me-warm", "stagepass"))
    storm = by.get(("login-storm", "stagepass"))
    if warm and storm:
        storm["p99_vs_me_warm"] = storm["p99_ms"] / warm["p99_ms"] if warm["p99_ms"] else None
    return rows, servers, failed, warmups


def growth(rows):
    """A growth run's ratios, in place. ceiling: the row over hello's run of the same scenario,
    size and round (paired as in the main table). vs_smallest: the row's req/s over the same
    server's at the smallest size, measured minutes apart (raw). vs_smallest_ceiling: the growth
    cost normalised by the ceiling, (row / hello at its size) / (row / hello at the smallest
    size), the ratio of the two paired ceiling ratios: the drift of the machine between the
    sizes moves a row and its ceiling alike and cancels."""
    by = {(r["scenario"], r["server"], r["size"]): r for r in rows}
    smallest = {}
    for r in rows:  # sorted by scenario, server, size
        smallest.setdefault((r["scenario"], r["server"]), r)
    for r in rows:
        hello = by.get((r["scenario"], "hello", r["size"]))
        r["ceiling"] = None
        if r["server"] != "hello" and hello:
            r["ceiling"] = paired(r["rps_by_round"], hello["rps_by_round"])
    for r in rows:
        first = smallest[(r["scenario"], r["server"])]
        r["vs_smallest"] = r["rps_median"] / first["rps_median"]
        r["vs_smallest_ceiling"] = None
        if r["ceiling"] and first["ceiling"]:
            r["vs_smallest_ceiling"] = r["ceiling"]["ratio"] / first["ceiling"]["ratio"]


def by_round(runs):
    """{round: median req/s of the row's runs in that round} (round "1" without rounds)."""
    rounds = {}
    for r in runs:
        rounds.setdefault(str(r.get("round", 1)), []).append(r["rps"])
    return {k: statistics.median(v) for k, v in rounds.items()}


def paired(num, den):
    """The median of the per-round ratios num[round] / den[round] over the rounds both ran in
    (the two ran back to back in each: the drift of the machine between rounds cancels)."""
    ratios = [num[k] / den[k] for k in sorted(num, key=int) if den.get(k)]
    if not ratios:
        return None
    return {"ratio": statistics.median(ratios), "min": min(ratios), "max": max(ratios),
            "per_round": ratios}


def vs_best_peer(row, peers):
    """Stagepass over the best peer of the same round, per round; the peer named is the one
    that was best in most rounds."""
    best = {}
    for p in peers:
        for k, rps in p["rps_by_round"].items():
            if k not in best or rps > best[k][1]:
                best[k] = (p["server"], rps)
    ratio = paired(row["rps_by_round"], {k: v[1] for k, v in best.items()})
    if ratio:
        names = [v[0] for k, v in best.items() if k in row["rps_by_round"]]
        ratio["peer"] = max(set(names), key=names.count)
    return ratio


def fmt_ratio(p, percent):
    one = (lambda x: f"{x:.1%}") if percent else (lambda x: f"{x:.1f}×")
    if len(p["per_round"]) == 1:
        return one(p["ratio"])
    return f"{one(p['ratio'])} ({one(p['min'])}–{one(p['max'])})"


def fmt_rps(r):
    if r["runs"] == 1:
        return f"{r['rps_median']:,.0f}"
    return f"{r['rps_median']:,.0f} ({r['rps_min']:,.0f}–{r['rps_max']:,.0f})"


def measured(w):
    """How many runs each row has, and how they were spread."""
    rounds = w.get("rounds", 1)
    if rounds == 1:
        return f"{w['runs']} × {w['duration']} measured per row"
    return (f"{rounds * w['runs']} × {w['duration']} measured per row, in {rounds} rounds "
            f"through the whole matrix ({w['runs']} per round: servers took turns)")


def markdown(rows, servers, failed, settings):
    out = ["# Stagepass side-by-side benchmark", ""]
    w = settings.get("wrk")
    if w:  # bench/run.py passes them; a redraw from a kept results.jsonl may not
        idle = settings["cpu_idle_percent_before"]
        out.append(f"{settings['date']}, git `{settings['git_revision']}`, {settings['nproc']} "
                   f"cores, CPU {idle} % idle before the loads; "
                   f"wrk -t{w['threads']} -c{w['connections']}, warm-up {w['warmup']}, "
                   f"{measured(w)}; databases on "
                   f"{settings['data_dir_fstype']}.")
        few = w["runs"] * w.get("rounds", 1) < 3
        if settings.get("quick") or few or idle < 90:
            out += ["", "**Not a reference measurement**: "
                    + ("a quick run; " if settings.get("quick") or few else "")
                    + ("the machine was busy before the loads; " if idle < 90 else "")
                    + "wrk and the server share the same cores."]
    out += ["", "| # | scenario | server | req/s median (min–max) | p50 ms | p99 ms | non-2xx "
            "| other failures | CPU µs/req | peak RSS MiB | / ceiling | / signature bound "
            "| / durable bound | / best peer |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        num, title, _ = SCENARIOS.get(r["scenario"], ("?", r["scenario"], ""))
        other = []
        if r["socket_errors"]:
            other.append(f"{r['socket_errors']} socket")
        if r["bad"]:
            other.append(f"{r['bad']} inactive")
        if r["pool_exhausted"]:
            other.append(f"{r['pool_exhausted']} pool ran out")
        cpu = f"{r['cpu_us_per_request']:.0f}" if r["cpu_us_per_request"] is not None else "—"
        rss = f"{r['peak_rss_mib']:.0f}" if r["peak_rss_mib"] is not None else "—"
        ceiling = fmt_ratio(r["ceiling"], True) if r["ceiling"] else "—"
        bound = fmt_ratio(r["sign_bound"], True) if r.get("sign_bound") else "—"
        durable = fmt_ratio(r["durable_bound"], True) if r.get("durable_bound") else "—"
        peer = (f"{fmt_ratio(r['vs_best_peer'], False)} {r['vs_best_peer']['peer']}"
                if r["vs_best_peer"] else "—")
        out.append(f"| {num} | {title} | {r['server']} | {fmt_rps(r)} | {r['p50_ms']:.2f} "
                   f"| {r['p99_ms']:.2f} | {r['non_2xx']} | {', '.join(other) or 0} | {cpu} "
                   f"| {rss} | {ceiling} | {bound} | {durable} | {peer} |")
    storm = next((r for r in rows if r.get("login_storm")), None)
    if storm:
        s = storm["login_storm"]
        extra = (f"; /v1/me p99 {storm['p99_vs_me_warm']:.1f}× its p99 without the storm (row 4)"
                 if storm.get("p99_vs_me_warm") else "")
        out += ["", f"Sign-in storm beside row 8 ({settings.get('login_connections', '?')} connections, "
                f"one wrk thread): {s['rps_median']:.1f} sign-ins/s, p99 {s['p99_ms']:.0f} ms, "
                f"{s['unexpected_status']} not 303{extra}."]
    out += writer_line(rows)
    if failed:
        out += ["", "Did not complete (see the harness output): "
                + ", ".join(f"{f['scenario']} / {f['server']}" for f in failed) + "."]
    out += ["", "| server | storage and durability | notes |", "|---|---|---|"]
    for name in sorted(servers, key=lambda s: SERVER_ORDER.index(s) if s in SERVER_ORDER else 99):
        out.append(f"| {name} | {servers[name]['storage']} | {servers[name]['notes']} |")
    out += ["", "Columns: see bench/README.md (Performance). / ceiling: the median over the rounds of "
            "the row's req/s over its scenario's hello run of the same round (stagepass-bench-hello "
            "sent the very same requests, run back to back with the row), with the range of those "
            "per-round ratios. / signature bound: the same against hello-sign (stagepass-bench-hello "
            "--sign, the same requests answered with one freshly signed EdDSA token each: what a "
            "server that only mints the token reaches) or, row 5, hello-verify (--verify: the "
            "same requests with tokens as long, each signature verified: what a server that only "
            "checks the token reaches). / durable bound: the same against hello-durable (--durable: "
            "one token signed and one new row committed per answer, SQLite WAL with "
            "synchronous=FULL and group commit, on the file system of stagepass's database: "
            "what a server that only mints the token and makes one row durable reaches). "
            "/ best peer: the same per-round pairing of stagepass with the best "
            "peer of each round. CPU µs/req: the server process's user+system CPU time over the "
            "measured run divided by the requests completed."]
    return "\n".join(out) + "\n"


def human(n):
    for unit, div in (("M", 1_000_000), ("k", 1000)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return f"{n:,}"


def growth_markdown(rows, fills, failed, settings):
    out = ["# Stagepass growth benchmark", ""]
    w = settings.get("wrk")
    if w:
        out.append(f"{settings['date']}, git `{settings['git_revision']}`, {settings['nproc']} "
                   f"cores, CPU {settings['cpu_idle_percent_before']} % idle before the loads; "
                   f"wrk -t{w['threads']} -c{w['connections']}, warm-up {w['warmup']}, "
                   f"{measured(w)}; databases on "
                   f"{settings['data_dir_fstype']}.")
    out += ["", "Each size is a fresh store filled beforehand by `stagepass-bench-seed` with that "
            "many refresh tokens (ten per grant and user). The refresh tokens of rows 2 and 7 are "
            "drawn at random from those (each once; seeded only when they run out, column \"drawn "
            "from the store\"), so the measured lookups land all over the filled store; codes and "
            "access tokens are seeded for each run and come on top, so the store holds what the "
            "fourth column says when the row starts.", "",
            "Each stagepass row ran back to back with its hello ceiling (the same requests, "
            "hello first in odd rounds, last in even ones) at every size: \"/ ceiling\" is the "
            "median of those per-round ratios, and the growth cost, \"/ smallest size, "
            "ceiling-normalised\", is the row's \"/ ceiling\" over the same scenario's at the "
            "smallest size. The sizes were measured minutes apart (and a filling between them), "
            "so the raw \"/ smallest size\" (req/s over req/s) also carries the drift of the "
            "machine; the normalised one cancels what moves a server and its ceiling alike. "
            "Without hello (--servers stagepass) only the raw ratio is given.", "",
            "| # | scenario | filled with | refresh tokens stored | drawn from the store "
            "| req/s median (min–max) | p50 ms | p99 ms | non-2xx | CPU µs/req | peak RSS MiB "
            "| ceiling req/s | / ceiling | / smallest size, ceiling-normalised "
            "| / smallest size, raw |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ceilings = {(r["scenario"], r["size"]): r for r in rows if r["server"] == "hello"}
    for r in rows:
        if r["server"] == "hello":
            continue
        num, title, _ = SCENARIOS.get(r["scenario"], ("?", r["scenario"], ""))
        cpu = f"{r['cpu_us_per_request']:.0f}" if r["cpu_us_per_request"] is not None else "—"
        rss = f"{r['peak_rss_mib']:.0f}" if r["peak_rss_mib"] is not None else "—"
        drawn = f"{r['pool_from_store']:.0%}" if r.get("pool_from_store") is not None else "—"
        stored = (f"{r['stored_refresh_tokens']:,}" if r["stored_refresh_tokens"] is not None
                  else "—")
        hello = ceilings.get((r["scenario"], r["size"]))
        norm = r.get("vs_smallest_ceiling")
        out.append(f"| {num} | {title} | {human(r['size'])} | {stored} "
                   f"| {drawn} | {fmt_rps(r)} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non_2xx']} "
                   f"| {cpu} | {rss} | {fmt_rps(hello) if hello else '—'} "
                   f"| {fmt_ratio(r['ceiling'], True) if r.get('ceiling') else '—'} "
                   f"| {f'{norm:.0%}' if norm is not None else '—'} | {r['vs_smallest']:.0%} |")
    if fills:
        out += ["", "| filled with | seconds to fill | database file |", "|---:|---:|---:|"]
        for f in sorted(fills, key=lambda f: f["size"]):
            out.append(f"| {human(f['size'])} | {f['seconds']:.0f} | "
                       f"{f['database_bytes'] / 2**20:,.0f} MiB |")
    out += writer_line(rows)
    if failed:
        out += ["", "Did not complete (see the harness output): "
                + ", ".join(f"{f['scenario']} / {f['server']} / {human(f['size'] or 0)}"
                            for f in failed) + "."]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("build_dir")
    ap.add_argument("--settings", default="{}")
    a = ap.parse_args()
    settings = json.loads(a.settings)
    settings.setdefault("date", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    records = load(a.results)
    rows, servers, failed, _ = aggregate(records)
    growth = any("size" in r for r in rows)
    fills = [r for r in records if r["type"] == "fill"]
    if growth:
        md = growth_markdown(rows, fills, failed, settings)
    else:
        md = markdown(rows, servers, failed, settings)
    name = "results-growth" if growth else "results"
    md_path = os.path.join(a.build_dir, name + ".md")
    json_path = os.path.join(a.build_dir, name + ".json")
    with open(md_path, "w") as f:
        f.write(md)
    report = {"settings": settings, "rows": rows, "servers": servers, "failed": failed,
              "fills": fills,
              "runs": [r for r in records if r["type"] in ("run", "warmup", "retried")]}
    with open(json_path, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    png = None if growth else plot(rows, a.build_dir, SCENARIOS)
    print(md)
    print(f"wrote {md_path}, {json_path}" + (f", {png}" if png else "" if growth
                                               else " (no gnuplot: no PNG)"))


if __name__ == "__main__":
    main()
