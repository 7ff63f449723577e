"""Pushes to Apple's APNs over HTTP/2: "this pass changed", nothing more.

For Wallet, APNs takes the Pass Type ID certificate as the TLS client
certificate, the pass type id as `apns-topic`, and an empty JSON payload; the
phone then asks our web service which of its passes changed. A 410 means the
phone no longer wants pushes for that token: the caller removes the
registration. `SOCA_APNS_URL` points elsewhere for a local stand-in, and
`SOCA_APNS_CA_FILE` trusts that stand-in's own certificate authority.

Errors are translated at this boundary: a refused or unreachable APNs raises
`PushFailed` (the outbox retries later); transient faults are first retried
here with `stamina` (a few quick tries with backoff).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

import httpx
import stamina

from server.errors import SocaError

#: Quick retries of a transient fault inside one delivery attempt.
QUICK_TRIES: Final = 3


class PushFailed(SocaError):
    """APNs did not take the push (network, or an answer other than 200 or 410)."""

    code = "push_failed"
    status = 502


class _Transient(Exception):
    """A 5xx or 429 from APNs: worth another quick try."""


class PushResult(StrEnum):
    """What APNs said about one device token."""

    SENT = "sent"
    GONE = "gone"  # 410: the device unregistered; forget its token


@dataclass(frozen=True)
class ApnsConfig:
    """Where APNs is and how we prove who we are."""

    base_url: str
    topic: str  # the pass type id
    cert_file: Path
    key_file: Path
    ca_file: Path | None = None
    timeout: float = 10.0


def tls_context(config: ApnsConfig) -> ssl.SSLContext:
    """A client context with our certificate, HTTP/2 by ALPN, and APNs' (or a stand-in's) CA."""
    context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    context.load_cert_chain(str(config.cert_file), str(config.key_file))
    context.set_alpn_protocols(["h2"])
    return context


class ApnsClient:
    """One HTTP/2 connection to APNs, reused for every push (as Apple asks)."""

    def __init__(self, config: ApnsConfig) -> None:
        self.config = config
        self._client = httpx.Client(
            http1=False,
            http2=True,
            verify=tls_context(config),
            base_url=config.base_url.rstrip("/"),
            timeout=config.timeout,
        )

    def close(self) -> None:
        """Close the connection."""
        self._client.close()

    def push(self, device_token: str) -> PushResult:
        """Tell one device its pass changed; PushFailed when APNs would not take it."""
        try:
            return self._push_with_retries(device_token)
        except (httpx.HTTPError, _Transient) as exc:
            raise PushFailed(f"APNs push failed: {exc}") from exc

    @stamina.retry(on=(httpx.TransportError, _Transient), attempts=QUICK_TRIES, wait_max=1.0)
    def _push_with_retries(self, device_token: str) -> PushResult:
        response = self._client.post(
            f"/3/device/{device_token}",
            content=b"{}",
            headers={"apns-topic": self.config.topic, "content-type": "application/json"},
        )
        if response.status_code == 200:
            return PushResult.SENT
        if response.status_code == 410:
            return PushResult.GONE
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"APNs answered {response.status_code}: {response.text[:200]}")
        raise PushFailed(f"APNs refused the push ({response.status_code}): {response.text[:200]}")
