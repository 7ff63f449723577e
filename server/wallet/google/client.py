"""Google Wallet over HTTP: an OAuth token from the service account, classes, objects, save links.

The token comes from the account's `token_uri` (a JWT-bearer assertion
signed with its key) and is reused until a minute before it expires. A class
and its object are created before a save link is handed out (409 means they
exist: the object is then PATCHed to the current content), so the save JWT
holds only the object's id. Updates are PATCHes of the whole object;
`notify=True` (prizes and tier changes only: Google allows three
notifications per pass a day) sets `notifyPreference`.

Transport faults and 5xx/429 answers are retried here with `stamina`; what
still fails raises `GoogleFailed`, and the outbox retries later.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx
import stamina

from server.errors import SocaError
from server.wallet.content import PassContent
from server.wallet.google import jwt
from server.wallet.google.account import ServiceAccount
from server.wallet.google.objects import COLLECTION, class_body, object_body, object_id

SCOPE: Final = "https://www.googleapis.com/auth/wallet_object.issuer"
SAVE_URL: Final = "https://pay.google.com/gp/v/save/"
QUICK_TRIES: Final = 3


class GoogleFailed(SocaError):
    """The Wallet API or the token endpoint did not do what was asked."""

    code = "google_wallet_failed"
    status = 502


class _Transient(Exception):
    """A 5xx or 429: worth another quick try."""


@dataclass(frozen=True)
class GoogleConfig:
    """Which issuer, which account, where the API is."""

    issuer_id: str
    account: ServiceAccount
    api_url: str
    timeout: float = 10.0


class GoogleWalletClient:
    """One HTTP client for the token endpoint and the Wallet API (thread-safe token cache)."""

    def __init__(self, config: GoogleConfig) -> None:
        self.config = config
        self._client: httpx.Client | None = None
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.config.timeout)
        return self._client

    def close(self) -> None:
        """Close the connections (a later call opens new ones)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # ------------------------------------------------------------------ auth

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.config.account.client_email,
            "scope": SCOPE,
            "aud": self.config.account.token_uri,
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode(
            claims, self.config.account.private_key, self.config.account.private_key_id
        )

    def access_token(self) -> str:
        """A bearer token for the Wallet API (fetched again a minute before it expires)."""
        with self._lock:
            if self._token is not None and self._token[1] > time.monotonic() + 60:
                return self._token[0]
            answer = self._call(
                "POST",
                self.config.account.token_uri,
                data={
                    "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    "assertion": self._assertion(),
                },
                authorized=False,
            )
            body = answer.json()
            self._token = (
                str(body["access_token"]),
                time.monotonic() + float(body.get("expires_in", 3600)),
            )
            return self._token[0]

    # -------------------------------------------------------------- requests

    def _call(
        self, method: str, url: str, *, authorized: bool = True, **kwargs: Any
    ) -> httpx.Response:
        try:
            return self._call_with_retries(method, url, authorized=authorized, **kwargs)
        except (httpx.HTTPError, _Transient, ValueError, KeyError) as exc:
            raise GoogleFailed(f"Google Wallet: {method} {url} failed: {exc}") from exc

    @stamina.retry(on=(httpx.TransportError, _Transient), attempts=QUICK_TRIES, wait_max=1.0)
    def _call_with_retries(
        self, method: str, url: str, *, authorized: bool, **kwargs: Any
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.access_token()}"} if authorized else {}
        response = self._http.request(method, url, headers=headers, **kwargs)
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"{response.status_code}: {response.text[:200]}")
        if response.status_code == 401 and authorized:
            self._token = None
            raise _Transient("401: the token was refused; fetching a new one")
        return response

    def _url(self, *parts: str) -> str:
        return "/".join([self.config.api_url.rstrip("/"), *parts])

    # ---------------------------------------------------------------- passes

    def ensure(self, content: PassContent, *, logo_url: str) -> str:
        """Create the pass's class and object (or bring the object up to date); its object id."""
        class_kind, object_kind, _ = COLLECTION[content.kind]
        issuer = self.config.issuer_id
        made = self._call(
            "POST", self._url(class_kind), json=class_body(issuer, content, logo_url=logo_url)
        )
        if made.status_code not in (200, 409):
            raise GoogleFailed(
                f"Google Wallet refused the class ({made.status_code}): {made.text[:200]}"
            )
        body = object_body(issuer, content)
        made = self._call("POST", self._url(object_kind), json=body)
        if made.status_code == 409:
            self.update(content, notify=False)
        elif made.status_code != 200:
            raise GoogleFailed(
                f"Google Wallet refused the object ({made.status_code}): {made.text[:200]}"
            )
        return str(body["id"])

    def update(self, content: PassContent, *, notify: bool) -> None:
        """PATCH the object to the current content; `notify` asks Google to tell the holder."""
        _, object_kind, _ = COLLECTION[content.kind]
        body = object_body(self.config.issuer_id, content)
        if notify:
            body["notifyPreference"] = "notifyOnUpdate"
        answer = self._call("PATCH", self._url(object_kind, body["id"]), json=body)
        if answer.status_code != 200:
            raise GoogleFailed(
                f"Google Wallet refused the update ({answer.status_code}): {answer.text[:200]}"
            )

    def save_url(self, content: PassContent, *, origins: list[str]) -> str:
        """The "Save to Google Wallet" link: a signed JWT holding only the object's id."""
        _, _, payload_key = COLLECTION[content.kind]
        claims = {
            "iss": self.config.account.client_email,
            "aud": "google",
            "typ": "savetowallet",
            "iat": int(time.time()),
            "origins": origins,
            "payload": {payload_key: [{"id": object_id(self.config.issuer_id, content)}]},
        }
        token = jwt.encode(
            claims, self.config.account.private_key, self.config.account.private_key_id
        )
        return SAVE_URL + token
