#!/usr/bin/env python3
"""Writes COUNT access tokens, one per line, obtained from a server's token endpoint with the
client credentials grant (RFC 6749 §4.4, HTTP Basic client authentication): the tokens a
benchmark then introspects. Works with stagepass and the peers (pass their scope; glewlwyd
refuses a grant without one). Keep-alive connections, THREADS (default 4) in parallel.
Standard library only; loopback URLs only.

usage: mint_tokens.py TOKEN_URL CLIENT_ID CLIENT_SECRET COUNT OUT [SCOPE]"""
import base64, http.client, json, sys, threading, urllib.parse, os

token_url, client_id, client_secret, count, out = sys.argv[1:6]
scope = sys.argv[6] if len(sys.argv) > 6 else ""
count = int(count)
url = urllib.parse.urlsplit(token_url)
if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("mint_tokens.py: only http://127.0.0.1 (loopback) token URLs")
# RFC 6749 §2.3.1: each part form-urlencoded, then Basic.
basic = base64.b64encode(
    f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}".encode()
).decode()
form = {"grant_type": "client_credentials"}
if scope:
    form["scope"] = scope
body = urllib.parse.urlencode(form)
headers = {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}

tokens, errors, lock = [], [], threading.Lock()


def worker(n):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    for _ in range(n):
        conn.request("POST", url.path, body, headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            with lock:
                errors.append(f"{r.status} {data[:200]!r}")
            return
        with lock:
            tokens.append(json.loads(data)["access_token"])
    conn.close()


threads_n = max(1, min(int(os.environ.get("THREADS", "4")), count))
share = [count // threads_n + (1 if i < count % threads_n else 0) for i in range(threads_n)]
threads = [threading.Thread(target=worker, args=(n,)) for n in share]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors or len(tokens) != count:
    sys.exit(f"mint_tokens.py: {len(tokens)} of {count} tokens; first error: "
             f"{errors[0] if errors else 'none'}")
with open(out, "w") as f:
    f.write("".join(t + "\n" for t in tokens))
