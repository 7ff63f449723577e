"""The wallet outbox, kept by session hooks like the change log: no service has to remember it.

After every flush, each changed stamp card, passport or ticket is noted with
why it changed (a prize, a tier, a revocation ...). Just before the
transaction commits, every wallet pass showing one of them gets a new update
tag (max + 1, under the change log's advisory lock on PostgreSQL, so tags
become visible in increasing order and a phone asking "what changed since
tag T" never misses one that commits late) and a `pass_updates` row: in the
same transaction as the change, so an update is never lost and never sent
for a change that was rolled back. After the commit, `QUEUED` wakes the
wallet worker in this process; workers elsewhere find the rows by polling.
Changes made by bulk statements are noted with `touch`.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import event, func, select, text, update
from sqlalchemy import inspect as inspect_row
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from server.db.bulk import member_of
from server.db.models import (
    Event,
    LoyaltyPass,
    PassportProfile,
    PassUpdate,
    Ticket,
    WalletPass,
    utcnow,
)
from server.db.models.enums import PassStatus, TicketStatus

_PENDING: Final = "soca.wallet_changes"
_SENT: Final = "soca.wallet_queued"
#: The change log's advisory lock (server.db.changelog.CHANGE_LOCK_KEY): one order for both.
_LOCK_KEY: Final = 0x50CA_5A55
#: Reasons a pass changed; those in NOTIFYING ask Google to notify the holder.
REASONS: Final = ("changed", "points", "stamp", "expired", "revoked", "prize", "tier")
NOTIFYING: Final = frozenset({"prize", "tier"})
#: Set after a commit that queued updates: the worker in this process wakes at once.
QUEUED: Final = threading.Event()
#: Where a later reason outranks an earlier one for the same pass in one transaction.
_RANK: Final = {reason: rank for rank, reason in enumerate(REASONS)}

_Key = tuple[str, uuid.UUID]


def _pending(session: Session) -> dict[_Key, str]:
    found: dict[_Key, str] = session.info.setdefault(_PENDING, {})
    return found


def touch(session: Session, kind: str, subject_id: uuid.UUID, reason: str = "changed") -> None:
    """Note a change made outside the ORM's unit of work (a bulk UPDATE)."""
    pending = _pending(session)
    key = (kind, subject_id)
    if _RANK[reason] >= _RANK.get(pending.get(key, "changed"), 0):
        pending[key] = reason


def touch_offer(session: Session, offer_id: uuid.UUID) -> None:
    """An offer's name or prize changed: every card of it in a wallet shows them."""
    found = select(LoyaltyPass.id).where(
        LoyaltyPass.offer_id == offer_id,
        LoyaltyPass.id.in_(select(WalletPass.subject_id).where(WalletPass.kind == "card")),
    )
    for card_id in session.scalars(found):
        touch(session, "card", card_id)


def _changed(row: object, name: str) -> tuple[object, object] | None:
    history = inspect_row(row).attrs[name].history
    if not history.has_changes():
        return None
    before = history.deleted[0] if history.deleted else None
    after = history.added[0] if history.added else None
    return before, after


def _card_reason(card: LoyaltyPass) -> str | None:
    claimed = _changed(card, "rewards_claimed")
    if claimed is not None and (claimed[1] or 0) > (claimed[0] or 0):  # type: ignore[operator]
        return "prize"
    status = _changed(card, "status")
    if status is not None and status[1] == PassStatus.EXPIRED:
        return "expired"
    if _changed(card, "current_stamps") or claimed or status:
        return "stamp"
    if _changed(card, "updated_at"):  # cards.retier: the offer's tiers moved this card
        return "tier"
    return None


def _describe(row: object) -> tuple[_Key, str] | None:
    if isinstance(row, LoyaltyPass):
        reason = _card_reason(row)
        return (("card", row.id), reason) if reason else None
    if isinstance(row, PassportProfile):
        if _changed(row, "current_tier"):
            return ("passport", row.user_id), "tier"
        return ("passport", row.user_id), "points"
    if isinstance(row, Ticket):
        status = _changed(row, "status")
        if status is not None and status[1] == TicketStatus.REVOKED:
            return ("ticket", row.id), "revoked"
        return ("ticket", row.id), "changed"
    return None


def _collect(session: Session, _flush: UOWTransaction) -> None:
    for row in session.dirty:
        if not isinstance(row, LoyaltyPass | PassportProfile | Ticket | Event):
            continue
        if not session.is_modified(row):
            continue
        if isinstance(row, Event):  # its name, time or place: the tickets' passes show them
            touch(session, "event", row.id)
            continue
        described = _describe(row)
        if described is not None:
            (kind, subject), reason = described
            touch(session, kind, subject, reason)


def _forget(session: Session, _previous: object) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def _queue(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    pending: dict[_Key, str] = session.info.pop(_PENDING, {})
    if not pending:
        return
    events = [subject for kind, subject in pending if kind == "event"]
    if events:
        found = select(Ticket.id).where(member_of(session, Ticket.event_id, events))
        for ticket_id in session.scalars(found):
            pending.setdefault(("ticket", ticket_id), "changed")
    subjects = {subject for _kind, subject in pending}
    passes = session.execute(
        select(WalletPass.id, WalletPass.kind, WalletPass.subject_id, WalletPass.updated_at).where(
            member_of(session, WalletPass.subject_id, subjects)
        )
    ).all()
    wanted = [
        (row.id, pending[(row.kind, row.subject_id)], row.updated_at)
        for row in passes
        if (row.kind, row.subject_id) in pending
    ]
    if not wanted:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    base = int(session.scalar(select(func.coalesce(func.max(WalletPass.tag), 0))) or 0)
    now = utcnow()
    for number, (pass_id, reason, previous) in enumerate(sorted(wanted), 1):
        session.execute(
            update(WalletPass)
            .where(WalletPass.id == pass_id)
            .values(tag=base + number, updated_at=next_modified(previous, now))
            .execution_options(synchronize_session=False)
        )
        session.add(
            PassUpdate(
                wallet_pass_id=pass_id,
                reason=reason,
                notify=reason in NOTIFYING,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    session.info[_SENT] = True


def next_modified(previous: datetime | None, now: datetime) -> datetime:
    """A pass's new modification time: now, but at least a whole second after the last one.

    HTTP dates (Last-Modified, If-Modified-Since) have one-second resolution, so
    two changes within a second must still read as two different times.
    """
    if previous is None:
        return now
    floor = previous.replace(microsecond=0) + timedelta(seconds=1)
    return max(now, floor)


def _wake(session: Session) -> None:
    if session.info.pop(_SENT, False):
        QUEUED.set()


def install_wallet_outbox(factory: sessionmaker[Session]) -> None:
    """Keep the wallet outbox for every session this factory makes."""
    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "after_soft_rollback", _forget)
    event.listen(factory, "before_commit", _queue)
    event.listen(factory, "after_commit", _wake)
