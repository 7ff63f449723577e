"""The HTTP client for pairing, pull and push, exactly per the contract (ARCHITECTURE.md, "HTTP").

Errors are translated here, once, into the kiosk's tree (`kiosk.errors`):

    httpx.TransportError, 5xx, 429, deadline  ->  ServerUnavailable  (after retries)
    401                                        ->  DeviceRevoked      (never retried)
    any other 4xx                              ->  RequestRefused     (never retried)
    a body that is not the contract's model    ->  BadResponse

Transient failures (network errors, 5xx, 429) are retried by stamina, which
counts the attempts and keeps the time budget; the wait before each retry is
full-jitter exponential backoff, uniform(0, min(cap, initial * 2**n)), or the
server's Retry-After on a 429. Every request has one overall deadline that
covers all its attempts and the reading of each body: a server that drips a
response byte by byte is cut off at the deadline, not kept alive by each byte.
Pairing is retried only when the request cannot have reached the server
(a code works once).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import httpx
import stamina
from pydantic import BaseModel, ValidationError
from stamina.instrumentation import RetryDetails

from core.clock import Clock, SystemClock
from core.wire import (
    HeldRequest,
    HeldResponse,
    HubInfo,
    PairRequest,
    PairResponse,
    PullResponse,
    PushRequest,
    PushResponse,
)
from kiosk.errors import BadResponse, DeviceRevoked, RequestRefused, ServerUnavailable

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 256 * 1024 * 1024
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one request tries: attempts, overall deadline, timeouts and backoff bounds."""

    attempts: int = 6
    deadline_s: float = 30.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0


@dataclass(frozen=True, slots=True)
class Timed(Generic[T]):
    """A response with the device's raw clock just before sending and just after receiving."""

    value: T
    sent_at: datetime
    received_at: datetime


class _Transient(Exception):
    """A retryable HTTP status (5xx, 429), with the server's Retry-After if it gave one."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _DeadlineExceeded(Exception):
    """The request's overall deadline passed before a complete response arrived."""


@dataclass(frozen=True, slots=True)
class _Raw:
    status: int
    body: bytes
    sent_at: datetime
    received_at: datetime


class _FullJitter:
    """stamina's backoff hook for one request: which errors to retry and how long to wait."""

    def __init__(self, policy: RetryPolicy, deadline: float, *, only_unsent: bool) -> None:
        self.policy = policy
        self.deadline = deadline
        self.only_unsent = only_unsent
        self.retries = 0

    def __call__(self, exc: Exception) -> bool | float:
        if self.only_unsent:
            retryable = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        else:
            retryable = isinstance(exc, httpx.TransportError | _Transient)
        if not retryable:
            return False
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            wait = exc.retry_after
        else:
            cap = min(self.policy.backoff_max_s, self.policy.backoff_initial_s * 2**self.retries)
            wait = random.uniform(0, cap)
        self.retries += 1
        if time.monotonic() + wait >= self.deadline:
            return False
        return float(wait)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _detail(body: bytes) -> str:
    """The server's own sentence from an error body (`{"error": {"code", "message"}}`, ...)."""
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:300] or "no detail"
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = data["error"]  # this server's shape
    if isinstance(data, dict):
        for key in ("message", "detail", "reason", "error"):
            value = data.get(key)
            if isinstance(value, str):
                return value[:300]
            if value is not None:
                return json.dumps(value)[:300]
    return json.dumps(data)[:300]


def what_failed(exc: BaseException) -> str:
    """A transient failure as a person reads it ("the server is busy (HTTP 429)")."""
    if isinstance(exc, _Transient):
        if exc.status == httpx.codes.TOO_MANY_REQUESTS:
            return "the server is busy (HTTP 429)"
        return f"the server had a problem (HTTP {exc.status})"
    if isinstance(exc, httpx.ConnectTimeout):
        return "the server did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "no connection (the server is down, the address is wrong, or no network)"
    if isinstance(exc, httpx.TimeoutException):
        return "the server stopped answering"
    if isinstance(exc, httpx.TransportError):
        return "the connection broke"
    if isinstance(exc, _DeadlineExceeded):
        return str(exc)
    return type(exc).__name__


def describe_retry(details: RetryDetails) -> str:
    """One stamina retry in words: what failed and when the next try is (for `soca-kiosk sync`)."""
    return (
        f"{what_failed(details.caused_by)}: trying again in {details.wait_for:.1f} s "
        f"(retry {details.retry_num})"
    )


