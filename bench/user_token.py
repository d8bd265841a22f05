#!/usr/bin/env python3
"""Prints a user access token from a running Stagepass server, obtained the way a browser
would: sign in, consent, exchange the code (authorization code + PKCE). Standard library only.

usage: user_token.py ISSUER CLIENT_ID CLIENT_SECRET EMAIL PASSWORD [SCOPE]
The client must have the redirect URI http://127.0.0.1:9/cb registered."""
import base64, hashlib, html.parser, http.cookiejar, json, secrets, sys, urllib.parse, urllib.request

issuer, client_id, client_secret, email, password = sys.argv[1:6]
scope = sys.argv[6] if len(sys.argv) > 6 else "user-read-private user-read-email"
redirect = "http://127.0.0.1:9/cb"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Hidden(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.fields.append((a["name"], a.get("value", "")))


jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))


def call(url, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with opener.open(urllib.request.Request(url, data=data)) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def hidden(page):
    p = Hidden()
    p.feed(page)
    return p.fields


verifier = secrets.token_urlsafe(48)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
authorize = "/authorize?" + urllib.parse.urlencode({
    "client_id": client_id, "response_type": "code", "redirect_uri": redirect, "scope": scope,
    "state": "bench", "code_challenge": challenge, "code_challenge_method": "S256"})
status, _, page = call(issuer + "/login?" + urllib.parse.urlencode({"continue": authorize}))
status, headers, _ = call(issuer + "/login", hidden(page) + [("username", email), ("password", password)])
assert status == 303, f"sign-in answered {status}"
status, headers, page = call(issuer + authorize)
if status == 200:  # consent page
    status, headers, _ = call(issuer + "/authorize", hidden(page) + [("decision", "allow")])
assert status == 303, f"authorize answered {status}"
code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["Location"]).query)["code"][0]
basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
req = urllib.request.Request(issuer + "/api/token", data=urllib.parse.urlencode({
    "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
    "code_verifier": verifier}).encode(), headers={"Authorization": "Basic " + basic})
with urllib.request.urlopen(req) as r:
    print(json.load(r)["access_token"])
