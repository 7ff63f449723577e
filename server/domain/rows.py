"""Rows as packages and rewards read and count them: get, lock, list, a counted slot, status.

- `get` answers a missing id with the caller's refusal (PACKAGE_NOT_FOUND, ...);
  `lock=True` reads it `FOR NO KEY UPDATE` on PostgreSQL (rows that merely
  reference it are not blocked) and refreshes it; on SQLite `BEGIN IMMEDIATE`
  serialises writers already.
- `take_slot` is the counted-slot UPDATE both services rely on under
  concurrency: `SET counter = counter + 1 WHERE id = ? AND (cap IS NULL OR
  counter < cap) [AND ...] RETURNING counter`, so the database itself can
  never count past the cap, whatever a caller skipped.
- `settled` is the one status rule of both: an ACTIVE row whose counter met
  its cap becomes the "full" status (SOLD_OUT, DEPLETED), and a full one
  whose cap was raised becomes ACTIVE again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")

LOCK: Final = {"key_share": True}  # FOR NO KEY UPDATE on PostgreSQL; nothing on SQLite


def get(
    session: Session,
    model: type[T],
    row_id: uuid.UUID,
    refuse: Callable[[], Exception],
    *,
    lock: bool = False,
) -> T:
    """The row, or `refuse()` raised; locked and refreshed when `lock`."""
    if lock:
        found = session.get(model, row_id, with_for_update=LOCK, populate_existing=True)
    else:
        found = session.get(model, row_id)
    if found is None:
        raise refuse()
    return found


def list_for_event(
    session: Session, model: Any, *, event_id: uuid.UUID | None, status: str | None
) -> list[Any]:
    """Rows of `model`, optionally of one event and in one status, oldest first."""
    query = select(model).order_by(model.created_at, model.id)
    if event_id is not None:
        query = query.where(model.event_id == event_id)
    if status is not None:
        query = query.where(model.status == status)
    return list(session.scalars(query))


def take_slot(
    session: Session,
    row: Any,
    *,
    counter: InstrumentedAttribute[int],
    cap: InstrumentedAttribute[int | None],
    where: tuple[ColumnElement[bool], ...] = (),
) -> int | None:
    """Count one more on `row` if under its cap; the new count, or None when full."""
    model = type(row)
    taken = session.scalar(
        sql_update(model)
        .where(model.id == row.id, or_(cap.is_(None), counter < cap), *where)
        .values({counter.key: counter + 1})
        .returning(counter)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return taken


def take_slots(
    session: Session,
    row: Any,
    wanted: int,
    *,
    counter: InstrumentedAttribute[int],
    cap: InstrumentedAttribute[int | None],
    where: tuple[ColumnElement[bool], ...] = (),
) -> int:
    """Count up to `wanted` more on `row` under its cap: one locked read (which `where` must
    pass) and one guarded UPDATE; how many were granted (0 when none is left)."""
    model = type(row)
    fresh = session.scalar(
        select(model)
        .where(model.id == row.id, *where)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if fresh is None or wanted <= 0:
        return 0
    limit = getattr(fresh, cap.key)
    have = getattr(fresh, counter.key)
    granted = wanted if limit is None else max(0, min(wanted, limit - have))
    if granted:
        session.execute(
            sql_update(model)
            .where(model.id == row.id, or_(cap.is_(None), counter + granted <= cap))
            .values({counter.key: counter + granted})
            .execution_options(synchronize_session=False)
        )
        session.refresh(row)
    return granted


def settled(status: str, *, count: int, cap: int | None, active: str, full: str) -> str:
    """The status a row should have given its counter and cap (see the module notes)."""
    exhausted = cap is not None and count >= cap
    if status == active and exhausted:
        return full
    if status == full and not exhausted:
        return active
    return status
