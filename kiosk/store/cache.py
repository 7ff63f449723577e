"""The cache file: what the server sent in its pulls, and the look-ups the decisions need.

Threading contract. A `Cache` wraps one SQLite connection and belongs to the
thread that opened it. Only the sync loop writes (`apply_page`, `reset`), one
transaction per pull page, the cursor in the same transaction as the rows, so
a crash mid-pull resumes from the last whole page. The scan path only reads,
in autocommit: WAL lets it read while a page is being written. Wiping or
re-downloading this file can never touch the outbox, which is another file.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from core.tokens import TokenKind
from core.wire import (
    CardRow,
    EventRow,
    OfferRow,
    PassportRow,
    PullResponse,
    PurchaseRow,
    ScanRow,
    TicketRow,
)
from kiosk.store.codec import (
    code_key,
    fold,
    optional_time,
    optional_time_text,
    parse_time,
    search_key,
    time_text,
)
from kiosk.store.database import Synchronous, open_database, write_transaction
from kiosk.store.schema import CACHE_MIGRATIONS

_CURSOR_KEY = "cursor"
_COMPLETE_KEY = "complete_through_ack"
_LAST_PULL_KEY = "last_pull_at"
_OWNER_KEY = "owner_device_id"
_CACHED_TABLES = (
    "keys",
    "events",
    "tickets",
    "passports",
    "offers",
    "cards",
    "purchases",
    "scans",
    "revoked_tokens",
)
_DELETABLE = {
    "events": ("events", "id"),
    "tickets": ("tickets", "id"),
    "passports": ("passports", "user_id"),
    "offers": ("offers", "id"),
    "purchases": ("purchases", "id"),
    "scans": ("scans", "id"),
}


@dataclass(frozen=True, slots=True)
class CachedEvent:
    """An event as last pulled."""

    id: uuid.UUID
    name: str
    is_soca_passport_enabled: bool
    stamp_points_default: int
    pulled_at_ack: int


@dataclass(frozen=True, slots=True)
class CachedTicket:
    """A ticket as last pulled, with the server's first check-in if it knew one."""

    id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID | None
    holder_name: str | None
    handle: str | None
    code: str | None
    revoked: bool
    checked_in_at: datetime | None
    checked_in_gate: str | None
    checked_in_device: str | None


@dataclass(frozen=True, slots=True)
class CachedPassport:
    """A passport as last pulled."""

    user_id: uuid.UUID
    handle: str
    total_points: int
    current_tier: str
    revoked: bool
    pulled_at_ack: int


@dataclass(frozen=True, slots=True)
class CachedOffer:
    """A stamp-card offer as last pulled."""

    id: uuid.UUID
    branch_id: uuid.UUID
    name: str
    max_stamps: int
    prize: str | None
    loyalty_tiers: dict[str, Any] | None
    active: bool


@dataclass(frozen=True, slots=True)
class CachedCard:
    """One customer's card on one offer as last pulled."""

    offer_id: uuid.UUID
    user_id: uuid.UUID
    current_stamps: int
    rewards_claimed: int
    last_activity_at: datetime | None
    expired: bool
    pulled_at_ack: int
    holder_name: str | None = None
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class CachedPurchase:
    """A package purchase as last pulled."""

    id: uuid.UUID
    user_id: uuid.UUID
    event_id: uuid.UUID | None
    package_name: str | None
    status: str
    activated_at: datetime | None


@dataclass(frozen=True, slots=True)
class CachedScan:
    """A door scan the server recorded."""

    gate: str | None
    scanned_at: datetime
    device_id: str | None


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ticket(row: tuple[Any, ...]) -> CachedTicket:
    return CachedTicket(
        id=uuid.UUID(row[0]),
        event_id=uuid.UUID(row[1]),
        user_id=_uuid(row[2]),
        holder_name=row[3],
        handle=row[4],
        code=row[5],
        revoked=bool(row[6]),
        checked_in_at=optional_time(row[7]),
        checked_in_gate=row[8],
        checked_in_device=row[9],
    )