class SyncClient:
    """Pair, pull and push over HTTP with retries, deadlines and one error tree.

    Threading contract: an instance (and its connection pool) belongs to one
    thread, the sync loop's, or a command's; it holds no database.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        headers = {"Accept": "application/json", "User-Agent": "soca-kiosk"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX, headers=headers, transport=transport
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the contract

    def pair(self, *, code: str, name: str) -> PairResponse:
        """`POST /devices/pair`: trade a one-time code for a device id, token, role and scope."""
        body = PairRequest(code=code, name=name).model_dump(mode="json")
        try:
            raw = self._request("POST", "/devices/pair", json_body=body, only_unsent=True)
        except DeviceRevoked as exc:
            raise RequestRefused("the server refused the pairing code", status=401) from exc
        except RequestRefused as exc:
            raise RequestRefused(
                f"the server refused the pairing code: {exc.detail}",
                status=exc.status,
                detail=exc.detail,
            ) from exc
        return self._parse(raw, PairResponse, "/devices/pair")

    def pull(self, *, cursor: str | None, limit: int) -> Timed[PullResponse]:
        """`GET /sync/pull`: one page of changes after `cursor` (None: from the start)."""
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        raw = self._request("GET", "/sync/pull", params=params)
        return Timed(self._parse(raw, PullResponse, "/sync/pull"), raw.sent_at, raw.received_at)

    def hub_info(self) -> HubInfo:
        """`GET /hub/info`: whether this server is a venue hub, for which events, and HQ's URL."""
        raw = self._request("GET", "/hub/info")
        return self._parse(raw, HubInfo, "/hub/info")

    def held(self, op_ids: list[uuid.UUID]) -> HeldResponse:
        """`POST /hub/held`: which of these ops HQ holds, the hub holds, or nobody knows."""
        body = HeldRequest(op_ids=op_ids).model_dump(mode="json")
        raw = self._request("POST", "/hub/held", json_body=body)
        return self._parse(raw, HeldResponse, "/hub/held")

    def push(self, request: PushRequest) -> Timed[PushResponse]:
        """`POST /sync/push`: send up to 1000 ops; one result per op."""
        raw = self._request("POST", "/sync/push", json_body=request.model_dump(mode="json"))
        return Timed(self._parse(raw, PushResponse, "/sync/push"), raw.sent_at, raw.received_at)

    # ------------------------------------------------------------------ machinery

    def _parse(self, raw: _Raw, model: type[M], path: str) -> M:
        try:
            return model.model_validate_json(raw.body)
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": str(exc)}
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise BadResponse(
                f"{self.base_url}{API_PREFIX}{path} answered HTTP {raw.status} with a body that "
                f"is not the contract's {model.__name__} ({where}: {first['msg']})"
            ) from exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
        only_unsent: bool = False,
    ) -> _Raw:
        deadline = time.monotonic() + self.policy.deadline_s
        hook = _FullJitter(self.policy, deadline, only_unsent=only_unsent)
        where = f"{self.base_url}{API_PREFIX}{path}"
        attempts = 0
        try:
            for attempt in stamina.retry_context(
                on=hook,
                attempts=self.policy.attempts,
                timeout=self.policy.deadline_s,
                wait_initial=self.policy.backoff_initial_s,
                wait_max=self.policy.backoff_max_s,
                wait_jitter=0,
            ):
                with attempt:
                    attempts += 1
                    return self._attempt(method, path, json_body, params, deadline)
        except _Transient as exc:
            raise ServerUnavailable(
                f"the server at {self.base_url} answered HTTP {exc.status} on {attempts} "
                f"attempt(s): {what_failed(exc)}"
            ) from exc
        except _DeadlineExceeded as exc:
            raise ServerUnavailable(f"{where}: {exc}") from exc
        except httpx.TransportError as exc:
            raise ServerUnavailable(
                f"cannot reach the server at {self.base_url} after {attempts} attempt(s): "
                f"{what_failed(exc)}"
            ) from exc
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"{where}: {type(exc).__name__}: {exc}") from exc
        raise ServerUnavailable(f"{where}: no attempt was made")  # pragma: no cover

    def _attempt(
        self,
        method: str,
        path: str,
        json_body: Any,
        params: Mapping[str, str | int] | None,
        deadline: float,
    ) -> _Raw:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineExceeded(f"no complete response within {self.policy.deadline_s:g} s")
        timeout = httpx.Timeout(
            min(self.policy.read_timeout_s, remaining),
            connect=min(self.policy.connect_timeout_s, remaining),
        )
        sent_at = self.clock.now()
        with self._http.stream(
            method, path, json=json_body, params=params, timeout=timeout
        ) as response:
            body = self._read(response, deadline)
        received_at = self.clock.now()
        status = response.status_code
        if status == httpx.codes.UNAUTHORIZED:
            raise DeviceRevoked(
                f"the server refused this device's token (HTTP 401: {_detail(body)}); "
                "the device is revoked or unknown: pair it again"
            )
        if status == httpx.codes.TOO_MANY_REQUESTS or status >= 500:
            raise _Transient(status, _retry_after(response.headers))
        if status >= 400:
            detail = _detail(body)
            raise RequestRefused(
                f"the server refused this request (HTTP {status}): {detail}",
                status=status,
                detail=detail,
            )
        return _Raw(status, body, sent_at, received_at)

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                raise BadResponse(f"response larger than {MAX_BODY_BYTES} bytes")
            if time.monotonic() > deadline:
                raise _DeadlineExceeded(
                    f"the response was still arriving after {self.policy.deadline_s:g} s"
                )
        return bytes(body)
