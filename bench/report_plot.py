"""The picture of a side-by-side run (bench/report.py): BUILD_DIR/results.png, drawn by gnuplot
from BUILD_DIR/results-plot.dat. One group of bars per scenario: its paired ceiling (hello,
the scenario's own requests) and each server beside it, req/s on a log scale, the median of
the rounds with their min-max; under each group, stagepass / that ceiling (the
median of the per-round ratios). Standard library and gnuplot only."""
import os
import shutil
import subprocess

SERVER_ORDER = ["hello", "hello-sign", "hello-durable", "hello-verify", "stagepass", "glewlwyd", "glewlwyd-1k", "oidc-jwt", "oidc-opaque"]
COLOURS = {"hello": "#9e9e9e", "hello-sign": "#c7c7c7", "hello-durable": "#b0b0b0", "hello-verify": "#dcdcdc", "stagepass": "#1f77b4", "glewlwyd": "#d62728",
           "glewlwyd-1k": "#ff9896", "oidc-jwt": "#2ca02c", "oidc-opaque": "#98df8a"}


def write_data(rows, scenarios, path):
    """One line per scenario: its label, then median, min and max req/s of every server of
    SERVER_ORDER that took part in the run ("-" where a server has no row in the scenario).
    Returns the servers, in column order."""
    servers = [s for s in SERVER_ORDER if any(r["server"] == s for r in rows)]
    order = [s for s in scenarios if any(r["scenario"] == s for r in rows)]
    by = {(r["scenario"], r["server"]): r for r in rows}
    with open(path, "w") as f:
        f.write("# scenario " + " ".join(f"{s}_median {s}_min {s}_max" for s in servers) + "\n")
        for scen in order:
            num = scenarios[scen][0]
            sp = by.get((scen, "stagepass"))
            share = (f"\\n{sp['ceiling']['ratio']:.1%}"
                     if sp and sp.get("ceiling") else "")
            cells = []
            for s in servers:
                r = by.get((scen, s))
                cells += ([f"{r['rps_median']:.1f}", f"{r['rps_min']:.1f}", f"{r['rps_max']:.1f}"]
                          if r else ["-", "-", "-"])
            f.write(f'"{num} {scen}{share}" ' + " ".join(cells) + "\n")
    return servers


def plot(rows, build_dir, scenarios):
    """Draws results.png; returns its path, or None without gnuplot (or rows)."""
    gnuplot = shutil.which("gnuplot")
    data = os.path.join(build_dir, "results-plot.dat")
    png = os.path.join(build_dir, "results.png")
    if not rows:
        return None
    servers = write_data(rows, scenarios, data)
    if not gnuplot:
        return None
    groups = len({r["scenario"] for r in rows})
    width = max(1000, 360 + groups * max(110, 30 + 24 * len(servers)))
    plots = []
    for i, s in enumerate(servers):
        col = 2 + 3 * i
        label = {"hello": "hello (the scenario's ceiling)",
                 "hello-sign": "hello-sign (one EdDSA token per answer: a grant's bound)",
                 "hello-durable": "hello-durable (a token and one durable row per answer: "
                 "a durable grant's bound)",
                 "hello-verify": "hello-verify (one EdDSA signature checked per request: "
                 "a new token's bound)"}.get(s, s)
        plots.append(f"'{data}' using {col}:{col + 1}:{col + 2}"
                     + (":xtic(1)" if i == 0 else "")
                     + f' title "{label}" lc rgb "{COLOURS.get(s, "#000000")}"')
    script = f"""
set terminal pngcairo size {width},600 noenhanced font ',10'
set output '{png}'
set label 1 "req/s per scenario: each server beside the scenario's own ceiling (hello sent the same requests, paired in every round)" at screen 0.01,0.97 left
set label 2 "bars: median of the rounds, whiskers: min-max; under each group: stagepass / its ceiling, the median of the per-round ratios" at screen 0.01,0.93 left
set datafile missing '-'
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y
set yrange [10:*]
set ylabel 'requests per second (log scale)'
set grid ytics
set xtics nomirror scale 0 font ',9'
set key outside right top vertical Left reverse
set bmargin 4
set tmargin 4

plot {', '.join(plots)}
"""
    try:
        subprocess.run([gnuplot], input=script, text=True, check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"report.py: gnuplot failed: {getattr(e, 'stderr', e)}")
        return None
    return png
