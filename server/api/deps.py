"""Request-scoped dependencies every router shares: the unit of work, settings, client address,
the site's address for links in mail.

The session is opened per request and committed once, after the endpoint
returns and *before* the response is sent (`scope="function"`): a failed
commit becomes an error response instead of a success the database never
kept. Services never commit. Before its session, a request takes a slot of
the app's `Admission` gate (server.api.admission): a bounded wait on the
event loop, then 503 with `Retry-After`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from server.api.admission import Admission
from server.db.session import end_unit_of_work
from server.settings import ServerSettings


async def _admitted(request: Request) -> AsyncIterator[None]:
    """A slot of the app's admission gate for the request's database work (Busy if none); on
    `request.state.admission_slot` for a handler that waits without the database."""
    admission: Admission = request.app.state.admission
    async with admission.slot() as held:
        request.state.admission_slot = held
        yield


async def _session(
    request: Request, _slot: Annotated[None, Depends(_admitted, scope="function")]
) -> AsyncIterator[Session]:
    """A unit of work per request: commit once at the end, roll back on error.

    Opening a session does no I/O, so it happens on the event loop; so does the end when
    nothing is left to commit (a page has already committed in `render`). Only an end with
    a transaction open goes to a worker thread: a sync dependency cost two thread hops.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    request.state.db_session = session  # for `server.web.render.render`, the page edge
    try:
        yield session
    except BaseException:
        await _ended(session, commit=False)
        raise
    await _ended(session, commit=True)


async def _ended(session: Session, *, commit: bool) -> None:
    """Commit (or roll back) and close `session`: on a worker thread when a transaction is open
    (shielded: a request cancelled by its client still hands its connection back)."""
    if not session.in_transaction():
        end_unit_of_work(session, commit=commit)
        return
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(end_unit_of_work, session, commit=commit)


def _settings(request: Request) -> ServerSettings:
    """The settings the app was built with."""
    settings: ServerSettings = request.app.state.settings
    return settings


DbSession = Annotated[Session, Depends(_session, scope="function")]
AppSettings = Annotated[ServerSettings, Depends(_settings)]


def client_address(request: Request) -> str:
    """The client address rate limits are keyed on: the TCP peer, or, when the peer is one of
    `SOCA_TRUSTED_PROXIES`, the client its X-Forwarded-For names (uvicorn's proxy-headers
    middleware rewrites the peer; see `server.serving.proxy_options`). Never read here."""
    return request.client.host if request.client else "unknown"


def link_base(request: Request, settings: ServerSettings) -> str:
    """The site's address for links in mail: SOCA_PUBLIC_URL, else the one this request used."""
    return (settings.public_url or str(request.base_url)).rstrip("/")
