"""The pull change log, kept by session hooks so no service has to remember it.

After every flush, each inserted, updated or deleted row of a synced table is
noted in the session with its scope (event, branch, promoter, user). Just
before the transaction commits, the notes become `sync_changes` rows: one row
per synced row, carrying a new change number. Numbers are allocated as
max + 1 while holding a transaction-level advisory lock on PostgreSQL (SQLite
serializes writers already), and the lock is held until commit, so numbers
become visible in increasing order and a reader's cursor never skips a change
that commits late. Rows changed by bulk UPDATE statements are noted with
`touch`.

A card carries its holder's display name and handle (a branch tablet's
offline search), so renaming an account or changing a passport's handle
notes that holder's cards too.

`generation()` counts the commits of this process that wrote change rows: a
waiting pull (`server.sync.waiting`) watches it to answer at once when a
change commits here, and reads the database now and then for changes other
processes commit.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from server.db.bulk import insert_rows
from server.db.models import (
    Event,
    LoyaltyPass,
    Offer,
    PackagePurchase,
    PassportProfile,
    SyncChange,
    Ticket,
    TicketScan,
    User,
    utcnow,
)

_PENDING = "soca.pending_changes"
_RENAMED = "soca.renamed_holders"

_WROTE = "soca.wrote_changes"
#: Arbitrary constant naming our advisory lock on PostgreSQL.
CHANGE_LOCK_KEY = 0x50CA_5A55

Scope = dict[str, Any]
_generation = itertools.count(1)
_latest = 0
_Key = tuple[str, str]


def _describe(row: object) -> tuple[str, str, Scope] | None:
    """(entity, entity id, scope) for a row of a synced table, else None."""
    if isinstance(row, Ticket):
        return "tickets", str(row.id), {"event_id": row.event_id}
    if isinstance(row, PassportProfile):
        return "passports", str(row.user_id), {"user_id": row.user_id}
    if isinstance(row, LoyaltyPass):
        return "cards", str(row.id), {"user_id": row.user_id, "offer_id": row.offer_id}
    if isinstance(row, TicketScan):
        if row.event_id is None:
            return None
        return "scans", str(row.id), {"event_id": row.event_id}
    if isinstance(row, PackagePurchase):
        return "purchases", str(row.id), {"event_id": row.event_id}
    if isinstance(row, Event):
        return "events", str(row.id), {"event_id": row.id, "promoter_id": row.promoter_id}
    if isinstance(row, Offer):
        return "offers", str(row.id), {"branch_id": row.branch_id}
    return None


def _pending(session: Session) -> dict[_Key, tuple[Scope, bool]]:
    found: dict[_Key, tuple[Scope, bool]] = session.info.setdefault(_PENDING, {})
    return found


def touch(
    session: Session, entity: str, entity_id: str, *, deleted: bool = False, **scope: Any
) -> None:
    """Note a change made outside the ORM's unit of work (bulk UPDATE, DELETE)."""
    _pending(session)[(entity, entity_id)] = (scope, deleted)


def _collect(session: Session, _flush: UOWTransaction) -> None:
    pending = _pending(session)
    dirty = session.dirty  # computed on each access: take it once
    for deleted, rows in ((False, session.new), (False, dirty), (True, session.deleted)):
        for row in rows:
            if rows is dirty and not session.is_modified(row):
                continue
            described = _describe(row)
            if described is not None:
                entity, entity_id, scope = described
                pending[(entity, entity_id)] = (scope, deleted)
    renamed: set[uuid.UUID] = session.info.setdefault(_RENAMED, set())
    for row in dirty:
        holder = _renamed_holder(row)
        if holder is not None:
            renamed.add(holder)


def _renamed_holder(row: object) -> uuid.UUID | None:
    """The user whose cards show a name this flush changed (display name or handle)."""
    if isinstance(row, User):
        changed, user_id = inspect(row).attrs.display_name.history.has_changes(), row.id
    elif isinstance(row, PassportProfile):
        changed, user_id = inspect(row).attrs.handle.history.has_changes(), row.user_id
    else:
        return None
    return user_id if changed else None


def _note_renamed_holders(session: Session, pending: dict[_Key, tuple[Scope, bool]]) -> None:
    """Each card of a renamed holder, noted as changed (it carries the holder's name)."""
    renamed: set[uuid.UUID] = session.info.pop(_RENAMED, set())
    if not renamed:
        return
    cards = session.execute(
        select(LoyaltyPass.id, LoyaltyPass.user_id, LoyaltyPass.offer_id).where(
            LoyaltyPass.user_id.in_(renamed)
        )
    ).all()
    for card_id, user_id, offer_id in cards:
        scope = {"user_id": user_id, "offer_id": offer_id}
        pending.setdefault(("cards", str(card_id)), (scope, False))


def _forget(session: Session, _previous: object) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_RENAMED, None)


