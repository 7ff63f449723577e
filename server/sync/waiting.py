"""A waiting pull (`GET /sync/pull?wait=S`): answer as soon as the device's scope changes.

The wait holds no transaction and no connection (on SQLite every transaction
takes the write lock): the request's own transaction is ended first, then
the scope is read in short transactions of their own. A commit of this
process that wrote change rows moves `changelog.generation()`, checked every
`TICK` seconds, and the scope is read at once; changes committed by other
processes (a multi-worker server) are found by reading it every `DB_POLL`
seconds. An async wait holds no worker thread, so many kiosks can wait.

When the server shuts down (`release_all`, called by `server.serving.Server`)
every wait ends at once with no change: uvicorn lets each open request finish
before it stops, and a kiosk's waiting pull would otherwise hold a restart for
up to `PULL_WAIT_SECONDS`. The kiosk simply asks again, of the next server.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from server.db import changelog
from server.db.models import Device
from server.sync import pull

TICK = 0.02
DB_POLL = 0.5
#: Set once, when this process's server begins to shut down.
_RELEASED = threading.Event()


def release_all() -> None:
    """This process is shutting down: every waiting pull answers now, and none waits again."""
    _RELEASED.set()


def _scope_changed(
    factory: sessionmaker[Session], device_id: uuid.UUID, cursor: str | None
) -> bool:
    with factory() as session:
        device = session.get(Device, device_id)
        if device is None or device.revoked_at is not None:
            return True  # answer now: the pull itself says what is wrong
        return pull.has_changes(session, device=device, cursor=cursor)


async def until_changed(
    factory: sessionmaker[Session], *, device_id: uuid.UUID, cursor: str | None, seconds: float
) -> bool:
    """Wait up to `seconds` for a change in the device's scope after `cursor`; True if one came."""
    pull.parse_cursor(cursor)  # a bad cursor is refused before any wait
    deadline = time.monotonic() + seconds
    seen = changelog.generation()
    next_read = 0.0
    while True:
        now = time.monotonic()
        if changelog.generation() != seen or now >= next_read:
            seen = changelog.generation()
            if await run_in_threadpool(_scope_changed, factory, device_id, cursor):
                return True
            next_read = time.monotonic() + DB_POLL
        now = time.monotonic()
        if now >= deadline or _RELEASED.is_set():
            return False
        await asyncio.sleep(min(TICK, deadline - now))