_TICKET_COLUMNS = (
    "id, event_id, user_id, holder_name, handle, code, revoked, checked_in_at, "
    "checked_in_gate, checked_in_device"
)
_TICKET_COLUMNS_T = ", ".join(f"t.{column.strip()}" for column in _TICKET_COLUMNS.split(","))


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
        return cls(db, path)

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
            self._upsert(page.events, "events", "id", self._event_row, ack_mark)
            self._upsert_tickets(page.tickets, ack_mark)
            self._upsert(page.passports, "passports", "user_id", self._passport_row, ack_mark)
            self._upsert(page.offers, "offers", "id", self._offer_row, ack_mark)
            self._upsert(page.cards, "cards", ("offer_id", "user_id"), self._card_row, ack_mark)
            self._upsert(page.purchases, "purchases", "id", self._purchase_row, ack_mark)
            self._upsert(page.scans, "scans", "id", self._scan_row, ack_mark)
            self._upsert_rows(
                "revoked_tokens",
                ("kind", "subject_id"),
                [
                    {
                        "kind": int(row.kind),
                        "subject_id": str(row.subject_id),
                        "issued_before": optional_time_text(row.issued_before),
                        "revoked_at": time_text(row.revoked_at),
                    }
                    for row in page.revoked_tokens
                ],
            )
            for deletion in page.deletions:
                self._delete(deletion.entity, deletion.id)
            if page.cursor is not None:
                self._set_meta(_CURSOR_KEY, page.cursor)
            if not page.more:
                self._set_meta(_COMPLETE_KEY, ack_mark)
                self._set_meta(_LAST_PULL_KEY, time_text(page.server_time))

    def reset(self, *, owner: str | None = None) -> None:
        """Forget everything pulled, cursor included, and record which device the cache is for."""
        self._keys = None
        with self.transaction():
            for table in (*_CACHED_TABLES, "meta"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
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

    def _upsert(
        self,
        rows: Sequence[Any],
        table: str,
        pk: str | tuple[str, ...],
        convert: Callable[[Any], dict[str, Any]],
        ack_mark: int,
    ) -> None:
        keys = (pk,) if isinstance(pk, str) else pk
        self._upsert_rows(table, keys, [convert(row) | {"pulled_at_ack": ack_mark} for row in rows])

    def _upsert_tickets(self, tickets: Sequence[TicketRow], ack_mark: int) -> None:
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
        self._upsert(tickets, "tickets", "id", self._ticket_row, ack_mark)
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
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (names from this module)
            f"VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
        )
        self.db.conn.executemany(sql, [[row[column] for column in columns] for row in rows])

    @staticmethod
    def _event_row(row: EventRow) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "name": row.name,
            "starts_at": optional_time_text(row.starts_at),
            "ends_at": optional_time_text(row.ends_at),
            "venue": row.venue,
            "is_soca_passport_enabled": int(row.is_soca_passport_enabled),
            "stamp_points_default": row.stamp_points_default,
            "country_code": row.country_code,
            "carnival_circuit": row.carnival_circuit,
        }

    @staticmethod
    def _ticket_row(row: TicketRow) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "event_id": str(row.event_id),
            "user_id": None if row.user_id is None else str(row.user_id),
            "holder_name": row.holder_name,
            "handle": row.handle,
            "code": row.code,
            "revoked": int(row.revoked),
            "checked_in_at": optional_time_text(row.checked_in_at),
            "checked_in_gate": row.checked_in_gate,
            "checked_in_device": row.checked_in_device,
            "code_key": code_key(row.code) if row.code else None,
            "search_key": search_key(row.holder_name, row.handle, row.code),
        }

    @staticmethod
    def _passport_row(row: PassportRow) -> dict[str, Any]:
        return {
            "user_id": str(row.user_id),
            "handle": row.handle,
            "total_points": row.total_points,
            "current_tier": row.current_tier,
            "revoked": int(row.revoked),
        }

    @staticmethod
    def _offer_row(row: OfferRow) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "branch_id": str(row.branch_id),
            "name": row.name,
            "max_stamps": row.max_stamps,
            "prize": row.prize,
            "loyalty_tiers": None if row.loyalty_tiers is None else json.dumps(row.loyalty_tiers),
            "active": int(row.active),
        }

    @staticmethod
    def _card_row(row: CardRow) -> dict[str, Any]:
        return {
            "offer_id": str(row.offer_id),
            "user_id": str(row.user_id),
            "current_stamps": row.current_stamps,
            "rewards_claimed": row.rewards_claimed,
            "last_activity_at": optional_time_text(row.last_activity_at),
            "expired": int(row.expired),
            "holder_name": row.holder_name,
            "handle": row.handle,
            "search_key": search_key(row.holder_name, row.handle, None),
        }

    @staticmethod
    def _purchase_row(row: PurchaseRow) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "user_id": str(row.user_id),
            "package_id": str(row.package_id),
            "event_id": None if row.event_id is None else str(row.event_id),
            "package_name": row.package_name,
            "status": row.status,
            "activated_at": optional_time_text(row.activated_at),
        }

    @staticmethod
    def _scan_row(row: ScanRow) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "event_id": str(row.event_id),
            "ticket_id": None if row.ticket_id is None else str(row.ticket_id),
            "user_id": None if row.user_id is None else str(row.user_id),
            "gate": row.gate,
            "scanned_at": time_text(row.scanned_at),
            "outcome": row.outcome,
            "device_id": None if row.device_id is None else str(row.device_id),
        }

    def _delete(self, entity: str, row_id: str) -> None:
        if entity == "tickets":
            self.db.execute(
                "INSERT INTO ticket_search (ticket_search, rowid, search_key) "
                "SELECT 'delete', n, search_key FROM tickets WHERE id = ?",
                [row_id],
            )
        if entity == "cards":
            offer_id, _, user_id = row_id.partition(":")
            self.db.execute(
                "DELETE FROM cards WHERE offer_id = ? AND user_id = ?", [offer_id, user_id]
            )
            return
        table, column = _DELETABLE[entity]
        self.db.execute(
            f"DELETE FROM {table} WHERE {column} = ?",  # noqa: S608 (fixed names)
            [row_id],
        )

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
        row = self.db.execute(
            "SELECT id, name, is_soca_passport_enabled, stamp_points_default, pulled_at_ack "
            "FROM events WHERE id = ?",
            [str(event_id)],
        ).fetchone()
        if row is None:
            return None
        return CachedEvent(uuid.UUID(row[0]), row[1], bool(row[2]), int(row[3]), int(row[4]))

    def ticket(self, ticket_id: uuid.UUID) -> CachedTicket | None:
        """A ticket, if pulled."""
        row = self.db.execute(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?",  # noqa: S608 (fixed columns)
            [str(ticket_id)],
        ).fetchone()
        return None if row is None else _ticket(row)

    def tickets(self) -> list[CachedTicket]:
        """Every pulled ticket, of every event."""
        rows = self.db.execute(f"SELECT {_TICKET_COLUMNS} FROM tickets")  # noqa: S608 (fixed columns)
        return [_ticket(row) for row in rows]

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
        row = self.db.execute(
            "SELECT gate, scanned_at, device_id FROM scans WHERE ticket_id = ? "
            "AND outcome = 'ADMITTED' ORDER BY scanned_at LIMIT 1",
            [str(ticket_id)],
        ).fetchone()
        return None if row is None else CachedScan(row[0], parse_time(row[1]), row[2])

    def passport(self, user_id: uuid.UUID) -> CachedPassport | None:
        """A passport, if pulled."""
        row = self.db.execute(
            "SELECT user_id, handle, total_points, current_tier, revoked, pulled_at_ack "
            "FROM passports WHERE user_id = ?",
            [str(user_id)],
        ).fetchone()
        if row is None:
            return None
        return CachedPassport(
            uuid.UUID(row[0]), row[1], int(row[2]), row[3], bool(row[4]), int(row[5])
        )

    def offer(self, offer_id: uuid.UUID) -> CachedOffer | None:
        """An offer, if pulled."""
        rows = self._offers("WHERE id = ?", [str(offer_id)])
        return rows[0] if rows else None

    def offers_of_branch(self, branch_id: uuid.UUID) -> list[CachedOffer]:
        """A branch's offers, by name."""
        return self._offers("WHERE branch_id = ? ORDER BY name", [str(branch_id)])

    def _offers(self, where: str, params: list[Any]) -> list[CachedOffer]:
        select = "SELECT id, branch_id, name, max_stamps, prize, loyalty_tiers, active FROM offers "
        rows = self.db.execute(select + where, params).fetchall()
        return [
            CachedOffer(
                id=uuid.UUID(row[0]),
                branch_id=uuid.UUID(row[1]),
                name=row[2],
                max_stamps=int(row[3]),
                prize=row[4],
                loyalty_tiers=None if row[5] is None else json.loads(row[5]),
                active=bool(row[6]),
            )
            for row in rows
        ]

    def card(self, offer_id: uuid.UUID, user_id: uuid.UUID) -> CachedCard | None:
        """A customer's card on an offer, if pulled."""
        rows = self._cards("WHERE offer_id = ? AND user_id = ?", [str(offer_id), str(user_id)])
        return rows[0] if rows else None

    def search_cards(
        self, offer_ids: Sequence[uuid.UUID], query: str, *, limit: int
    ) -> list[CachedCard]:
        """Cards of these offers whose holder has a word starting with each word typed, by name.

        "marc boy" finds "Marcus Boyce", "@dj" finds the handle "djrally"; a
        branch holds thousands of cards, not tickets' tens of thousands, so a
        scan of the folded names (`search_key`) is quick enough without FTS.
        """
        words = [fold(word).lstrip("@") for word in query.split()]
        words = [word for word in words if any(char.isalnum() for char in word)][:6]
        if not words or not offer_ids:
            return []
        likes = " AND ".join("search_key LIKE ? ESCAPE '\\'" for _ in words)
        patterns = ["% " + _like_escape(word) + "%" for word in words]
        offers = json.dumps([str(offer_id) for offer_id in offer_ids])
        return self._cards(
            f"WHERE offer_id IN (SELECT value FROM json_each(?)) AND {likes} "  # noqa: S608
            "ORDER BY search_key, user_id LIMIT ?",
            [offers, *patterns, limit],
        )

    def _cards(self, where: str, params: list[Any]) -> list[CachedCard]:
        select = (
            "SELECT offer_id, user_id, current_stamps, rewards_claimed, last_activity_at, "
            "expired, pulled_at_ack, holder_name, handle FROM cards "
        )
        rows = self.db.execute(select + where, params).fetchall()
        return [
            CachedCard(
                offer_id=uuid.UUID(row[0]),
                user_id=uuid.UUID(row[1]),
                current_stamps=int(row[2]),
                rewards_claimed=int(row[3]),
                last_activity_at=optional_time(row[4]),
                expired=bool(row[5]),
                pulled_at_ack=int(row[6]),
                holder_name=row[7],
                handle=row[8],
            )
            for row in rows
        ]

    def purchase(self, purchase_id: uuid.UUID) -> CachedPurchase | None:
        """A package purchase, if pulled."""
        row = self.db.execute(
            "SELECT id, user_id, event_id, package_name, status, activated_at "
            "FROM purchases WHERE id = ?",
            [str(purchase_id)],
        ).fetchone()
        if row is None:
            return None
        return CachedPurchase(
            uuid.UUID(row[0]),
            uuid.UUID(row[1]),
            _uuid(row[2]),
            row[3],
            row[4],
            optional_time(row[5]),
        )

    def search_tickets(self, event_id: uuid.UUID, query: str, *, limit: int) -> list[CachedTicket]:
        """Tickets of an event with a word starting with each word typed; an exact code first.

        The index is word-prefix (FTS5): "marc boy" finds "Marcus Boyce", "arcus" does
        not. A query matching thousands returns the first `limit` by index order, by name.
        """
        words = [fold(word).lstrip("@") for word in query.split()]
        words = [word for word in words if any(char.isalnum() for char in word)][:6]
        found: list[CachedTicket] = []
        exact_code = code_key(query)
        if exact_code:
            found.extend(
                _ticket(row)
                for row in self.db.execute(
                    f"SELECT {_TICKET_COLUMNS} FROM tickets "  # noqa: S608 (fixed columns)
                    "WHERE code_key = ? AND event_id = ? LIMIT ?",
                    [exact_code, str(event_id), limit],
                )
            )
        if words:
            match = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
            rows = self.db.execute(
                f"SELECT {_TICKET_COLUMNS_T} FROM ticket_search "  # noqa: S608 (fixed columns)
                "JOIN tickets t ON t.n = ticket_search.rowid "
                "WHERE ticket_search MATCH ? AND t.event_id = ? "
                "ORDER BY ticket_search.rowid LIMIT ?",
                [match, str(event_id), limit + len(found)],
            )
            seen = {ticket.id for ticket in found}
            matches = [t for t in map(_ticket, rows) if t.id not in seen]
            matches.sort(key=lambda t: (fold(t.holder_name or t.handle or ""), str(t.id)))
            found.extend(matches)
        return found[:limit]

    def counts(self) -> dict[str, int]:
        """Rows per cached table."""
        return {
            table: int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in _CACHED_TABLES
        }
