"""Engines and sessions: the unit of work commits at the edge, never inside a service.

`make_engine` accepts the URLs people type (`postgresql://user@host/db`,
`sqlite:///path`) and picks our drivers. Every engine hides bound parameters
from its error messages and SQL echo (`hide_parameters`): they hold password
hashes, emails and QR tokens, and errors reach the server log. A new SQLite
file is created readable by its owner only (0600; SQLite gives its -wal and
-shm files the same mode), in a folder created 0700. On SQLite every connection gets
foreign keys, WAL, a busy timeout, and a real `BEGIN` so SAVEPOINTs work (the
pysqlite driver otherwise defers transactions and breaks nested ones).
`unit_of_work` opens a session, commits once at the end, and rolls back on
any exception.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from server.db.changelog import install_change_log
from server.db.token_hash import install_on_sqlite
from server.db.wallet_outbox import install_wallet_outbox
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
        install_on_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _create_private_file(path: Path) -> None:
    """Create `path` empty and owner-only (0600) unless it exists; its folder too (0700)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(raw_url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL, creating a SQLite file (0600)."""
    url = normalize_database_url(raw_url)
    kwargs.setdefault("hide_parameters", True)
    if url.drivername.startswith("sqlite"):
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            # An empty file is an empty SQLite database: made here, it is private from the start.
            _create_private_file(Path(url.database).expanduser())
        engine = create_engine(url, echo=echo, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Kept open, not opened and closed per request: a worker serves up to about
    # this many requests at once (its thread pool), and each new PostgreSQL
    # connection costs a backend process start.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, echo=echo, **kwargs)
    _configure_postgresql(engine)
    _ping_after_idling(engine)
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


#: A pooled connection idle this long is tested with a round trip before it is lent again.
PING_AFTER_IDLE_S = 10.0


class _Gone(DisconnectionError):
    """A pooled connection that failed its ping (the pool drops it and lends another)."""


def _ping_after_idling(engine: Engine) -> None:
    """Test a pooled connection before lending it only when it has idled `PING_AFTER_IDLE_S`.

    SQLAlchemy's `pool_pre_ping` sends `SELECT 1` on every checkout: a round
    trip before each request's first statement, while a crowd keeps every
    connection busy. A connection lost while in use (the database restarted)
    still fails only its own statement: SQLAlchemy then replaces the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as exc:
            raise _Gone(str(exc)) from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit and that keeps the change log."""
    factory = sessionmaker(engine, expire_on_commit=False)
    install_change_log(factory)
    install_wallet_outbox(factory)
    return factory


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit once at the end, roll back if anything raised."""
    session = factory()
    try:
        yield session
    except BaseException:
        end_unit_of_work(session, commit=False)
        raise
    end_unit_of_work(session, commit=True)


def end_unit_of_work(session: Session, *, commit: bool) -> None:
    """Commit (or roll back, and after a failed commit too) and close a unit of work."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
