"""A local stand-in for Google: the OAuth token endpoint and the Wallet REST API.

The token endpoint checks the JWT-bearer assertion against the service
account's public key (issuer, scope, audience); the API checks the bearer
token it handed out, keeps classes and objects by id (409 on a second
insert, 404 on a PATCH of an unknown object) and records every request.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.wallet.google import jwt
from server.wallet.google.client import SCOPE

API = "/walletobjects/v1"
COLLECTIONS = ("loyaltyClass", "loyaltyObject", "eventTicketClass", "eventTicketObject")


@dataclass
class Recorded:
    """One request the stand-in answered."""

    method: str
    path: str
    body: Any
    status: int


@dataclass
class GoogleStandIn:
    """Serve on 127.0.0.1 in a thread; `requests` lists what arrived, `stored` what exists."""

    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    email: str = "wallet@soca-test.iam.gserviceaccount.com"
    requests: list[Recorded] = field(default_factory=list)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + API

    def service_account_file(self, folder: Path) -> Path:
        """A service account key file pointing at this stand-in's token endpoint."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        path = folder / "service-account.json"
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "soca-test",
                    "private_key_id": "key-1",
                    "private_key": pem,
                    "client_email": self.email,
                    "token_uri": self.url + "/token",
                }
            )
        )
        return path

    def start(self) -> GoogleStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                standin._handle(self, "POST")

            def do_PATCH(self) -> None:
                standin._handle(self, "PATCH")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def of(self, method: str, prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # ------------------------------------------------------------ answering

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        raw = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        if handler.path == "/token":
            status, answer, body = self._token(raw)
        else:
            body = json.loads(raw or b"null")
            status, answer = self._api(handler, method, body)
        self.requests.append(Recorded(method, handler.path, body, status))
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _token(self, raw: bytes) -> tuple[int, Any, Any]:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        try:
            claims = jwt.decode(form.get("assertion", ""), self.key.public_key())
        except jwt.JwtError:
            return 400, {"error": "invalid_grant"}, form
        good = (
            form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"
            and claims.get("iss") == self.email
            and claims.get("scope") == SCOPE
            and claims.get("aud") == self.url + "/token"
        )
        if not good:
            return 400, {"error": "invalid_grant"}, claims
        token = "ya29." + secrets.token_urlsafe(16)
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}, claims

    def _api(self, handler: BaseHTTPRequestHandler, method: str, body: Any) -> tuple[int, Any]:
        bearer = handler.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.tokens:
            return 401, {"error": {"code": 401}}
        parts = handler.path.removeprefix(API + "/").split("/")
        if parts[0] not in COLLECTIONS or not isinstance(body, dict):
            return 404, {"error": {"code": 404}}
        key = f"{parts[0]}/{parts[1] if len(parts) > 1 else body.get('id')}"
        if method == "POST":
            if key in self.stored:
                return 409, {"error": {"code": 409, "message": "already exists"}}
            self.stored[key] = body
            return 200, body
        if key not in self.stored or body.get("id") != parts[1]:
            return 404, {"error": {"code": 404}}
        self.stored[key] = {**self.stored[key], **body}
        return 200, self.stored[key]
