"""Read models for HQ's pages: bills with their promoter and event, memberships with people."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    Event,
    EventPassportBilling,
    PassportMembership,
    PassportProfile,
    Promoter,
    User,
)


@dataclass(frozen=True)
class BillLine:
    """A per-event bill, with the names HQ needs to act on it."""

    bill: EventPassportBilling
    event_name: str
    event_starts_at: datetime
    promoter_name: str | None


@dataclass(frozen=True)
class MembershipLine:
    """A membership with its holder's passport handle and email."""

    id: uuid.UUID
    handle: str
    email: str | None
    tier: str
    status: str
    started_at: datetime
    expires_at: datetime | None


def bill_lines(session: Session) -> list[BillLine]:
    """Every bill, oldest first, with its event and promoter."""
    rows = session.execute(
        select(EventPassportBilling, Event.name, Event.starts_at, Promoter.name)
        .join(Event, Event.id == EventPassportBilling.event_id)
        .outerjoin(Promoter, Promoter.id == EventPassportBilling.promoter_id)
        .order_by(EventPassportBilling.created_at, EventPassportBilling.id)
    ).all()
    return [BillLine(bill, name, starts, promoter) for bill, name, starts, promoter in rows]


def membership_lines(session: Session, *, limit: int = 500) -> list[MembershipLine]:
    """Memberships, newest first, each holder shown by handle (else username) and email."""
    rows = session.execute(
        select(PassportMembership, User.username, User.email, PassportProfile.handle)
        .join(User, User.id == PassportMembership.user_id)
        .outerjoin(PassportProfile, PassportProfile.user_id == User.id)
        .order_by(PassportMembership.started_at.desc(), PassportMembership.id)
        .limit(limit)
    ).all()
    return [
        MembershipLine(
            row.id,
            handle or username,
            email,
            row.tier,
            row.status,
            row.started_at,
            row.expires_at,
        )
        for row, username, email, handle in rows
    ]
