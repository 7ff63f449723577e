"""Overload degrades, never fails late: a bounded wait for the database, then 503 + Retry-After.

The requests go through the real app over ASGI on the event loop that holds
the gate's slots; the database is the run's PostgreSQL schema.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy import Engine

from server.api.admission import BUSY_MESSAGE
from server.app import create_app
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.domain import accounts
from server.settings import ServerSettings
from tests.conftest import _Databases, postgres_url
from tests.server.api.conftest import empty_tables
from tests.server.sync.world import build_world


def _settings(**values: Any) -> ServerSettings:
    return ServerSettings(database_url=postgres_url(), secret_key="test", **values)


async def _get(app: object, *paths: str) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return [await client.get(path) for path in paths]


def _postgres(databases: _Databases) -> Engine:
    return databases.engine("postgresql")


def test_a_request_that_finds_every_slot_taken_gets_503_with_retry_after_soon(
    databases: _Databases,
) -> None:
    settings = _settings(db_pool_size=1, db_pool_overflow=0, db_pool_timeout=0.4)
    app = create_app(settings, engine=_postgres(databases))

    async def crowded() -> tuple[list[httpx.Response], float, list[httpx.Response]]:
        started = time.perf_counter()
        async with app.state.admission.slot():  # someone else holds the only slot
            refused = await _get(app, "/api/passport/landing-info", "/socaport-app")
        waited = time.perf_counter() - started
        return refused, waited, await _get(app, "/api/passport/landing-info")

    (api, page), waited, (later,) = asyncio.run(crowded())
    assert api.status_code == 503 and api.headers["retry-after"] == "1"
    assert api.json()["error"] == {"code": "busy", "message": BUSY_MESSAGE}
    assert page.status_code == 503 and page.headers["retry-after"] == "1"
    assert "Busy right now" in page.text and BUSY_MESSAGE in page.text
    assert '<meta http-equiv="refresh" content="1">' in page.text  # the phone retries itself
    assert 0.8 <= waited < 3  # two bounded waits of 0.4 s, not 30 s each
    assert later.status_code == 200  # the slot freed, the next request is served


def test_requests_wait_for_a_slot_that_frees_within_the_bound(databases: _Databases) -> None:
    settings = _settings(db_pool_size=1, db_pool_overflow=0, db_pool_timeout=5)
    app = create_app(settings, engine=_postgres(databases))

    async def queued() -> list[int]:
        async def hold_briefly() -> None:
            async with app.state.admission.slot():
                await asyncio.sleep(0.3)

        holder = asyncio.create_task(hold_briefly())
        await asyncio.sleep(0.05)
        answers = await asyncio.gather(*(_get(app, "/socaport-app") for _ in range(4)))
        await holder
        return [answer.status_code for (answer,) in answers]

    assert asyncio.run(queued()) == [200, 200, 200, 200]


def test_a_pool_that_times_out_answers_503_with_retry_after(databases: _Databases) -> None:
    """The pool's own bound (for work outside the gate) gives the same answer."""
    _postgres(databases)  # migrated
    engine = make_engine(
        postgres_url(),
        connect_args={"options": f"-csearch_path={databases.schema}"},
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.3,
    )
    settings = _settings(db_pool_size=5, db_pool_overflow=0, db_pool_timeout=3)
    app = create_app(settings, engine=engine)
    try:
        with engine.connect():  # the pool's only connection, held elsewhere
            (answer,) = asyncio.run(_get(app, "/api/passport/landing-info"))
    finally:
        engine.dispose()
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "2"
    assert answer.json()["error"]["code"] == "busy"


def test_settings_size_the_pool_and_the_gate(databases: _Databases) -> None:
    settings = _settings(db_pool_size=7, db_pool_overflow=3, db_pool_timeout=2.5, db_concurrency=6)
    app = create_app(settings)
    try:
        pool = app.state.engine.pool
        assert (pool.size(), pool._max_overflow, pool._timeout) == (7, 3, 2.5)
        assert app.state.admission.capacity == 6
        assert app.state.admission.retry_after == 2
    finally:
        app.state.engine.dispose()
    narrow = create_app(_settings(db_pool_size=2, db_pool_overflow=1, db_concurrency=6))
    try:
        assert narrow.state.admission.capacity == 3  # never more slots than connections
    finally:
        narrow.state.engine.dispose()
    assert ServerSettings().db_concurrency == 4


def test_a_waiting_pull_lends_its_slot_to_the_pages(databases: _Databases) -> None:
    """Doors that wait for news hold no slot of the gate: with one slot, a page is served at
    once while a door's pull waits, and the pull still answers when its wait is over."""
    engine = _postgres(databases)
    empty_tables(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        world = build_world(session, users=1, doors=1, branches=0, max_stamps=3)
        token = accounts.new_token()
        world.doors[0].token_hash = accounts.hash_token(token)
    settings = _settings(db_pool_size=1, db_pool_overflow=0, db_pool_timeout=0.5)
    app = create_app(settings, engine=engine)
    door = {"Authorization": f"Bearer {token}"}

    async def side_by_side() -> tuple[int, float, int, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = await client.get("/api/v1/sync/pull", headers=door)
            cursor = first.json()["cursor"]

            async def pull() -> tuple[int, float]:
                answer = await client.get(f"/api/v1/sync/pull?wait=2&cursor={cursor}", headers=door)
                return answer.status_code, time.perf_counter()

            waiting = asyncio.create_task(pull())
            await asyncio.sleep(0.5)  # the pull is waiting now
            page = await client.get("/socaport-app")
            page_done = time.perf_counter()
            pulled, pull_done = await waiting
            return page.status_code, page_done, pulled, pull_done

    try:
        page, page_done, pulled, pull_done = asyncio.run(side_by_side())
    finally:
        empty_tables(engine)
    # A gate that kept the pull's slot would answer the page 503 after its 0.5 s wait, or
    # serve it only once the pull's 2 s wait had freed the slot: ordering, not a stopwatch,
    # so a slow minute on a shared host does not fail it.
    assert page == 200 and page_done < pull_done
    assert pulled == 200
