"""Opening a kiosk SQLite file: the pragmas every file needs, asserted, and its migrations.

Every connection is opened with `isolation_level=None`, so no transaction is
ever opened behind our back: reads outside `write_transaction` run in
autocommit, and a write is always `BEGIN IMMEDIATE ... COMMIT`. Taking the
write lock up front means a writer waits for another writer (up to the busy
timeout) instead of failing with "database is locked" when it upgrades a read
transaction. sqlite-utils' own writes (`insert`, `upsert_all`) nest inside as
savepoints (`Database.atomic`).

Schema changes use sqlite-utils' `Migrations` (a named list of functions,
recorded in `_sqlite_migrations`), applied inside one `BEGIN IMMEDIATE` so two
processes opening a fresh folder at once cannot both create the tables.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from enum import IntEnum
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from kiosk.errors import StoreError


class Synchronous(IntEnum):
    """SQLite's `synchronous` levels we use: FULL fsyncs the WAL on every commit."""

    NORMAL = 1
    FULL = 2


def open_database(
    path: Path,
    migrations: Migrations,
    *,
    synchronous: Synchronous,
    busy_timeout_ms: int,
) -> Database:
    """Open (creating if needed) a file in WAL mode, assert its pragmas, apply migrations."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_ms / 1000)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        db = Database(conn, execute_plugins=False)
        _configure(db, path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        with write_transaction(db):
            migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"cannot use {path}: {exc}") from exc
    except StoreError:
        conn.close()
        raise
    return db


def _configure(db: Database, path: Path, *, synchronous: Synchronous, busy_timeout_ms: int) -> None:
    conn = db.conn
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    _enable_wal(conn, busy_timeout_ms)
    conn.execute(f"PRAGMA synchronous = {int(synchronous)}")
    conn.execute("PRAGMA foreign_keys = ON")
    actual = {
        "journal_mode": str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower(),
        "synchronous": int(conn.execute("PRAGMA synchronous").fetchone()[0]),
        "foreign_keys": int(conn.execute("PRAGMA foreign_keys").fetchone()[0]),
        "busy_timeout": int(conn.execute("PRAGMA busy_timeout").fetchone()[0]),
    }
    expected = {
        "journal_mode": "wal",
        "synchronous": int(synchronous),
        "foreign_keys": 1,
        "busy_timeout": int(busy_timeout_ms),
    }
    wrong = [
        f"{name}={actual[name]} (need {value})"
        for name, value in expected.items()
        if actual[name] != value
    ]
    if wrong:
        raise StoreError(f"{path} cannot be used safely: {', '.join(wrong)}")


def _enable_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    # WAL is persistent, so only a fresh file switches. SQLite answers two openers switching
    # at once with "database is locked" immediately, not after the busy timeout: retry.
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """`BEGIN IMMEDIATE` ... `COMMIT` (rolled back on any exception); nests as a savepoint."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def pragma_report(db: Database) -> dict[str, object]:
    """The pragmas that matter, as they are on this connection (for tests and `status`)."""
    conn = db.conn
    return {
        "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
        "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
        "foreign_keys": conn.execute("PRAGMA foreign_keys").fetchone()[0],
        "busy_timeout": conn.execute("PRAGMA busy_timeout").fetchone()[0],
        "integrity_check": conn.execute("PRAGMA integrity_check").fetchone()[0],
    }
