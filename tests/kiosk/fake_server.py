"""An in-process stand-in for the sync server, behind `httpx.MockTransport`, with fault injection.

It keeps the contract's promises that the kiosk relies on (a repeated op gets
its first result; pages end with `more: false`) and nothing else, so the
kiosk's client and sync cycle can be tested without the real server.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx

from core.reasons import Reason
from core.wire import (
    DeviceRole,
    DeviceScope,
    Op,
    OpResult,
    OpStatus,
    PairResponse,
    PullResponse,
    PushRequest,
    PushResponse,
)

Decide = Callable[[Op], OpResult]


def apply_all(op: Op) -> OpResult:
    """The default rule: every op applies."""
    return OpResult(op_id=op.op_id, status=OpStatus.APPLIED)


class Drip(httpx.SyncByteStream):
    """A response body sent one byte at a time, `delay` seconds apart."""

    def __init__(self, body: bytes, delay: float) -> None:
        self.body = body
        self.delay = delay

    def __iter__(self) -> Iterator[bytes]:
        for index in range(len(self.body)):
            time.sleep(self.delay)
            yield self.body[index : index + 1]


class FakeServer:
    """Pair, pull and push per the contract; `faults` are consumed one per request, in order."""

    def __init__(
        self,
        pages: list[PullResponse],
        *,
        token: str = "test-token",
        server_offset: timedelta = timedelta(0),
        decide: Decide = apply_all,
    ) -> None:
        self.pages = pages
        self.token = token
        self.server_offset = server_offset
        self.decide = decide
        self.results: dict[uuid.UUID, OpResult] = {}
        self.received: list[uuid.UUID] = []
        self.faults: list[str] = []
        self.requests: list[str] = []
        self.revoked = False
        self.pair_scope = DeviceScope()
        self.pair_role = DeviceRole.DOOR
        self.lock = threading.Lock()

    def transport(self) -> httpx.MockTransport:
        """A transport for `httpx.Client` routing to this server."""
        return httpx.MockTransport(self.handle)

    def now(self) -> datetime:
        """The server's clock."""
        return datetime.now(UTC) + self.server_offset

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route one request, applying the next fault first."""
        with self.lock:
            self.requests.append(f"{request.method} {request.url.path}")
            fault = self.faults.pop(0) if self.faults else None
        if fault == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "500":
            return httpx.Response(500, text="Internal Server Error")
        if fault == "429":
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"detail": "slow down"})
        path = request.url.path
        if path.endswith("/devices/pair"):
            return self._pair(request)
        if request.headers.get("authorization") != f"Bearer {self.token}" or self.revoked:
            return httpx.Response(401, json={"detail": "device revoked"})
        if path.endswith("/sync/pull"):
            response = self._pull(request)
        elif path.endswith("/sync/push"):
            response = self._push(request)
        else:
            return httpx.Response(404, json={"detail": "no such route"})
        if fault == "drop":  # the server committed, the response never arrives
            raise httpx.ReadError("connection reset by peer", request=request)
        if fault == "drip":
            return httpx.Response(200, stream=Drip(response.content, 0.05))
        return response

    def _pair(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("code") != "GOOD-CODE":
            return httpx.Response(404, json={"detail": "unknown or used pairing code"})
        response = PairResponse(
            device_id=uuid.uuid4(), token=self.token, role=self.pair_role, scope=self.pair_scope
        )
        return httpx.Response(201, content=response.model_dump_json())

    def _pull(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        index = int(cursor) if cursor else 0
        if index >= len(self.pages):
            page = PullResponse(cursor=str(index), more=False, server_time=self.now())
        else:
            page = self.pages[index].model_copy(
                update={
                    "cursor": str(index + 1),
                    "more": index + 1 < len(self.pages),
                    "server_time": self.now(),
                }
            )
        return httpx.Response(200, content=page.model_dump_json())

    def _push(self, request: httpx.Request) -> httpx.Response:
        push = PushRequest.model_validate_json(request.content)
        results = []
        with self.lock:
            for op in push.ops:
                self.received.append(op.op_id)
                if op.op_id not in self.results:
                    self.results[op.op_id] = self.decide(op)
                results.append(self.results[op.op_id])
        body = PushResponse(server_time=self.now(), results=results)
        return httpx.Response(200, content=body.model_dump_json())


def reject_type(op_type: str, reason: Reason = Reason.UNKNOWN_OFFER) -> Decide:
    """A rule rejecting every op of one type, applying the rest."""

    def decide(op: Op) -> OpResult:
        if op.type.value == op_type:
            return OpResult(op_id=op.op_id, status=OpStatus.REJECTED, reason=reason, message="no")
        return apply_all(op)

    return decide
