"""Subjects decided again with their new ops, set-based; a poisoned op rejected alone.

For each subject the batch touches, *all* its ops (those logged before and
the new ones) are decided again in the contract's order by the pure
functions of `server.sync.decide`; the effects are brought in line
(`effects`), and every op whose result changed is updated. A late op that
sorts before applied ones therefore re-decides them.

Isolation: the whole step runs in one savepoint. Should the database refuse
something in it (a value a column cannot hold, a number out of range, a race
on a row another batch created), the subjects are decided again one at a
time, each in its own savepoint, and within a subject that still fails, one
new op at a time: the op the database refuses is logged `rejected`
(`invalid_op`) alone and the rest of the batch is applied and committed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.reasons import explain
from server.db.bulk import member_of
from server.db.models import SyncOp
from server.domain import passport
from server.settings import ServerSettings
from server.sync.decide import STATIC_REASONS, Decision
from server.sync.push import effects, oplog
from server.sync.push.locks import Profiles
from server.sync.push.oplog import NewOp, OpRow
from server.sync.push.subjects import (
    CardSubject,
    Checked,
    Origin,
    PurchaseSubject,
    TicketSubject,
)

Decided = dict[uuid.UUID, NewOp]


def decide_locked(
    session: Session,
    origin: Origin,
    by_subject: dict[str, list[Checked]],
    profiles: Profiles,
    settings: ServerSettings,
    now: datetime,
) -> Decided:
    """Decide subjects whose rows this transaction holds; return the new ops' rows."""
    if not by_subject:
        return {}
    decided = _attempt(session, origin, by_subject, profiles, settings, now)
    if not isinstance(decided, SQLAlchemyError):
        return decided
    found: Decided = {}
    for key in sorted(by_subject):
        one = _attempt(session, origin, {key: by_subject[key]}, profiles, settings, now)
        if isinstance(one, SQLAlchemyError):
            one = _op_by_op(session, origin, key, by_subject[key], profiles, settings, now)
        found.update(one)
    return found


def _op_by_op(
    session: Session,
    origin: Origin,
    key: str,
    items: list[Checked],
    profiles: Profiles,
    settings: ServerSettings,
    now: datetime,
) -> Decided:
    """A subject the database refused: its new ops one at a time, the refused ones logged alone."""
    found: Decided = {}
    for item in sorted(items, key=lambda i: (i.op.occurred_at, i.op.seq, i.op.op_id.int)):
        one = _attempt(session, origin, {key: [item]}, profiles, settings, now)
        if isinstance(one, SQLAlchemyError):
            one = {item.op.op_id: oplog.record_poisoned(session, origin, item, one, now)}
        found.update(one)
    return found


def _attempt(
    session: Session,
    origin: Origin,
    by_subject: dict[str, list[Checked]],
    profiles: Profiles,
    settings: ServerSettings,
    now: datetime,
) -> Decided | SQLAlchemyError:
    """Decide in a savepoint; the database's refusal (rolled back) is returned, not raised."""
    try:
        with session.begin_nested():
            return _decide(session, origin, by_subject, profiles, settings, now)
    except SQLAlchemyError as exc:
        if not oplog.is_poison(exc):
            raise
        # Awarding wrote the rolled-back totals into the passports we hold: read them again.
        held = {
            items[0].subject.ticket.user_id
            for items in by_subject.values()
            if isinstance(items[0].subject, TicketSubject)
            and items[0].subject.ticket.user_id in profiles
        }
        if held:
            profiles.update(passport.lock_profiles(session, held, wait=True))
        return exc


def _decide(
    session: Session,
    origin: Origin,
    by_subject: dict[str, list[Checked]],
    profiles: Profiles,
    settings: ServerSettings,
    now: datetime,
) -> Decided:
    """Decide every touched subject again with its new ops, in a few set-based queries."""
    # Logged meanwhile by a concurrent push (its result is read back at the end).
    already = oplog.logged(session, [i.op.op_id for items in by_subject.values() for i in items])
    fresh = {
        key: kept
        for key, items in by_subject.items()
        if (kept := [item for item in items if item.op.op_id not in already])
    }
    if not fresh:
        return {}
    new_rows = {
        item.op.op_id: oplog.new_row(origin, item, now)
        for items in fresh.values()
        for item in items
    }
    rows_by_subject: dict[str, list[OpRow]] = defaultdict(list)
    earlier = session.scalars(
        select(SyncOp)
        .where(member_of(session, SyncOp.subject_key, list(fresh)))
        .execution_options(populate_existing=True)
    )
    for row in [*earlier, *new_rows.values()]:
        assert row.subject_key is not None
        rows_by_subject[row.subject_key].append(row)
    facts = {row.op_id: oplog.fact(row) for rows in rows_by_subject.values() for row in rows}
    for rows in rows_by_subject.values():
        rows.sort(key=lambda row: facts[row.op_id].order)
    decided: dict[str, list[Decision]] = {}
    tickets: dict[str, tuple[TicketSubject, list[Checked]]] = {}
    for key, items in fresh.items():
        subject, rows = items[0].subject, rows_by_subject[key]
        if isinstance(subject, TicketSubject):
            tickets[key] = (subject, items)
        elif isinstance(subject, CardSubject):
            decided[key] = effects.apply_card(session, subject, rows, facts, settings)
        else:
            assert isinstance(subject, PurchaseSubject)
            decided[key] = effects.apply_purchase(subject, rows, facts)
    ticket_decisions, new_scans = effects.apply_tickets(
        session, origin, tickets, rows_by_subject, facts, profiles, now
    )
    decided.update(ticket_decisions)
    for key, decisions in decided.items():
        for row, decision in zip(rows_by_subject[key], decisions, strict=True):
            _store(row, decision, is_new=row.op_id in new_rows, now=now)
    oplog.write_new(session, new_rows.values(), new_scans)
    session.flush()
    return new_rows


def _store(row: OpRow, decision: Decision, *, is_new: bool, now: datetime) -> None:
    """Set an op's current result (and, for a new op, its first) to its decision."""
    if decision.reason in STATIC_REASONS and row.reason == decision.reason and row.message:
        message: str | None = row.message  # the words its own checks gave, with their details
    else:
        message = explain(decision.reason, decision.context) if decision.reason else None
    blocker = decision.blocker.op_id if decision.blocker else None
    current = (row.status, row.reason, row.message, row.effects, row.blocked_by_op_id)
    wanted = (decision.status.value, decision.reason, message, decision.effects, blocker)
    if current != wanted:
        row.status, row.reason, row.message, row.effects, row.blocked_by_op_id = wanted
        row.decided_at = now
    if is_new:
        row.first_status, row.first_reason = decision.status.value, decision.reason
        row.first_message, row.first_effects = message, decision.effects
