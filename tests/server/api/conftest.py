"""API fixtures: a TestClient over `create_app` on both engines, tables emptied around tests.

Every request commits for real (the app's unit of work), so these tests do
not use the rolled-back `session` fixture: each test starts from empty
tables (the migrations' tier seed kept), and every table is emptied again
when a module ends, so later suites find the databases as they expect.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from server.app import create_app
from server.db.models import Base
from server.db.session import make_session_factory
from server.settings import ServerSettings
from tests.conftest import ENGINES, _Databases
from tests.server.api.world import World, build_world

with warnings.catch_warnings():
    # Starlette's TestClient asks for `httpx2`; the lock has `httpx`, which still works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

#: Reference data the migrations seed (tests that change it put it back).
_KEPT = {"passport_tiers"}


def empty_tables(engine: Engine) -> None:
    """Delete every row but the reference data (DELETE is quicker than TRUNCATE for tiny tables)."""
    tables = [table.name for table in Base.metadata.sorted_tables if table.name not in _KEPT]
    with engine.begin() as connection:
        for name in reversed(tables):
            connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(scope="module", autouse=True)
def _leave_tables_empty(databases: _Databases) -> Iterator[None]:
    """Empty every engine this module touched once the module is done."""
    yield
    for engine in databases.engines.values():
        empty_tables(engine)


def make_app(engine: Engine, **settings: Any) -> FastAPI:
    """The app over a test engine (which the app does not dispose), with extra `settings`."""
    url = engine.url.render_as_string(hide_password=False)
    return create_app(ServerSettings(database_url=url, **settings), engine=engine)


@pytest.fixture(params=ENGINES)
def api_engine(request: pytest.FixtureRequest, databases: _Databases) -> Engine:
    """A migrated engine with empty tables."""
    engine = databases.engine(request.param)
    empty_tables(engine)
    return engine


@pytest.fixture
def app(api_engine: Engine) -> FastAPI:
    """The app over the test engine."""
    return make_app(api_engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client that raises server-side exceptions into the test."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def factory(api_engine: Engine) -> sessionmaker[Session]:
    """A session factory for arranging data (commit it with `unit_of_work`)."""
    return make_session_factory(api_engine)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    """HQ, two promoters, a branch manager, devices, an event with packages and more."""
    return build_world(factory)
