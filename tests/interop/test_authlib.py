"""Interop with Debian's python3-authlib (requests client) against the real Stagepass server."""

import base64
import json
import os
import sys
import unittest
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.integrations.base_client.errors import OAuthError  # noqa: E402

from server import Server, authorize_in_browser  # noqa: E402

REDIRECT = "https://app.example/callback"
ALICE_EMAIL = "alice@example.com"
ALICE_PASSWORD = "alice-correct-horse-1"


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class AuthlibInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Plain http is only used on loopback here; authlib refuses it without this switch.
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
        cls.server = Server(label="sp-authlib").start()
        try:
            cls.alice = cls.server.create_user(ALICE_EMAIL, ALICE_PASSWORD, "Alice Example")
            cls.conf = cls.server.create_client("authlib app", [REDIRECT])
            cls.pub = cls.server.create_client("authlib native", [REDIRECT], public=True)
            r = requests.get(f"{cls.server.url}/.well-known/oauth-authorization-server", timeout=10)
            r.raise_for_status()
            cls.meta = r.json()
        except Exception:
            cls.server.stop()
            raise
        cls.browser = requests.Session()

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.server.stop()

    def session(self, *args, **kwargs):
        sess = OAuth2Session(*args, **kwargs)
        self.addCleanup(sess.close)
        return sess

    def authorize(self, sess, scope):
        verifier = generate_token(48)
        uri, state = sess.create_authorization_url(self.meta["authorization_endpoint"], code_verifier=verifier,
                                                   scope=scope)
        location = authorize_in_browser(self.server, self.browser, uri, ALICE_EMAIL, ALICE_PASSWORD)
        params = parse_qs(urlsplit(location).query)
        self.assertTrue(location.startswith(REDIRECT + "?"), location)
        self.assertEqual(params.get("state"), [state])
        self.assertEqual(params.get("iss"), [self.server.issuer])
        return location, state, verifier

    def test_metadata(self):
        self.assertEqual(self.meta["issuer"], self.server.issuer)
        self.assertEqual(self.meta["token_endpoint"], self.server.issuer + "/api/token")
        self.assertEqual(self.meta["authorization_endpoint"], self.server.issuer + "/authorize")
        self.assertIn("S256", self.meta["code_challenge_methods_supported"])

    def test_client_credentials_basic(self):
        sess = self.session(self.conf["client_id"], self.conf["client_secret"],
                             token_endpoint_auth_method="client_secret_basic")
        token = sess.fetch_token(self.meta["token_endpoint"], grant_type="client_credentials")
        self.assertEqual(token["token_type"], "Bearer")
        self.assertEqual(token["expires_in"], 3600)
        self.assertNotIn("refresh_token", token)
        self.assertEqual(jwt_payload(token["access_token"])["sub"], self.conf["client_id"])

    def test_client_credentials_post(self):
        sess = self.session(self.conf["client_id"], self.conf["client_secret"],
                             token_endpoint_auth_method="client_secret_post")
        token = sess.fetch_token(self.meta["token_endpoint"], grant_type="client_credentials")
        self.assertEqual(token["token_type"], "Bearer")
        self.assertEqual(jwt_payload(token["access_token"])["client_id"], self.conf["client_id"])

    def test_authorization_code_pkce_and_refresh(self):
        scope = "user-read-private user-library-read"
        sess = self.session(self.conf["client_id"], self.conf["client_secret"], scope=scope,
                             redirect_uri=REDIRECT, code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic")
        location, state, verifier = self.authorize(sess, scope)
        token = sess.fetch_token(self.meta["token_endpoint"], authorization_response=location, state=state,
                                 code_verifier=verifier)
        self.assertEqual(token["token_type"], "Bearer")
        self.assertEqual(token["expires_in"], 3600)
        self.assertEqual(set(token["scope"].split()), set(scope.split()))
        self.assertTrue(token.get("refresh_token"))
        claims = jwt_payload(token["access_token"])
        self.assertEqual(claims["sub"], str(self.alice["id"]))
        self.assertEqual(claims["aud"] if isinstance(claims["aud"], str) else claims["aud"][0],
                         self.server.issuer + "/v1")

        refreshed = sess.refresh_token(self.meta["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertTrue(refreshed.get("access_token"))
        self.assertTrue(refreshed.get("refresh_token"))
        self.assertNotEqual(refreshed["refresh_token"], token["refresh_token"])

        # Once the successor was used, the first token is reuse (alone and inside the grace
        # window it would be answered as a retry after a lost response).
        sess.refresh_token(self.meta["token_endpoint"], refresh_token=refreshed["refresh_token"])
        with self.assertRaises(OAuthError) as ctx:
            sess.refresh_token(self.meta["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertEqual(ctx.exception.error, "invalid_grant")

    def test_authorization_code_pkce_post_auth(self):
        scope = "user-read-email"
        sess = self.session(self.conf["client_id"], self.conf["client_secret"], scope=scope,
                             redirect_uri=REDIRECT, code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_post")
        location, state, verifier = self.authorize(sess, scope)
        token = sess.fetch_token(self.meta["token_endpoint"], authorization_response=location, state=state,
                                 code_verifier=verifier)
        self.assertEqual(token["scope"], scope)

    def test_public_client_pkce_and_refresh(self):
        scope = "user-follow-read"
        sess = self.session(self.pub["client_id"], scope=scope, redirect_uri=REDIRECT,
                             code_challenge_method="S256", token_endpoint_auth_method="none")
        location, state, verifier = self.authorize(sess, scope)
        token = sess.fetch_token(self.meta["token_endpoint"], authorization_response=location, state=state,
                                 code_verifier=verifier)
        self.assertEqual(jwt_payload(token["access_token"])["client_id"], self.pub["client_id"])
        refreshed = sess.refresh_token(self.meta["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertNotEqual(refreshed["refresh_token"], token["refresh_token"])


if __name__ == "__main__":
    unittest.main()
