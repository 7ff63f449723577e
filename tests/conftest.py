"""Database fixtures shared by every server test: one fixture, both engines, per-test rollback.

`session` runs each test inside a transaction that is rolled back, on a
migrated SQLite file and on a migrated schema of the real PostgreSQL server
(`SOCA_TEST_POSTGRES_URL`, default 127.0.0.1:5432/test). PostgreSQL is
required: when it is unreachable the run fails loudly instead of skipping.
`committed_factory` is for tests that need several connections (concurrency):
it commits for real and empties every table afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from server.db import migrate
from server.db.models import Base
from server.db.session import make_engine, make_session_factory

ENGINES = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL server the tests use."""
    return os.environ.get("SOCA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


class _Databases:
    """Lazily migrated databases for one test run; each run gets its own PostgreSQL schema."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.engines: dict[str, Engine] = {}
        self.schema = f"soca_test_{uuid.uuid4().hex[:10]}"

    def engine(self, kind: str) -> Engine:
        if kind not in self.engines:
            self.engines[kind] = self._create(kind)
        return self.engines[kind]

    def _create(self, kind: str) -> Engine:
        if kind == "sqlite":
            engine = make_engine(f"sqlite:///{self.folder / 'server.sqlite3'}")
        else:
            admin = make_engine(postgres_url())
            try:
                with admin.begin() as connection:
                    connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            except OperationalError as exc:
                pytest.fail(
                    f"PostgreSQL is unreachable at {postgres_url()} ({exc.orig}); the PostgreSQL "
                    "tests are required. Start it or set SOCA_TEST_POSTGRES_URL.",
                    pytrace=False,
                )
            finally:
                admin.dispose()
            engine = make_engine(
                postgres_url(),
                connect_args={"options": f"-csearch_path={self.schema}"},
                pool_size=30,
                max_overflow=10,
            )
        migrate.upgrade(engine)
        return engine

    def close(self) -> None:
        for kind, engine in self.engines.items():
            engine.dispose()
            if kind == "postgresql":
                admin = make_engine(postgres_url())
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
                admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    """Every engine this run has migrated."""
    found = _Databases(tmp_path_factory.mktemp("db"))
    yield found
    found.close()


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest, databases: _Databases) -> Engine:
    """A migrated engine: the test runs once per engine."""
    return databases.engine(request.param)


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = db_engine.connect()
    transaction = connection.begin()
    db_session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield db_session
    finally:
        db_session.close()
        transaction.rollback()
        connection.close()


#: Reference data the migrations seed; tests that commit leave it in place.
_KEPT_TABLES = {"passport_tiers"}


def _empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in _KEPT_TABLES]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {quoted} CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def committed_factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory that really commits; every table is emptied afterwards."""
    _empty_all_tables(db_engine)
    yield make_session_factory(db_engine)
    _empty_all_tables(db_engine)
