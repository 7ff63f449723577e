"""Events and switching Soca Passport on for them (seed 000 event columns, seed 001 §3.2).

An event belongs to an APPROVED promoter, or to nobody (a house event run by
HQ). `enable_passport` turns stamping on and makes sure the event has exactly
one `event_passport_billing` row (DRAFT when first created); enabling again
returns that same row. It needs the event's `country_code`, because every
passport stamp copies it into a NOT NULL column.

`disable_passport` only turns stamping off: the billing row stays, with its
fee, status and notes, so a PAID or WAIVED bill is never lost and enabling
again picks the same row back up.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Event, EventPassportBilling
from server.db.models.enums import BillingStatus, PromoterStatus
from server.domain import billing, checks, promoters
from server.domain.promoters import FieldErrors, clean_country_code
from server.errors import Forbidden, NotFound


def create_event(
    session: Session,
    *,
    name: str,
    starts_at: datetime,
    promoter_id: uuid.UUID | None = None,
    venue: str | None = None,
    city: str | None = None,
    country_code: str | None = None,
    carnival_circuit: str | None = None,
    stamp_points_default: int = 50,
    ends_at: datetime | None = None,
) -> Event:
    """Create an event; its promoter, if any, must be APPROVED (Forbidden otherwise)."""
    errors: dict[str, str] = {}
    clean_name = checks.text(
        errors, "name", name, limits.EVENT_NAME, required="Please give the event a name."
    )
    if starts_at.tzinfo is None:
        errors["starts_at"] = "The start time needs a time zone."
    else:
        checks.moment(errors, "starts_at", starts_at, limits.DATE_TIME)
    if ends_at is not None:
        if ends_at.tzinfo is None:
            errors["ends_at"] = "The end time needs a time zone."
        else:
            checks.moment(errors, "ends_at", ends_at, limits.DATE_TIME)
        if not errors.keys() & {"starts_at", "ends_at"} and ends_at < starts_at:
            errors["ends_at"] = "The event cannot end before it starts."
    checks.whole(errors, "stamp_points_default", stamp_points_default, limits.STAMP_POINTS)
    try:
        country = clean_country_code(country_code)
    except ValueError as exc:
        errors["country_code"] = str(exc)
        country = None
    clean_venue = checks.text(errors, "venue", venue, limits.VENUE)
    clean_city = checks.text(errors, "city", city, limits.CITY)
    circuit = checks.text(errors, "carnival_circuit", carnival_circuit, limits.CARNIVAL_CIRCUIT)
    if errors:
        raise FieldErrors(errors)
    assert clean_name is not None

    if promoter_id is not None:
        promoter = promoters.get(session, promoter_id=promoter_id)
        if promoter.status != PromoterStatus.APPROVED:
            raise Forbidden(
                f"Promoter {promoter.name!r} is {promoter.status}; only an approved "
                "promoter can add events."
            )

    event = Event(
        name=clean_name,
        starts_at=starts_at,
        ends_at=ends_at,
        promoter_id=promoter_id,
        venue=clean_venue,
        city=clean_city,
        country_code=country,
        carnival_circuit=circuit,
        stamp_points_default=stamp_points_default,
    )
    session.add(event)
    session.flush()
    return event


def get(session: Session, *, event_id: uuid.UUID) -> Event:
    """The event with this id; NotFound if there is none."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"There is no event {event_id}.")
    return event


def _lock(session: Session, event_id: uuid.UUID) -> Event:
    event = session.get(Event, event_id, with_for_update=True, populate_existing=True)
    if event is None:
        raise NotFound(f"There is no event {event_id}.")
    return event


def list_for_promoter(session: Session, *, promoter_id: uuid.UUID) -> list[Event]:
    """The promoter's events, earliest start first; NotFound for an unknown promoter."""
    promoters.get(session, promoter_id=promoter_id)
    return list(
        session.scalars(
            select(Event)
            .where(Event.promoter_id == promoter_id)
            .order_by(Event.starts_at, Event.id)
        )
    )


def enable_passport(
    session: Session, *, event_id: uuid.UUID, fee_amount_cents: int | None = None
) -> EventPassportBilling:
    """Turn Soca Passport on and return the event's one billing row (DRAFT when new).

    A fee given for an event that already has its row is applied with
    `billing.set_fee`, so it is refused once the bill is PAID or WAIVED.
    """
    fee = billing.check_fee(fee_amount_cents)
    event = _lock(session, event_id)
    if event.country_code is None:
        raise FieldErrors(
            {
                "country_code": "Set the event's country before enabling Soca Passport; "
                "every stamp records it."
            }
        )
    row = billing.get_for_event(session, event_id=event.id)
    if row is None:
        row = EventPassportBilling(
            event_id=event.id,
            promoter_id=event.promoter_id,
            fee_amount_cents=fee,
            status=BillingStatus.DRAFT,
        )
        session.add(row)
    elif fee is not None and fee != row.fee_amount_cents:
        billing.set_fee(session, billing_id=row.id, fee_amount_cents=fee)
    event.is_soca_passport_enabled = True
    session.flush()
    return row


def disable_passport(session: Session, *, event_id: uuid.UUID) -> Event:
    """Turn Soca Passport off; the billing row is kept untouched (see the module notes)."""
    event = _lock(session, event_id)
    if event.is_soca_passport_enabled:
        event.is_soca_passport_enabled = False
        session.flush()
    return event
