"""Boots the real Stagepass binary for interop tests and walks its HTML pages like a browser.

Mirrors tests/e2e/lib/server.mjs: a free loopback port, a temp dir holding the SQLite file, the
master key and the captured stdout/stderr, GET /healthz polled until 200, SIGTERM on stop.
Admin helpers run the same binary with the same environment (`stagepass admin ... --json`).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("STAGEPASS_BIN") or str(REPO_ROOT / "build" / "stagepass")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env=None, label="sp-interop"):
        if not os.path.exists(BINARY):
            raise RuntimeError(f"server binary not found at {BINARY} (build it or set STAGEPASS_BIN)")
        self.port = free_port()
        self.tmpdir = tempfile.mkdtemp(prefix=f"{label}-")
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.url = self.issuer
        self.env = dict(os.environ)
        self.env.pop("STAGEPASS_MASTER_KEY", None)
        self.env.update(
            STAGEPASS_LISTEN=f"127.0.0.1:{self.port}",
            STAGEPASS_ISSUER=self.issuer,
            STAGEPASS_DATABASE=os.path.join(self.tmpdir, "stagepass.db"),
            STAGEPASS_MASTER_KEY_FILE=os.path.join(self.tmpdir, "master.key"),
            STAGEPASS_CATALOG_SCALE="0.02",
        )
        for k, v in (env or {}).items():
            if v is None:
                self.env.pop(k, None)
            else:
                self.env[k] = str(v)
        self.stdout_path = os.path.join(self.tmpdir, "stdout.log")
        self.stderr_path = os.path.join(self.tmpdir, "stderr.log")
        self.proc = None

    def logs(self, limit=4000):
        out = []
        for name, path in (("stderr", self.stderr_path), ("stdout", self.stdout_path)):
            try:
                text = Path(path).read_text(errors="replace")
            except OSError:
                text = ""
            out.append(f"--- server {name} ---\n{text[-limit:]}")
        return "\n".join(out)

    def start(self, timeout=15.0):
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [BINARY, "serve"], env=self.env, cwd=self.tmpdir,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            )
        deadline = time.monotonic() + timeout
        problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"stagepass serve exited ({self.proc.returncode}) before becoming healthy\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
                    problem = f"GET /healthz answered {r.status}"
            except urllib.error.HTTPError as e:
                problem = f"GET /healthz answered {e.code}"
            except OSError as e:
                problem = f"GET /healthz failed: {e}"
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"stagepass serve not healthy after {timeout} s ({problem})\n{self.logs()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM, by PID
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        log_dir = os.environ.get("STAGEPASS_E2E_LOG_DIR")
        if log_dir:  # kept for tests/security/log-scan.mjs (see tests/e2e/lib/server.mjs)
            os.makedirs(log_dir, exist_ok=True)
            base = os.path.join(log_dir, os.path.basename(self.tmpdir))
            for name, src in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
                if os.path.exists(src):
                    shutil.copyfile(src, f"{base}.{name}.log")
        if not os.environ.get("STAGEPASS_E2E_KEEP"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def admin_json(self, args, stdin=""):
        cmd = [BINARY, "admin", *args, "--json"]
        r = subprocess.run(cmd, env=self.env, cwd=self.tmpdir, input=stdin, capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[1:])} exited {r.returncode}\nstderr: {r.stderr}\nstdout: {r.stdout}")
        return json.loads(r.stdout)

    def create_user(self, email, password, display_name="Test User"):
        user = self.admin_json(["user", "create", "--email", email, "--display-name", display_name,
                                "--password-stdin"], stdin=password + "\n")
        user["password"] = password
        return user

    def create_client(self, name, redirect_uris, public=False, scopes=None):
        args = ["client", "create", "--name", name]
        for u in redirect_uris:
            args += ["--redirect-uri", u]
        if public:
            args.append("--public")
        if scopes is not None:
            args += ["--scopes", " ".join(scopes) if isinstance(scopes, (list, tuple)) else scopes]
        return self.admin_json(args)


class _Forms(HTMLParser):
    """Collects <form>s with their hidden inputs and buttons (attribute values come unescaped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = {"method": a.get("method", "get").lower(), "action": a.get("action", ""),
                             "hidden": [], "buttons": []}
            self.forms.append(self._current)
        elif self._current is not None and tag == "input":
            if a.get("type", "").lower() == "hidden" and "name" in a:
                self._current["hidden"].append((a["name"], a.get("value", "")))
        elif self._current is not None and tag == "button":
            self._current["buttons"].append(a)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def find_form(html, page_url, path):
    p = _Forms()
    p.feed(html)
    for f in p.forms:
        if f["method"] == "post" and urlsplit(urljoin(page_url, f["action"] or page_url)).path == path:
            return f
    return None


def authorize_in_browser(server, session, url, email, password, decision="allow", max_steps=12):
    """Walks /authorize → /login → consent with a requests.Session, posting the real forms.

    Returns the Location that leaves the server (the client's redirect URI with code/state/iss),
    or raises AssertionError with the trace when the walk stops on a page.
    """
    origin = urlsplit(server.url)[:2]
    trace = []
    resp = session.get(url, allow_redirects=False)
    current = url
    logged_in = False
    for _ in range(max_steps):
        trace.append(f"{resp.request.method} {urlsplit(current).path} -> {resp.status_code} {resp.headers.get('Location', '')}")
        if 300 <= resp.status_code < 400 and "Location" in resp.headers:
            target = urljoin(current, resp.headers["Location"])
            if urlsplit(target)[:2] != origin:
                return target
            current = target
            resp = session.get(target, allow_redirects=False)
            continue
        login = find_form(resp.text, current, "/login")
        if login and not logged_in:
            logged_in = True
            data = list(login["hidden"]) + [("username", email), ("password", password)]
            current = urljoin(current, login["action"] or current)
            resp = session.post(current, data=data, allow_redirects=False,
                                headers={"Origin": server.url})
            continue
        consent = find_form(resp.text, current, "/authorize")
        if consent and any(b.get("name") == "decision" for b in consent["buttons"]):
            data = list(consent["hidden"]) + [("decision", decision)]
            current = urljoin(current, consent["action"] or current)
            resp = session.post(current, data=data, allow_redirects=False,
                                headers={"Origin": server.url})
            continue
        raise AssertionError("authorize walk stopped on a page:\n" + "\n".join(trace) + "\n" + resp.text[:1500])
    raise AssertionError("authorize walk did not finish:\n" + "\n".join(trace))
