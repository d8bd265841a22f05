"""What every part of the harness uses: messages, a process's CPU time and peak RSS read from
/proc, loopback HTTP probes, the results file and the state of one harness run (Run)."""
import base64
import glob
import http.client
import json
import math
import os
import socket
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

PROG = "run.py"


class Die(Exception):
    """A step failed; the message says which. Inside a pair, the pair is recorded as failed and
    the run goes on; outside, the harness exits 1."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM: every server and load generator is stopped, no report is written."""


def say(message):
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def die(message):
    raise Die(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the ")" that closes the command name (the first is
    the state, field 3), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()


def pid_alive(pid):
    """Whether PID runs and is not a zombie waiting to be reaped."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] != "Z"


def cpu_ticks(pid):
    """utime + stime of the whole process (all its threads), in clock ticks: fields 14 and 15."""
    fields = _stat_fields(pid)
    if not fields:
        die(f"PID {pid} is gone: no CPU time to read")
    return int(fields[11]) + int(fields[12])


def thread_schedstat(pid, comm):
    """(seconds on a CPU, seconds runnable but waiting for one) so far of PID's thread named
    COMM, from /proc/PID/task/*/schedstat (the kernel's own per-thread counts), or None."""
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(os.path.join(task, "comm")) as f:
                if f.read().strip() != comm:
                    continue
            with open(os.path.join(task, "schedstat")) as f:
                ran_ns, waited_ns = f.read().split()[:2]
            return int(ran_ns) / 1e9, int(waited_ns) / 1e9
        except (OSError, ValueError):
            continue
    return None


def tree_cpu_ticks(pid):
    """utime + stime of PID, of its live children and of the children it already reaped
    (cutime + cstime, fields 16 and 17), in clock ticks: the CPU time of a server made of a
    parent and its worker processes (PostgreSQL's postmaster and its backends). 0 when PID is
    gone."""
    fields = _stat_fields(pid)
    if not fields:
        return 0
    total = sum(int(f) for f in fields[11:15])
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == pid:
            continue
        child = _stat_fields(name)
        if child and int(child[1]) == pid:  # field 4: the parent's PID
            total += int(child[11]) + int(child[12])
    return total


def peak_rss_kb(pid):
    """VmHWM of /proc/PID/status, in kB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    die(f"PID {pid} is gone: no peak RSS to read")


def cpu_idle_percent():
    """Share of CPU time idle over one second (user nice system idle iowait irq softirq)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:8]]
        return v[3], sum(v)
    idle1, total1 = sample()
    time.sleep(1)
    idle2, total2 = sample()
    return 100 * (idle2 - idle1) // max(1, total2 - total1)


def seconds(duration):
    """wrk's duration ("10s", "1m", "500ms", "2h", "7") in seconds, for sizing the pools."""
    d = duration.strip()
    if d.endswith("ms"):
        return float(math.ceil(float(d[:-2]) / 1000))
    for suffix, scale in (("s", 1), ("m", 60), ("h", 3600)):
        if d.endswith(suffix):
            return float(d[:-1]) * scale
    return float(d)


def last_json(text):
    """The last line of TEXT that holds a JSON object (wrk's summary, a tool's JSON line)."""
    lines = [line for line in text.splitlines() if line.lstrip().startswith("{")]
    return json.loads(lines[-1]) if lines else None


def read_json_line(path):
    with open(path) as f:
        value = last_json(f.read())
    if value is None:
        die(f"no JSON line in {path}")
    return value


def tail(path, n):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def basic(user, password):
    """An Authorization header value as curl -u USER:PASSWORD sends it."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def form(fields):
    """An application/x-www-form-urlencoded body (RFC 6749 Appendix B)."""
    return urllib.parse.urlencode(fields)


def request(method, url, headers=None, body=None, timeout=30):
    """One HTTP/1.1 request to a loopback URL; returns (status, headers, body bytes). Never
    follows redirects. Raises OSError when nothing answers."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or u.hostname not in ("127.0.0.1", "localhost", "::1"):
        die(f"only loopback http URLs: {url}")
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        body = body.encode() if isinstance(body, str) else body
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn.request(method, target, body, headers)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    except http.client.HTTPException as e:
        raise OSError(str(e)) from e
    finally:
        conn.close()


class Results:
    """RESULTS.jsonl of the run: one JSON object per line (runs, warm-ups, servers, peaks,
    fills, failures), appended as they happen, so a kept run can be redrawn by report.py."""

    def __init__(self, path):
        self.path = path
        open(path, "w").close()

    def append(self, record):
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def mark_last_retried(self):
        """The last run recorded does not count: its pool ran out."""
        with open(self.path) as f:
            lines = f.read().splitlines()
        last = json.loads(lines[-1])
        last["type"] = "retried"
        lines[-1] = json.dumps(last)
        with open(self.path, "w") as f:
            f.write("\n".join(lines) + "\n")


@dataclass
class Run:
    """One harness run: its settings, its data directory (WORK), where it writes, and the
    stagepass site the pairs share, and the shape of its requests (shapes.Shapes) that the
    ceiling runs copy. growth_size is set during a growth run's size."""
    settings: object
    work: str
    fstype: str
    results: Results
    wrk_log: str
    site: object
    shapes: object
    clk_tck: int = field(default_factory=lambda: os.sysconf("SC_CLK_TCK"))
    growth_size: int | None = None

    def child_env(self, extra=None):
        """The environment of the tools the harness starts: the wrk scripts find summary.lua
        and pool.lua through BENCH_DIR, and pool.lua slices the pools by WRK_THREADS."""
        env = dict(os.environ)
        env["BENCH_DIR"] = self.settings.bench_dir
        env["WRK_THREADS"] = str(self.settings.wrk_threads)
        env.update(extra or {})
        return env

    def path(self, *parts):
        return os.path.join(self.work, *parts)
