"""Tickets and door scans: issuing signed tickets, and recording what happened at the gate.

The first admitting scan of a ticket earns the passport stamp (seed 000: the
ticket scan calls awardStampForEventScan); later scans are re-entries, kept
as facts with a reference to the first scan; refusals are stored with their
reason. Every scan keeps both the door time and the time the server got it.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from core.reasons import Reason
from core.ticket_codes import new_ticket_code
from core.tokens import SigningKey, TokenKind, issue_token
from server.db.models import Event, Ticket, TicketScan, User
from server.db.models.enums import ScanMethod, ScanOutcome, TicketStatus
from server.domain import accounts, keys, passport, qr_codes
from server.domain.passport import AwardResult
from server.errors import FieldErrors, NotFound


def issue_ticket(
    session: Session,
    *,
    event_id: uuid.UUID,
    user_id: uuid.UUID,
    holder_name: str | None = None,
    signing_key: SigningKey | None = None,
) -> Ticket:
    """Issue a ticket with its signed QR token."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if session.get(Event, event_id) is None:
        raise NotFound("no such event")
    key = signing_key or keys.current_signing_key(session)
    ticket_id = uuid.uuid4()
    ticket = Ticket(
        id=ticket_id,
        event_id=event_id,
        user_id=user_id,
        holder_name=holder_name or user.display_name,
        code=new_ticket_code(),
        qr_token=issue_token(key, TokenKind.TICKET, ticket_id, event_id),
    )
    session.add(ticket)
    qr_codes.keep_drawing(session, ticket.qr_token)
    session.flush()
    return ticket


def issue_to_email(
    session: Session,
    *,
    event_id: uuid.UUID,
    email: str,
    holder_name: str | None = None,
    signing_key: SigningKey | None = None,
) -> Ticket:
    """Issue a ticket to a buyer's email: its account's, or held for whoever registers it.

    The holder name is what the promoter typed (else the email), never the
    account's own name, so the ticket says nothing about who has an account.
    """
    name = (holder_name or "").strip()
    problem = limits.text_problem(name, limits.HOLDER_NAME) if name else None
    if problem is not None:
        raise FieldErrors({"holder_name": problem})
    owner = accounts.placeholder_for_email(session, email=email)
    assert owner.email is not None
    label = name or owner.email[: limits.HOLDER_NAME.max_length]
    return issue_ticket(
        session, event_id=event_id, user_id=owner.id, holder_name=label, signing_key=signing_key
    )


def revoke_ticket(session: Session, *, ticket_id: uuid.UUID, now: datetime) -> Ticket:
    """Revoke a ticket; kiosks learn it in their next pull."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket")
    ticket.status = TicketStatus.REVOKED
    ticket.revoked_at = ticket.revoked_at or now
    session.flush()
    return ticket


class TicketState(enum.StrEnum):
    """What a ticket's list shows: still valid, used at the door, or revoked."""

    VALID = "VALID"
    CHECKED_IN = "CHECKED_IN"
    REVOKED = "REVOKED"

    @property
    def label(self) -> str:
        """The state in words."""
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class TicketLine:
    """One ticket as its promoter sees it: code, holder, the email it went to, its state."""

    id: uuid.UUID
    code: str
    holder_name: str
    email: str | None
    state: TicketState
    checked_in_at: datetime | None
    created_at: datetime


def list_for_event(
    session: Session, *, event_id: uuid.UUID, limit: int = 100, offset: int = 0
) -> list[TicketLine]:
    """The event's tickets, newest first, each with its state (one query)."""
    admitted = (
        select(TicketScan.ticket_id, func.min(TicketScan.scanned_at).label("first"))
        .where(TicketScan.event_id == event_id, TicketScan.outcome == ScanOutcome.ADMITTED)
        .group_by(TicketScan.ticket_id)
        .subquery()
    )
    rows = session.execute(
        select(Ticket, User.email, admitted.c.first)
        .join(User, User.id == Ticket.user_id)
        .outerjoin(admitted, admitted.c.ticket_id == Ticket.id)
        .where(Ticket.event_id == event_id)
        .order_by(Ticket.created_at.desc(), Ticket.id)
        .limit(limit)
        .offset(offset)
    ).all()
    lines = []
    for ticket, email, first in rows:
        if ticket.status == TicketStatus.REVOKED:
            state = TicketState.REVOKED
        else:
            state = TicketState.CHECKED_IN if first is not None else TicketState.VALID
        lines.append(
            TicketLine(
                ticket.id, ticket.code, ticket.holder_name, email, state, first, ticket.created_at
            )
        )
    return lines


def count_for_event(session: Session, *, event_id: uuid.UUID) -> int:
    """How many tickets the event has (any state)."""
    count = session.scalar(select(func.count()).where(Ticket.event_id == event_id))
    return int(count or 0)


@dataclass(frozen=True)
class ScanResult:
    """A recorded scan, the first admitting scan when this one is a re-entry, and any stamp."""

    scan: TicketScan
    first_scan: TicketScan | None
    award: AwardResult | None

    @property
    def reason(self) -> Reason | None:
        """Why this scan is not a plain admission."""
        return Reason(self.scan.reason) if self.scan.reason else None


def first_admission(session: Session, *, ticket_id: uuid.UUID) -> TicketScan | None:
    """The earliest admitting scan of a ticket, in door time."""
    return session.scalar(
        select(TicketScan)
        .where(TicketScan.ticket_id == ticket_id, TicketScan.outcome == ScanOutcome.ADMITTED)
        .order_by(TicketScan.scanned_at, TicketScan.id)
        .limit(1)
    )


def record_scan(
    session: Session,
    *,
    ticket_id: uuid.UUID,
    event_id: uuid.UUID,
    gate: str | None,
    scanned_at: datetime,
    device_id: uuid.UUID | None = None,
    op_id: uuid.UUID | None = None,
    method: ScanMethod = ScanMethod.QR,
    note: str | None = None,
) -> ScanResult:
    """Record a door scan: admit and stamp the first time, re-entry after, refusal with a reason."""
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    scan = TicketScan(
        ticket_id=ticket.id if ticket else None,
        event_id=event_id if session.get(Event, event_id) else None,
        user_id=ticket.user_id if ticket else None,
        device_id=device_id,
        op_id=op_id,
        gate=gate,
        method=method,
        note=note,
        scanned_at=scanned_at,
    )
    refusal = _refusal(ticket, event_id)
    first = None if ticket is None else first_admission(session, ticket_id=ticket.id)
    award = None
    if refusal is not None:
        scan.outcome, scan.reason = ScanOutcome.REFUSED, refusal
    elif first is not None:
        scan.outcome, scan.reason = ScanOutcome.REENTRY, Reason.ALREADY_SCANNED
    else:
        assert ticket is not None
        scan.outcome = ScanOutcome.ADMITTED
        award = passport.award_stamp_for_event_scan(
            session, user_id=ticket.user_id, event_id=ticket.event_id, now=scanned_at
        )
        scan.passport_stamp_id = award.stamp.id if award.stamp else None
    session.add(scan)
    session.flush()
    return ScanResult(scan=scan, first_scan=first, award=award)


def _refusal(ticket: Ticket | None, event_id: uuid.UUID) -> Reason | None:
    if ticket is None:
        return Reason.UNKNOWN_TICKET
    if ticket.event_id != event_id:
        return Reason.WRONG_EVENT
    if ticket.status == TicketStatus.REVOKED:
        return Reason.REVOKED
    return None
