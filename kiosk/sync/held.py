"""Ops a venue hub acknowledged but HQ may not hold yet: kept until HQ is known to hold them.

A hub's database is a cache: if it is lost before it relayed an op, the op
would be lost with it, although the hub answered the kiosk. So every op a
hub answered is noted here (its own SQLite file, beside the outbox) and
asked about (`POST /hub/held`) on later syncs: an op HQ holds is forgotten;
an op nobody knows is sent again (a repeat is harmless: the server answers
it with its first result). Through HQ directly, every noted op HQ does not
know is sent there.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable
from pathlib import Path

HELD_FILE = "held.sqlite3"


class HeldOps:
    """The noted op ids. Belongs to the thread that opened it (the sync thread)."""

    def __init__(self, folder: Path) -> None:
        self._db = sqlite3.connect(folder / HELD_FILE, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS held (op_id TEXT PRIMARY KEY, hub TEXT)")

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def note(self, op_ids: Iterable[uuid.UUID], *, hub: str) -> None:
        """Remember ops this hub answered."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO held (op_id, hub) VALUES (?, ?)",
                [(str(op_id), hub) for op_id in op_ids],
            )

    def forget(self, op_ids: Iterable[uuid.UUID]) -> None:
        """Drop ops HQ is known to hold."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM held WHERE op_id = ?", [(str(i),) for i in op_ids])

    def some(self, limit: int) -> list[uuid.UUID]:
        """Up to `limit` noted ops, oldest first."""
        rows = self._db.execute("SELECT op_id FROM held ORDER BY rowid LIMIT ?", (limit,))
        return [uuid.UUID(row[0]) for row in rows]

    def count(self) -> int:
        """How many ops are noted."""
        return int(self._db.execute("SELECT count(*) FROM held").fetchone()[0])
