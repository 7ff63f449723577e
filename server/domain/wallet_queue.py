"""The wallet outbox's consumer side: claim due updates, then record how each attempt went.

`pass_updates` rows are written with the change (`server.db.wallet_outbox`).
A worker claims the due ones (several changes of one pass become one
delivery), which records the attempt and leases them for `LEASE` so another
process does not send them at the same time; after sending, it marks them
sent, or failed with the error and a backoff (`backoff`) before the next try.
A worker that dies mid-send leaves its lease to run out, and the update is
sent again: delivery is at least once, and a phone that is told twice only
asks twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.db.models import PassUpdate, WalletPass

#: How long a claimed update is left to its worker before another may try.
LEASE: Final = timedelta(seconds=60)
#: The longest wait between two attempts.
MAX_BACKOFF: Final = timedelta(hours=1)
#: Failed updates shown to HQ.
FAILING_SHOWN: Final = 50
#: How long a delivered update is kept (the record of what was sent when).
KEEP_SENT: Final = timedelta(days=7)


def backoff(attempts: int) -> timedelta:
    """The wait after `attempts` failed attempts: 2, 4, 8 ... seconds, at most an hour."""
    return min(timedelta(seconds=2 ** min(attempts, 20)), MAX_BACKOFF)


@dataclass(frozen=True)
class Delivery:
    """One pass to announce, for one or more queued changes."""

    wallet_pass_id: uuid.UUID
    update_ids: list[uuid.UUID]
    notify: bool
    attempts: int


def claim(session: Session, *, now: datetime, limit: int = 100) -> list[Delivery]:
    """Lease up to `limit` due updates, grouped by pass, and count the attempt."""
    query = (
        select(PassUpdate)
        .where(PassUpdate.sent_at.is_(None), PassUpdate.next_attempt_at <= now)
        .order_by(PassUpdate.next_attempt_at, PassUpdate.created_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    grouped: dict[uuid.UUID, list[PassUpdate]] = defaultdict(list)
    for row in rows:
        row.attempts += 1
        row.last_attempt_at = now
        row.next_attempt_at = now + LEASE
        grouped[row.wallet_pass_id].append(row)
    session.flush()
    return [
        Delivery(
            wallet_pass_id=pass_id,
            update_ids=[row.id for row in group],
            notify=any(row.notify for row in group),
            attempts=max(row.attempts for row in group),
        )
        for pass_id, group in grouped.items()
    ]


def mark_sent(
    session: Session, delivery: Delivery, *, now: datetime, note: str | None = None
) -> None:
    """The updates went out (`note`: anything worth keeping, such as a pass that is gone)."""
    session.execute(
        update(PassUpdate)
        .where(PassUpdate.id.in_(delivery.update_ids))
        .values(sent_at=now, last_error=note)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, delivery: Delivery, *, now: datetime, error: str) -> None:
    """The attempt failed: keep the error, try again after the backoff."""
    session.execute(
        update(PassUpdate)
        .where(PassUpdate.id.in_(delivery.update_ids))
        .values(last_error=error[:2000], next_attempt_at=now + backoff(delivery.attempts))
        .execution_options(synchronize_session=False)
    )


def prune(session: Session, *, now: datetime) -> int:
    """Forget updates delivered more than `KEEP_SENT` ago; how many."""
    result = session.execute(
        delete(PassUpdate).where(
            PassUpdate.sent_at.is_not(None), PassUpdate.sent_at < now - KEEP_SENT
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Failing:
    """An update not yet delivered after at least one failed attempt."""

    wallet_pass_id: uuid.UUID
    kind: str
    reason: str
    attempts: int
    last_error: str
    last_attempt_at: datetime | None
    next_attempt_at: datetime


def failing(session: Session, *, limit: int = FAILING_SHOWN) -> list[Failing]:
    """Undelivered updates whose last attempt failed, most tried first."""
    rows = session.execute(
        select(PassUpdate, WalletPass.kind)
        .join(WalletPass, WalletPass.id == PassUpdate.wallet_pass_id)
        .where(PassUpdate.sent_at.is_(None), PassUpdate.last_error.is_not(None))
        .order_by(PassUpdate.attempts.desc(), PassUpdate.created_at)
        .limit(limit)
    ).all()
    return [
        Failing(
            row.wallet_pass_id,
            kind,
            row.reason,
            row.attempts,
            row.last_error or "",
            row.last_attempt_at,
            row.next_attempt_at,
        )
        for row, kind in rows
    ]
