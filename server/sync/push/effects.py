"""A subject's decisions made true: each effect written through the domain service that owns it.

Tickets: which scan admitted (the door scans' outcomes) and the holder's
passport stamp (`passport.award_stamps`, which dates a stamp by the scan that
won it). Cards: the pass ledger and its figures (`cards.write_back`).
Purchases: when and by which device the package was activated.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cards import EntryKind
from core.wire import OpStatus
from server.db.bulk import member_of
from server.db.changelog import touch
from server.db.models import TicketScan
from server.db.models.enums import ScanOutcome
from server.domain import cards, passport, purchases
from server.settings import ServerSettings
from server.sync.decide import (
    UNSTAMP,
    Decision,
    OpFact,
    decide_card,
    decide_purchase,
    decide_ticket,
    in_order,
)
from server.sync.push import oplog
from server.sync.push.locks import Profiles
from server.sync.push.oplog import NewScan, OpRow
from server.sync.push.subjects import CardSubject, Checked, Origin, PurchaseSubject, TicketSubject

Facts = dict[uuid.UUID, OpFact]
_OUTCOMES = {
    OpStatus.APPLIED: ScanOutcome.ADMITTED,
    OpStatus.REJECTED: ScanOutcome.REFUSED,
    OpStatus.DUPLICATE: ScanOutcome.REENTRY,
    OpStatus.CONFLICT: ScanOutcome.REENTRY,
}


def apply_tickets(
    session: Session,
    origin: Origin,
    subjects: dict[str, tuple[TicketSubject, list[Checked]]],
    rows_by_subject: dict[str, list[OpRow]],
    facts: Facts,
    profiles: Profiles,
    now: datetime,
) -> tuple[dict[str, list[Decision]], list[NewScan]]:
    """Decide each ticket's ops; bring its scans and the holder's stamp in line.

    Returns the decisions and the new scan rows (to insert with the new ops).
    """
    if not subjects:
        return {}, []
    decided = {
        key: decide_ticket([facts[row.op_id] for row in rows_by_subject[key]]) for key in subjects
    }
    new_scans = [
        oplog.scan_row(origin, item, subject.ticket, now)
        for subject, items in subjects.values()
        for item in items
    ]
    scans = _scans(session, subjects, rows_by_subject, new_scans)
    winners = {key: winner for key, (_d, winner) in decided.items() if winner is not None}
    awards = passport.award_stamps(
        session,
        profiles=profiles,
        requests=[
            passport.StampRequest(
                subjects[key][0].ticket.user_id, subjects[key][0].ticket.event_id, won.occurred_at
            )
            for key, won in winners.items()
        ],
    )
    stamps = {key: award.stamp for key, award in zip(winners, awards, strict=True)}
    results: dict[str, list[Decision]] = {}
    for key, (subject, _items) in subjects.items():
        decisions, winner = decided[key]
        ticket, stamp = subject.ticket, stamps.get(key)
        final = []
        admission_moved = False
        for row, decision in zip(rows_by_subject[key], decisions, strict=True):
            scan = scans[row.op_id]
            outcome = _OUTCOMES[decision.status]
            if (scan.outcome == ScanOutcome.ADMITTED) != (outcome == ScanOutcome.ADMITTED):
                admission_moved = True
            scan.outcome = outcome
            scan.reason = decision.reason
            is_winner = winner is not None and row.op_id == winner.op_id
            scan.passport_stamp_id = stamp.id if (is_winner and stamp) else None
            effects: dict[str, Any] = {"ticket_id": str(ticket.id), "user_id": str(ticket.user_id)}
            if is_winner:
                effects["stamp_id"] = str(stamp.id) if stamp else None
            elif winner is not None and decision.status is not OpStatus.REJECTED:
                effects["first_op_id"] = str(winner.op_id)
            final.append(replace(decision, effects=effects))
        results[key] = final
        if admission_moved:
            # The ticket's first check-in (when, where) changed: kiosks pull it again.
            touch(session, "tickets", str(ticket.id), event_id=ticket.event_id)
    return results, new_scans


def _scans(
    session: Session,
    subjects: dict[str, tuple[TicketSubject, list[Checked]]],
    rows_by_subject: dict[str, list[OpRow]],
    new_scans: list[NewScan],
) -> dict[uuid.UUID, TicketScan | NewScan]:
    """Every door scan of the subjects' ops: the new ones and those already written."""
    scans: dict[uuid.UUID, TicketScan | NewScan] = {scan.op_id: scan for scan in new_scans}
    earlier = [
        row.op_id for key in subjects for row in rows_by_subject[key] if row.op_id not in scans
    ]
    if earlier:
        for scan in session.scalars(
            select(TicketScan).where(member_of(session, TicketScan.op_id, earlier))
        ):
            if scan.op_id is not None:
                scans[scan.op_id] = scan
    return scans


def apply_card(
    session: Session,
    subject: CardSubject,
    rows: list[OpRow],
    facts: Facts,
    settings: ServerSettings,
) -> list[Decision]:
    """Decide the card's ops with its direct entries, in order; write the ledger back."""
    offer = subject.offer
    card = cards.get_or_create_pass(session, offer_id=offer.id, user_id=subject.user_id)
    entries = cards.ledger(session, card.id)
    direct = [
        OpFact(
            op_id=None,
            device_id=entry.device_id,
            seq=entry.seq,
            occurred_at=entry.occurred_at,
            kind=entry.kind,
            entry_id=entry.id,
        )
        for entry in entries
        if entry.op_id is None
    ]
    ordered = in_order([*direct, *(facts[row.op_id] for row in rows)])
    decided, state = decide_card(
        ordered,
        max_stamps=offer.max_stamps,
        inactivity_days=settings.pass_inactivity_expiration_days,
    )
    by_op = {fact.op_id: decision for fact, decision in zip(ordered, decided, strict=True)}
    counted = [
        cards.OpEntry(fact.op_id, EntryKind(fact.kind), fact.occurred_at, fact.device_id, fact.seq)
        for fact in ordered
        if fact.op_id is not None
        and fact.kind != UNSTAMP
        and by_op[fact.op_id].status is OpStatus.APPLIED
    ]
    cards.write_back(session, card, state=state, entries=entries, counted=counted)
    return [by_op[row.op_id] for row in rows]


def apply_purchase(subject: PurchaseSubject, rows: list[OpRow], facts: Facts) -> list[Decision]:
    """The first activation applies: the purchase records when and by which device."""
    purchase = subject.purchase
    direct_at = purchase.activated_at if purchase.activated_by_device_id is None else None
    decisions, winner = decide_purchase([facts[row.op_id] for row in rows], direct_at)
    if winner is not None:
        purchases.take_door_payment(purchase, winner.occurred_at)  # cash taken at the door
        purchase.activated_at = winner.occurred_at
        purchase.activated_by_device_id = winner.device_id
    effects = {"purchase_id": str(purchase.id), "bracelet_ids": list(purchase.django_bracelet_ids)}
    return [
        replace(decision, effects=effects if decision.status is OpStatus.APPLIED else {})
        for decision in decisions
    ]
