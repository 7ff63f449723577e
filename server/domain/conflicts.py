"""HQ's review of sync conflicts: what each one is about, and marking it resolved with a note.

A conflict is an op the server recorded with status `conflict` (offline
devices disagreed; see the sync guarantees). Each is described by its
subject, read from the op log's `subject_key` (`ticket:<id>`,
`card:<offer>:<user>`, `purchase:<id>`): the ticket's code, holder and
event, or the card's offer, or the package, and the attendee by passport
handle and email. Marking one resolved stores HQ's note
(`conflict_resolutions`); marking it again replaces the note.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from core import limits
from core.wire import OpStatus
from server.db.models import (
    ConflictResolution,
    Device,
    Event,
    Offer,
    Package,
    PackagePurchase,
    PassportProfile,
    SyncOp,
    Ticket,
    User,
)
from server.errors import FieldErrors, NotFound


@dataclass(frozen=True)
class Resolution:
    """HQ's note on a conflict, and who wrote it when."""

    note: str
    resolved_at: datetime
    resolved_by: str | None


@dataclass(frozen=True)
class ConflictLine:
    """One conflict as HQ reads it."""

    op_id: uuid.UUID
    type: str
    occurred_at: datetime
    who: str  # the device, or the person who confirmed online
    won_by: str | None
    won_at: datetime | None
    reason: str | None
    message: str | None
    subject: str
    attendee: str | None
    resolution: Resolution | None


def _person(session: Session, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    row = session.execute(
        select(User.username, User.email, PassportProfile.handle)
        .outerjoin(PassportProfile, PassportProfile.user_id == User.id)
        .where(User.id == user_id)
    ).first()
    if row is None:
        return None
    username, email, handle = row
    return f"@{handle or username}" + (f" · {email}" if email else "")


def _side(device_name: str | None, person: User | None) -> str:
    """Who decided an op: its device, or the person who confirmed a prize online."""
    if device_name is not None:
        return device_name
    return f"{person.display_name} (online)" if person is not None else "?"


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def describe(session: Session, subject_key: str | None) -> tuple[str, str | None]:
    """What a conflict is about, in words, and the attendee it concerns (if known)."""
    kind, _, rest = (subject_key or "").partition(":")
    if kind == "ticket" and (ticket_id := _uuid(rest)) is not None:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            event = session.get(Event, ticket.event_id)
            where = f" at {event.name}" if event is not None else ""
            text = f"Ticket {ticket.code} ({ticket.holder_name}){where}"
            return text, _person(session, ticket.user_id)
    if kind == "card":
        offer_text, _, user_text = rest.partition(":")
        offer_id, user_id = _uuid(offer_text), _uuid(user_text)
        offer = session.get(Offer, offer_id) if offer_id else None
        if offer is not None:
            return f"Stamp card: {offer.name}", _person(session, user_id)
    if kind == "purchase" and (purchase_id := _uuid(rest)) is not None:
        purchase = session.get(PackagePurchase, purchase_id)
        if purchase is not None:
            package = session.get(Package, purchase.package_id)
            name = package.name if package is not None else "a package"
            return f"Package purchase: {name}", _person(session, purchase.user_id)
    return subject_key or "Unknown subject", None


def list_(session: Session, *, limit: int = 200) -> list[ConflictLine]:
    """Conflicts, unresolved first, then newest first, each described."""
    winner, winner_device, resolver = aliased(SyncOp), aliased(Device), aliased(User)
    person, winner_person = aliased(User), aliased(User)
    rows = session.execute(
        select(
            SyncOp,
            Device.name,
            person,
            winner,
            winner_device.name,
            winner_person,
            ConflictResolution,
            resolver,
        )
        .outerjoin(Device, Device.id == SyncOp.device_id)
        .outerjoin(person, person.id == SyncOp.user_id)
        .outerjoin(winner, winner.op_id == SyncOp.blocked_by_op_id)
        .outerjoin(winner_device, winner_device.id == winner.device_id)
        .outerjoin(winner_person, winner_person.id == winner.user_id)
        .outerjoin(ConflictResolution, ConflictResolution.op_id == SyncOp.op_id)
        .outerjoin(resolver, resolver.id == ConflictResolution.resolved_by_user_id)
        .where(SyncOp.status == OpStatus.CONFLICT)
        .order_by(ConflictResolution.op_id.is_not(None), SyncOp.occurred_at.desc())
        .limit(limit)
    ).all()
    lines = []
    for op, device_name, who, won, won_device, won_person, resolution, by in rows:
        subject, attendee = describe(session, op.subject_key)
        lines.append(
            ConflictLine(
                op_id=op.op_id,
                type=op.type,
                occurred_at=op.occurred_at,
                who=_side(device_name, who),
                won_by=None if won is None else _side(won_device, won_person),
                won_at=won.occurred_at if won is not None else None,
                reason=op.reason,
                message=op.message,
                subject=subject,
                attendee=attendee,
                resolution=None
                if resolution is None
                else Resolution(
                    resolution.note, resolution.resolved_at, by.display_name if by else None
                ),
            )
        )
    return lines


def resolve(
    session: Session, *, op_id: uuid.UUID, note: str, user_id: uuid.UUID | None, now: datetime
) -> ConflictResolution:
    """Mark a conflict resolved with HQ's note (again: the note is replaced)."""
    op = session.get(SyncOp, op_id)
    if op is None or op.status != OpStatus.CONFLICT:
        raise NotFound("There is no such conflict.")
    clean = note.strip()
    problem = limits.text_problem(clean, limits.CONFLICT_NOTE)
    if problem is not None:
        raise FieldErrors({"note": "Say what was done about it." if not clean else problem})
    row = session.get(ConflictResolution, op_id) or ConflictResolution(op_id=op_id)
    row.note = clean
    row.resolved_by_user_id = user_id
    row.resolved_at = now
    session.add(row)
    session.flush()
    return row
