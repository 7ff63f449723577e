"""The cache file: what the server sent in its pulls, and the look-ups the decisions need.

Threading contract. A `Cache` wraps one SQLite connection and belongs to the
thread that opened it. Only the sync loop writes (`apply_page`, `reset`), one
transaction per pull page, the cursor in the same transaction as the rows, so
a crash mid-pull resumes from the last whole page. The scan path only reads,
in autocommit: WAL lets it read while a page is being written. Wiping or
re-downloading this file can never touch the outbox, which is another file.

Every pulled table is declared once in `kiosk.store.tables` (section, wire
model, key, row type, derived columns): `apply_page` writes each section by
column name from that declaration, deletions find their table and key there,
and reads select the row type's fields by name (`_rows`).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from core.tokens import TokenKind
from core.wire import PullResponse
from kiosk.store.codec import code_key, fold, optional_time, time_text
from kiosk.store.database import Synchronous, open_database, write_transaction
from kiosk.store.rows import (
    CachedCard,
    CachedEvent,
    CachedOffer,
    CachedPassport,
    CachedPurchase,
    CachedScan,
    CachedTicket,
)
from kiosk.store.schema import CACHE_MIGRATIONS
from kiosk.store.tables import (
    BY_NAME,
    CARDS,
    EVENTS,
    OFFERS,
    PASSPORTS,
    PURCHASES,
    SCANS,
    TABLES,
    TICKETS,
    PulledTable,
)

__all__ = [
    "Cache",
    "CachedCard",
    "CachedEvent",
    "CachedOffer",
    "CachedPassport",
    "CachedPurchase",
    "CachedScan",
    "CachedTicket",
]

_CURSOR_KEY = "cursor"
_COMPLETE_KEY = "complete_through_ack"
_LAST_PULL_KEY = "last_pull_at"
_OWNER_KEY = "owner_device_id"
R = TypeVar("R")


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_words(query: str) -> list[str]:
    """What was typed as folded words that can match (at most six), '@' dropped."""
    words = [fold(word).lstrip("@") for word in query.split()]
    return [word for word in words if any(char.isalnum() for char in word)][:6]


class Cache:
    """The cache file through one connection (see the module docstring for the contract)."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        self._keys: dict[int, bytes] | None = None
        self._keys_version: int | None = None

    @classmethod
    def open(cls, path: Path, *, busy_timeout_ms: int) -> Cache:
        """Open or create the cache file (WAL, synchronous=NORMAL: it can be downloaded again)."""
        db = open_database(
            path, CACHE_MIGRATIONS, synchronous=Synchronous.NORMAL, busy_timeout_ms=busy_timeout_ms
        )
        cache = cls(db, path)
        try:
            cache._add_declared_columns()
        except BaseException:
            db.close()
            raise
        return cache

    def _add_declared_columns(self) -> None:
        """Add the declared columns the file lacks; the next pull then starts over to fill them."""
        with self.transaction():
            added = [sql for table in TABLES for sql in table.missing_columns(self.db.conn)]
            for statement in added:
                self.db.execute(statement)
            if added:
                self.db.execute("DELETE FROM meta WHERE key = ?", [_CURSOR_KEY])

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cache]:
        """One `BEGIN IMMEDIATE` transaction on the cache file."""
        with write_transaction(self.db):
            yield self

    # ------------------------------------------------------------------ writes (sync loop)

    def apply_page(self, page: PullResponse, *, ack_mark: int) -> None:
        """Store one pull page and its cursor in one transaction; the last page marks completion."""
        self._keys = None
        with self.transaction():
            self._upsert_keys(page)
            for table in TABLES:
                rows: Sequence[Any] = getattr(page, table.name)
                if table is TICKETS:
                    self._upsert_tickets(rows, ack_mark)
                else:
                    self._upsert(table, rows, ack_mark)
            for deletion in page.deletions:
                self._delete(BY_NAME[deletion.entity], deletion.id)
            if page.cursor is not None:
                self._set_meta(_CURSOR_KEY, page.cursor)
            if not page.more:
                self._set_meta(_COMPLETE_KEY, ack_mark)
                self._set_meta(_LAST_PULL_KEY, time_text(page.server_time))

    def reset(self, *, owner: str | None = None) -> None:
        """Forget everything pulled, cursor included, and record which device the cache is for."""
        self._keys = None
        with self.transaction():
            for name in ("keys", *BY_NAME, "meta"):
                self.db.execute(f"DELETE FROM {name}")  # noqa: S608 (declared table names)
            self.db.execute("INSERT INTO ticket_search (ticket_search) VALUES ('delete-all')")
            if owner is not None:
                self._set_meta(_OWNER_KEY, owner)

    def owner(self) -> str | None:
        """The device id whose pulls filled this cache (None: empty or never owned)."""
        value = self._meta(_OWNER_KEY)
        return value if isinstance(value, str) else None

    def _upsert_keys(self, page: PullResponse) -> None:
        rows = [
            {"key_id": key.key_id, "public_key": key.raw(), "revoked": int(key.revoked)}
            for key in page.keys
        ]
        self._upsert_rows("keys", ("key_id",), rows)

    def _upsert(self, table: PulledTable[Any], rows: Sequence[Any], ack_mark: int) -> None:
        self._upsert_rows(table.name, table.key, [table.to_db(row, ack_mark) for row in rows])

    def _upsert_tickets(self, tickets: Sequence[Any], ack_mark: int) -> None:
        """Upsert tickets, keeping the search index in step (old keys out, new keys in)."""
        if not tickets:
            return
        ids = json.dumps([str(ticket.id) for ticket in tickets])
        self.db.execute(
            "INSERT INTO ticket_search (ticket_search, rowid, search_key) "
            "SELECT 'delete', n, search_key FROM tickets "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [ids],
        )
        self._upsert(TICKETS, tickets, ack_mark)
        self.db.execute(
            "INSERT INTO ticket_search (rowid, search_key) "
            "SELECT n, search_key FROM tickets WHERE id IN (SELECT value FROM json_each(?))",
            [ids],
        )

    def _upsert_rows(self, table: str, pk: tuple[str, ...], rows: Sequence[dict[str, Any]]) -> None:
        """Insert or update rows in one `executemany` (a 50,000-ticket page in well under 1 s)."""
        if not rows:
            return
        columns = list(rows[0])
        updates = ", ".join(f"{col} = excluded.{col}" for col in columns if col not in pk)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (declared names)
            f"VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
        )
        self.db.conn.executemany(sql, [[row[column] for column in columns] for row in rows])

    def _delete(self, table: PulledTable[Any], row_id: str) -> None:
        where = " AND ".join(f"{column} = ?" for column in table.key)
        values = table.key_values(row_id)
        if table is TICKETS:
            old = f"SELECT 'delete', n, search_key FROM tickets WHERE {where}"  # noqa: S608
            self.db.execute(
                f"INSERT INTO ticket_search (ticket_search, rowid, search_key) {old}", values
            )
        self.db.execute(f"DELETE FROM {table.name} WHERE {where}", values)  # noqa: S608

    # ------------------------------------------------------------------ meta

    def cursor(self) -> str | None:
        """Where the next pull continues (None: from the start)."""
        value = self._meta(_CURSOR_KEY)
        return None if value is None else str(value)

    def complete_through(self) -> int:
        """The outbox ack counter when the last complete pull began (0: none yet)."""
        value = self._meta(_COMPLETE_KEY)
        return int(value) if isinstance(value, int) else 0

    def last_pull_at(self) -> datetime | None:
        """The server's time at the end of the last complete pull."""
        value = self._meta(_LAST_PULL_KEY)
        return optional_time(value) if isinstance(value, str) else None

    def _meta(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else json.loads(row[0])

    def _set_meta(self, key: str, value: object) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )

    # ------------------------------------------------------------------ reads (scan path)

    def _rows(self, table: PulledTable[R], where: str = "", params: Sequence[Any] = ()) -> list[R]:
        """The row type's fields, selected by name from the declared table."""
        select = f"SELECT {table.select_list()} FROM {table.name} "  # noqa: S608 (declared)
        return [table.read(row) for row in self.db.execute(select + where, list(params))]

    def _row(self, table: PulledTable[R], where: str, params: Sequence[Any]) -> R | None:
        rows = self._rows(table, where + " LIMIT 1", params)
        return rows[0] if rows else None

    def _data_version(self) -> int:
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def active_keys(self) -> dict[int, bytes]:
        """Unrevoked token keys (key id -> raw public bytes), re-read only after a pull wrote."""
        version = self._data_version()
        if self._keys is None or version != self._keys_version:
            rows = self.db.execute("SELECT key_id, public_key FROM keys WHERE revoked = 0")
            self._keys = {int(key_id): bytes(raw) for key_id, raw in rows.fetchall()}
            self._keys_version = version
        return self._keys

    def is_token_revoked(self, kind: TokenKind, subject_id: uuid.UUID, issued_at: datetime) -> bool:
        """True when the revocation list covers a token of this kind, subject and issue time."""
        row = self.db.execute(
            "SELECT issued_before FROM revoked_tokens WHERE kind = ? AND subject_id = ?",
            [int(kind), str(subject_id)],
        ).fetchone()
        if row is None:
            return False
        before = optional_time(row[0])
        return before is None or issued_at < before

    def event(self, event_id: uuid.UUID) -> CachedEvent | None:
        """An event, if pulled."""
        return self._row(EVENTS, "WHERE id = ?", [str(event_id)])

    def events(self) -> list[CachedEvent]:
        """Every pulled event."""
        return self._rows(EVENTS)

    def ticket(self, ticket_id: uuid.UUID) -> CachedTicket | None:
        """A ticket, if pulled."""
        return self._row(TICKETS, "WHERE id = ?", [str(ticket_id)])

    def tickets(self) -> list[CachedTicket]:
        """Every pulled ticket, of every event."""
        return self._rows(TICKETS)

    def user_checked_in(self, user_id: uuid.UUID, event_id: uuid.UUID) -> bool:
        """True when the server knows a check-in of any of this user's tickets for the event."""
        row = self.db.execute(
            "SELECT 1 FROM tickets WHERE user_id = ? AND event_id = ? "
            "AND checked_in_at IS NOT NULL LIMIT 1",
            [str(user_id), str(event_id)],
        ).fetchone()
        return row is not None

    def first_admission(self, ticket_id: uuid.UUID) -> CachedScan | None:
        """The earliest admitting scan the server reported for a ticket, if any."""
        return self._row(
            SCANS,
            "WHERE ticket_id = ? AND outcome = 'ADMITTED' ORDER BY scanned_at",
            [str(ticket_id)],
        )

    def passport(self, user_id: uuid.UUID) -> CachedPassport | None:
        """A passport, if pulled."""
        return self._row(PASSPORTS, "WHERE user_id = ?", [str(user_id)])

    def passports(self) -> list[CachedPassport]:
        """Every pulled passport."""
        return self._rows(PASSPORTS)

    def offer(self, offer_id: uuid.UUID) -> CachedOffer | None:
        """An offer, if pulled."""
        return self._row(OFFERS, "WHERE id = ?", [str(offer_id)])

    def offers_of_branch(self, branch_id: uuid.UUID) -> list[CachedOffer]:
        """A branch's offers, by name."""
        return self._rows(OFFERS, "WHERE branch_id = ? ORDER BY name", [str(branch_id)])

    def card(self, offer_id: uuid.UUID, user_id: uuid.UUID) -> CachedCard | None:
        """A customer's card on an offer, if pulled."""
        return self._row(CARDS, "WHERE offer_id = ? AND user_id = ?", [str(offer_id), str(user_id)])

    def search_cards(self, offer_id: uuid.UUID, query: str, *, limit: int) -> list[CachedCard]:
        """An offer's cards whose holder has a word starting with each word typed, by name.

        "marc boy" finds "Marcus Boyce", "@dj" the handle "djrally". The index
        on (offer, folded name) gives the rows in name order with the words
        checked on the index itself, so a search stops at the first `limit`.
        """
        words = _search_words(query)
        if not words:
            return []
        likes = " AND ".join("search_key LIKE ? ESCAPE '\\'" for _ in words)
        patterns = ["% " + _like_escape(word) + "%" for word in words]
        where = f"WHERE offer_id = ? AND {likes} ORDER BY search_key, user_id LIMIT ?"
        return self._rows(CARDS, where, [str(offer_id), *patterns, limit])

    def purchase(self, purchase_id: uuid.UUID) -> CachedPurchase | None:
        """A package purchase, if pulled."""
        return self._row(PURCHASES, "WHERE id = ?", [str(purchase_id)])

    def ticket_by_code(self, event_id: uuid.UUID, key: str) -> CachedTicket | None:
        """The event's ticket whose printed code reduces to `key` (see `code_key`), if pulled."""
        return self._row(TICKETS, "WHERE code_key = ? AND event_id = ?", [key, str(event_id)])

    def search_tickets(self, event_id: uuid.UUID, query: str, *, limit: int) -> list[CachedTicket]:
        """Tickets of an event with a word starting with each word typed; an exact code first.

        The index is word-prefix (FTS5): "marc boy" finds "Marcus Boyce", "arcus" does
        not. A query matching thousands returns the first `limit` by index order, by name.
        """
        words = _search_words(query)
        found: list[CachedTicket] = []
        exact_code = code_key(query)
        if exact_code:
            found.extend(
                self._rows(
                    TICKETS,
                    "WHERE code_key = ? AND event_id = ? LIMIT ?",
                    [exact_code, str(event_id), limit],
                )
            )
        if words:
            match = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
            rows = self.db.execute(
                f"SELECT {TICKETS.select_list('t')} FROM ticket_search "  # noqa: S608 (declared)
                "JOIN tickets t ON t.n = ticket_search.rowid "
                "WHERE ticket_search MATCH ? AND t.event_id = ? "
                "ORDER BY ticket_search.rowid LIMIT ?",
                [match, str(event_id), limit + len(found)],
            )
            seen = {ticket.id for ticket in found}
            matches = [t for t in map(TICKETS.read, rows) if t.id not in seen]
            matches.sort(key=lambda t: (fold(t.holder_name or t.handle or ""), str(t.id)))
            found.extend(matches)
        return found[:limit]

    def counts(self) -> dict[str, int]:
        """Rows per cached table."""
        return {
            name: int(self.db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0])  # noqa: S608
            for name in ("keys", *BY_NAME)
        }