def _write(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    pending: dict[_Key, tuple[Scope, bool]] = session.info.pop(_PENDING, {})
    _note_renamed_holders(session, pending)
    if not pending:
        return
    connection = session.connection()
    offer_branches = _offer_branches(
        session,
        {scope["offer_id"] for (entity, _id), (scope, _d) in pending.items() if entity == "cards"},
    )
    rows = []
    for (entity, entity_id), (scope, deleted) in sorted(pending.items()):
        branch_id = scope.get("branch_id")
        if entity == "cards":
            branch_id = offer_branches.get(scope["offer_id"])
        rows.append(
            {
                "entity": entity,
                "entity_id": entity_id,
                "event_id": scope.get("event_id"),
                "branch_id": branch_id,
                "promoter_id": scope.get("promoter_id"),
                "user_id": scope.get("user_id"),
                "deleted": deleted,
            }
        )
    session.info[_WROTE] = True
    now = utcnow()
    if connection.dialect.name == "postgresql":
        _write_numbered_postgresql(session, rows, now)
        return
    base = int(
        connection.execute(select(func.coalesce(func.max(SyncChange.change_no), 0))).scalar_one()
    )
    for number, row in enumerate(rows, 1):
        row["change_no"], row["changed_at"] = base + number, now
    insert_rows(session, SyncChange, rows, upsert_on=("entity", "entity_id"))


_TEXT_COLUMNS = ("entity", "entity_id")
_NUMBERED_UPSERT = """
INSERT INTO sync_changes
    (entity, entity_id, event_id, branch_id, promoter_id, user_id, deleted, change_no, changed_at)
SELECT given.entity, given.entity_id, given.event_id, given.branch_id, given.promoter_id,
       given.user_id, given.deleted, base.number + given.ordinal, %(changed_at)s
FROM unnest(
         %(entity)s::text[], %(entity_id)s::text[], %(event_id)s::uuid[], %(branch_id)s::uuid[],
         %(promoter_id)s::uuid[], %(user_id)s::uuid[], %(deleted)s::boolean[]
     ) WITH ORDINALITY
         AS given(entity, entity_id, event_id, branch_id, promoter_id, user_id, deleted, ordinal),
     (SELECT coalesce(max(change_no), 0) AS number FROM sync_changes) AS base
WHERE true
ON CONFLICT (entity, entity_id) DO UPDATE SET
    event_id = excluded.event_id, branch_id = excluded.branch_id,
    promoter_id = excluded.promoter_id, user_id = excluded.user_id, deleted = excluded.deleted,
    change_no = excluded.change_no, changed_at = excluded.changed_at
"""


def _write_numbered_postgresql(session: Session, rows: list[dict[str, Any]], now: datetime) -> None:
    """Number and write the rows in one statement, right after taking the lock.

    Every other writer waits for this lock until we commit, so nothing slow
    happens while it is held: the rows go as array literals built before it
    (psycopg sends each as one text value, with no per-element work), and
    the next number is read in the same statement that writes.
    """
    parameters: dict[str, Any] = {
        name: _text_array([row[name] for row in rows]) for name in _TEXT_COLUMNS
    }
    for name in SyncChange.SCOPES:
        parameters[name] = _uuid_array([row[name] for row in rows])
    parameters["deleted"] = "{" + ",".join("t" if row["deleted"] else "f" for row in rows) + "}"
    parameters["changed_at"] = now
    connection = session.connection()
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOCK_KEY})
    # A new statement, so a new snapshot: it sees every change committed before the lock.
    connection.exec_driver_sql(_NUMBERED_UPSERT, parameters)


def _text_array(values: list[str]) -> str:
    """A PostgreSQL array literal of text values, each quoted (an id may read "NULL")."""
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def _uuid_array(values: list[uuid.UUID | str | None]) -> str:
    """A PostgreSQL array literal of UUIDs (None is NULL); a UUID's text needs no quoting."""
    return "{" + ",".join(_uuid_text(value) for value in values) + "}"


def _uuid_text(value: uuid.UUID | str | None) -> str:
    if value is None:
        return "NULL"
    # Text is parsed first: anything but a UUID raises here, never bends the literal.
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def _offer_branches(session: Session, offer_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    if not offer_ids:
        return {}
    return dict(
        session.execute(select(Offer.id, Offer.branch_id).where(Offer.id.in_(offer_ids))).all()
    )


def generation() -> int:
    """How many commits of this process have written change rows (it only grows)."""
    return _latest


def _committed(session: Session) -> None:
    global _latest
    if session.info.pop(_WROTE, False):
        _latest = next(_generation)


def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)


def install_change_log(factory: sessionmaker[Session]) -> None:
    """Keep the change log for every session this factory makes."""
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "after_soft_rollback", _forget)
    event.listen(factory, "before_commit", _write)
    event.listen(factory, "after_commit", _committed)
    event.listen(factory, "after_rollback", _rolled_back)
