"""Admission: at most `capacity` requests of a process use the database at once.

Synchronous handlers hold a pooled connection for the whole request. When
the CPU is the bottleneck (a whole fête opening /passport at once) requests
used to queue for a thread, then for a connection, for up to 30 s, and then
fail anyway. Here a request that needs the database (`DbSession`) first
takes one of `capacity` slots (SOCA_DB_CONCURRENCY, never more than the pool's
connections), waiting on the event loop (no thread, no
connection held) for at most `wait_seconds`; a request that waits longer is
answered 503 with `Retry-After` at once (the error page on page paths), so a
phone retries instead of hanging. The pool's own timeout is the same bound,
for the sessions opened outside a request.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.api.errors import HttpError

#: What a refused request is told.
BUSY_MESSAGE = "Soca Passport is very busy right now. Please try again in a few seconds."


class Busy(HttpError):
    """The server is at capacity: try again after `Retry-After` seconds."""

    code = "busy"
    status = 503

    def __init__(self, retry_after: int) -> None:
        super().__init__(BUSY_MESSAGE, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def retry_after_for(wait_seconds: float) -> int:
    """The `Retry-After` a refused request gets: half the wait bound, at least one second."""
    return max(1, math.ceil(wait_seconds / 2))


class Admission:
    """A per-process gate of `capacity` slots (None: no gate) with a bounded wait."""

    def __init__(self, capacity: int | None, wait_seconds: float) -> None:
        self.capacity = capacity
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after_for(wait_seconds)
        # One semaphore per event loop: a served process has one; test clients start several.
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _gate(self) -> asyncio.Semaphore | None:
        if self.capacity is None:
            return None
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.capacity)
        return gate

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold one slot for the block; raise Busy when none frees up within the wait."""
        held = Slot(self._gate(), self)
        await held.take()
        try:
            yield held
        finally:
            held.give_back()


class Slot:
    """One request's hold on the gate, which a wait that holds no connection lends back.

    Only the request's own task touches it (on the event loop), so it needs no lock.
    """

    def __init__(self, gate: asyncio.Semaphore | None, admission: Admission) -> None:
        self._gate = gate
        self._admission = admission
        self._holding = False

    async def take(self) -> None:
        """Take a slot within the admission's wait (Busy otherwise)."""
        if self._gate is None or self._holding:
            return
        if not self._gate.locked():  # free now: taken at once, without a timed wait's task
            await self._gate.acquire()
            self._holding = True
            return
        try:
            await asyncio.wait_for(self._gate.acquire(), self._admission.wait_seconds)
        except TimeoutError:
            raise Busy(self._admission.retry_after) from None
        self._holding = True

    def give_back(self) -> None:
        """Free the slot if held (twice is harmless)."""
        if self._gate is not None and self._holding:
            self._holding = False
            self._gate.release()

    @asynccontextmanager
    async def lent(self) -> AsyncIterator[None]:
        """Free the slot for a wait that holds no database connection (a waiting pull), then
        take one again: twenty doors waiting for news must not starve the pages."""
        self.give_back()
        try:
            yield
        finally:
            await self.take()
