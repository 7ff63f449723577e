"""Attendance figures for promoters, aggregated in SQL from `ticket_scans`.

An arrival is an ADMITTED scan (a ticket's first admission; re-entries are
REENTRY and refusals REFUSED: a ticket op the server refused, or a code the
door itself turned away and recorded with `scan.refused`). Arrivals are counted per `bucket_minutes`
window of door time, aligned to the epoch (so 15-minute buckets start on the
quarter hour, UTC). Repeat attendees, countries and circuits look across all
of one promoter's events: countries are the attendees' home countries
(`None` when unknown), circuits the events' carnival circuits. A repeat
attendee is named by their passport handle, their public name, never by
their account's real name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, cast, distinct, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from server.db.models import Event, PassportProfile, Ticket, TicketScan, User
from server.db.models.enums import ScanOutcome

DEFAULT_BUCKET_MINUTES = 15


@dataclass(frozen=True)
class Arrivals:
    """Admitted scans in one window starting at `starts_at`."""

    starts_at: datetime
    count: int


@dataclass(frozen=True)
class EventAttendance:
    """One event's door figures."""

    event_id: uuid.UUID
    admitted: int
    reentries: int
    refused: int
    arrivals: list[Arrivals]


@dataclass(frozen=True)
class RepeatAttendee:
    """Someone admitted at `events` of the promoter's events (two or more)."""

    user_id: uuid.UUID
    handle: str | None  # None: the fan has no passport
    events: int


def _epoch_seconds(session: Session, column: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), Integer)
    return cast(func.strftime("%s", column), Integer)


def event_attendance(
    session: Session, *, event_id: uuid.UUID, bucket_minutes: int = DEFAULT_BUCKET_MINUTES
) -> EventAttendance:
    """Totals by outcome and arrivals per window for one event (no scans: zeros, no windows)."""
    if bucket_minutes < 1:
        raise ValueError("bucket_minutes must be at least 1")
    totals = dict(
        session.execute(
            select(TicketScan.outcome, func.count())
            .where(TicketScan.event_id == event_id)
            .group_by(TicketScan.outcome)
        ).all()
    )
    width = bucket_minutes * 60
    bucket = (_epoch_seconds(session, TicketScan.scanned_at) // width).label("bucket")
    rows = session.execute(
        select(bucket, func.count())
        .where(TicketScan.event_id == event_id, TicketScan.outcome == ScanOutcome.ADMITTED)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    arrivals = [
        Arrivals(datetime.fromtimestamp(int(start) * width, UTC), int(count))
        for start, count in rows
    ]
    return EventAttendance(
        event_id=event_id,
        admitted=int(totals.get(ScanOutcome.ADMITTED, 0)),
        reentries=int(totals.get(ScanOutcome.REENTRY, 0)),
        refused=int(totals.get(ScanOutcome.REFUSED, 0)),
        arrivals=arrivals,
    )


def _admitted_at_promoter(promoter_id: uuid.UUID) -> Any:
    return (
        select(TicketScan.user_id.label("user_id"), TicketScan.event_id.label("event_id"))
        .join(Event, Event.id == TicketScan.event_id)
        .where(
            Event.promoter_id == promoter_id,
            TicketScan.outcome == ScanOutcome.ADMITTED,
            TicketScan.user_id.is_not(None),
        )
        .distinct()
        .subquery()
    )


def repeat_attendees(
    session: Session, *, promoter_id: uuid.UUID, min_events: int = 2, limit: int = 50
) -> list[RepeatAttendee]:
    """People admitted at `min_events` or more of this promoter's events, most loyal first."""
    seen = _admitted_at_promoter(promoter_id)
    count = func.count(seen.c.event_id)
    rows = session.execute(
        select(seen.c.user_id, PassportProfile.handle, count)
        .outerjoin(PassportProfile, PassportProfile.user_id == seen.c.user_id)
        .group_by(seen.c.user_id, PassportProfile.handle)
        .having(count >= min_events)
        .order_by(count.desc(), PassportProfile.handle)
        .limit(limit)
    ).all()
    return [RepeatAttendee(user_id, handle, int(events)) for user_id, handle, events in rows]


def countries(session: Session, *, promoter_id: uuid.UUID) -> list[tuple[str | None, int]]:
    """Distinct attendees of this promoter's events per home country, largest first."""
    seen = _admitted_at_promoter(promoter_id)
    people = func.count(distinct(User.id))
    rows = session.execute(
        select(User.home_country, people)
        .join(seen, seen.c.user_id == User.id)
        .group_by(User.home_country)
        .order_by(people.desc(), User.home_country)
    ).all()
    return [(country, int(n)) for country, n in rows]


def circuits(session: Session, *, promoter_id: uuid.UUID) -> list[tuple[str | None, int]]:
    """Distinct attendees per carnival circuit of this promoter's events, largest first."""
    seen = _admitted_at_promoter(promoter_id)
    people = func.count(distinct(seen.c.user_id))
    rows = session.execute(
        select(Event.carnival_circuit, people)
        .join(seen, seen.c.event_id == Event.id)
        .group_by(Event.carnival_circuit)
        .order_by(people.desc(), Event.carnival_circuit)
    ).all()
    return [(circuit, int(n)) for circuit, n in rows]


def scan_rows(session: Session, *, event_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every scan of the event in door-time order, for CSV export."""
    rows = session.execute(
        select(TicketScan, Ticket.code, Ticket.holder_name)
        .outerjoin(Ticket, Ticket.id == TicketScan.ticket_id)
        .where(TicketScan.event_id == event_id)
        .order_by(TicketScan.scanned_at, TicketScan.id)
    ).all()
    return [
        {
            "scanned_at": scan.scanned_at.isoformat(),
            "ticket_code": code or "",
            "holder_name": holder or "",
            "gate": scan.gate or "",
            "method": scan.method,
            "outcome": scan.outcome,
            "reason": scan.reason or "",
        }
        for scan, code, holder in rows
    ]
