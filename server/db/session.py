"""Engines and sessions: the unit of work commits at the edge, never inside a service.

`make_engine` accepts the URLs people type (`postgresql://user@host/db`,
`sqlite:///path`) and picks our drivers. On SQLite every connection gets
foreign keys, WAL, a busy timeout, and a real `BEGIN` so SAVEPOINTs work (the
pysqlite driver otherwise defers transactions and breaks nested ones).
`unit_of_work` opens a session, commits once at the end, and rolls back on
any exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from server.db.changelog import install_change_log
from server.errors import ConfigError

_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def normalize_database_url(raw: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for PostgreSQL; raise ConfigError if malformed."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise ConfigError(f"the database URL {raw!r} is not a valid URL") from exc
    backend = url.drivername.split("+", 1)[0]
    if backend in _DRIVERS:
        return url.set(drivername=_DRIVERS[backend])
    if backend == "sqlite":
        return url
    raise ConfigError(
        f"the database URL {raw!r} names {backend!r}; use postgresql://... or sqlite:///FILE"
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # One writer at a time: a push of 500 ops holds the lock for a while, so waiters
        # queue for up to a minute rather than fail with "database is locked".
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(raw_url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL, creating a SQLite file's folder."""
    url = normalize_database_url(raw_url)
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Kept open, not opened and closed per request: a worker serves up to about
    # this many requests at once (its thread pool), and each new PostgreSQL
    # connection costs a backend process start.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, echo=echo, **kwargs)
    _configure_postgresql(engine)
    return engine


#: The planner's price of a random page read, relative to a sequential one (default 4).
#: A sync server's tables live in memory, where the two cost about the same; at 4,
#: the planner scanned all 50,000 passport profiles to lock or update the 500 a
#: push touches, instead of using their indexes. `bench/sync.py --cpu --engine
#: postgresql` at 1.1 and at 4, run in turn: PostgreSQL CPU per 500-op batch
#: 106 ms against 125 ms, ingest about 3,800 against 3,500 ops/s.
RANDOM_PAGE_COST = 1.1


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")
        dbapi_connection.commit()  # a SET inside a rolled-back transaction would be undone


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit and that keeps the change log."""
    factory = sessionmaker(engine, expire_on_commit=False)
    install_change_log(factory)
    return factory


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit once at the end, roll back if anything raised."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
