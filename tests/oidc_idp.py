"""A local identity provider for tests: OpenID Connect authorization code flow over real HTTP, with keys
generated in the test. `next_identity` is who the next person to log in is."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

CLIENT_ID = "xinyong-test"
CLIENT_SECRET = "test-client-secret"


class TestIdentityProvider:
    __test__ = False  # not a test class

    def __init__(self, algorithm: str = "RS256") -> None:
        self.algorithm = algorithm
        if algorithm == "ES256":
            self.key: Any = ECKey.generate_key("P-256", parameters={"kid": "es-1"}, private=True)
        else:
            self.key = RSAKey.generate_key(2048, parameters={"kid": "rs-1"}, private=True)
        self.keys = KeySet([self.key])
        self.next_identity: dict[str, Any] = {}
        self.codes: dict[str, tuple[str, dict[str, Any]]] = {}
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._server: ThreadingHTTPServer | None = None

    # -- tokens -----------------------------------------------------------------------------------------------

    def id_token(self, nonce: str, claims: dict[str, Any] | None = None, **overrides: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "idp-user-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **(claims if claims is not None else self.next_identity),
            **overrides,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode({"alg": self.algorithm, "kid": self.key.kid}, payload, self.keys)

    def jwks_file(self, directory: Path) -> Path:
        path = directory / "idp-jwks.json"
        path.write_text(json.dumps(self.keys.as_dict(private=False)), encoding="utf-8")
        return path

    def settings(self, directory: Path) -> dict[str, Any]:
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_authorize_url": f"{self.issuer}/authorize",
            "oidc_token_url": f"{self.issuer}/token",
            "oidc_jwks_file": self.jwks_file(directory),
            "oidc_label": "测试身份认证平台",
        }

    # -- the two endpoints ------------------------------------------------------------------------------------

    def authorize(self, url: str) -> str:
        """What the platform does when the person logs in: the redirect back, with a code."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        code = secrets.token_urlsafe(16)
        self.codes[code] = (query["nonce"], dict(self.next_identity))
        back = urllib.parse.urlencode({"code": code, "state": query["state"]})
        return f"{query['redirect_uri']}?{back}"

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("client_secret") != CLIENT_SECRET or form.get("code") not in self.codes:
            return {"error": "invalid_grant"}
        nonce, identity = self.codes.pop(form["code"])
        return {"id_token": self.id_token(nonce, identity), "token_type": "Bearer"}

    # -- over HTTP --------------------------------------------------------------------------------------------

    def start(self) -> TestIdentityProvider:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith("/authorize"):
                    self.send_error(404)
                    return
                self.send_response(302)
                self.send_header("Location", idp.authorize(self.path))
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                body = json.dumps(idp.token(form)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="test-idp", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
