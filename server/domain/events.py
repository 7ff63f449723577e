"""Events and switching Soca Passport on for them (seed 000 event columns, seed 001 §3.2).

An event belongs to an APPROVED promoter, or to nobody (a house event run by
HQ). `enable_passport` turns stamping on and makes sure the event has exactly
one `event_passport_billing` row (DRAFT when first created); enabling again
returns that same row. It needs the event's `country_code`, because every
passport stamp copies it into a NOT NULL column.

`disable_passport` only turns stamping off, and only while the event has
given no stamp: the billing row stays, with its fee, status and notes, so a
PAID or WAIVED bill is never lost and enabling again picks the same row back
up.

Times are stored in UTC; `time_zone` names the venue's IANA zone, so a
promoter types and reads them on the venue's clock (`local_to_utc`,
`venue_time`). An event without a zone shows UTC.
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Event, EventPassportBilling, PassportStamp
from server.db.models.enums import BillingStatus, PromoterStatus
from server.domain import billing, checks, promoters
from server.domain.promoters import FieldErrors, clean_country_code
from server.errors import Conflict, Forbidden, NotFound


def check_time_zone(raw: str | None) -> str | None:
    """An IANA time zone name (None when blank); ValueError naming the problem otherwise."""
    if raw is None or not raw.strip():
        return None
    name = raw.strip()
    if len(name) > limits.TIME_ZONE.max_length or name not in _zone_names():
        raise ValueError("Pick the venue's time zone from the list (like America/Port_of_Spain).")
    return name


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_names() -> list[str]:
    """Every time zone a venue may have, sorted."""
    return sorted(_zone_names())


def local_to_utc(local: datetime, time_zone: str) -> datetime:
    """A wall-clock time at the venue (naive) as an aware UTC datetime."""
    return local.replace(tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def venue_time(event: Event, moment: datetime | None = None) -> datetime:
    """A moment (the event's start by default) on the venue's clock (UTC without a zone)."""
    when = event.starts_at if moment is None else moment
    return when.astimezone(ZoneInfo(event.time_zone)) if event.time_zone else when


@dataclass
class _Fields:
    """An event's editable fields, checked together (`errors` maps field -> message)."""

    name: str
    starts_at: datetime
    ends_at: datetime | None
    venue: str | None
    city: str | None
    country_code: str | None
    carnival_circuit: str | None
    stamp_points_default: int
    time_zone: str | None
    errors: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """Trim and check every field; FieldErrors names each problem at once."""
        errors = self.errors
        name = checks.text(
            errors, "name", self.name, limits.EVENT_NAME, required="Please give the event a name."
        )
        self.name = name or ""
        if self.starts_at.tzinfo is None:
            errors["starts_at"] = "The start time needs a time zone."
        else:
            checks.moment(errors, "starts_at", self.starts_at, limits.DATE_TIME)
        if self.ends_at is not None:
            if self.ends_at.tzinfo is None:
                errors["ends_at"] = "The end time needs a time zone."
            else:
                checks.moment(errors, "ends_at", self.ends_at, limits.DATE_TIME)
            if not errors.keys() & {"starts_at", "ends_at"} and self.ends_at < self.starts_at:
                errors["ends_at"] = "The event cannot end before it starts."
        checks.whole(errors, "stamp_points_default", self.stamp_points_default, limits.STAMP_POINTS)
        try:
            self.country_code = clean_country_code(self.country_code)
        except ValueError as exc:
            errors["country_code"] = str(exc)
        try:
            self.time_zone = check_time_zone(self.time_zone)
        except ValueError as exc:
            errors["time_zone"] = str(exc)
        self.venue = checks.text(errors, "venue", self.venue, limits.VENUE)
        self.city = checks.text(errors, "city", self.city, limits.CITY)
        self.carnival_circuit = checks.text(
            errors, "carnival_circuit", self.carnival_circuit, limits.CARNIVAL_CIRCUIT
        )
        if errors:
            raise FieldErrors(errors)

    def apply_to(self, event: Event) -> None:
        """Write the checked fields onto the row."""
        for name in _EDITABLE:
            setattr(event, name, getattr(self, name))


_EDITABLE = (
    "name",
    "starts_at",
    "ends_at",
    "venue",
    "city",
    "country_code",
    "carnival_circuit",
    "stamp_points_default",
    "time_zone",
)


def field_problems(
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    venue: str | None = None,
    city: str | None = None,
    country_code: str | None = None,
    carnival_circuit: str | None = None,
    stamp_points_default: int = 50,
    time_zone: str | None = None,
) -> dict[str, str]:
    """What `create_event` would refuse in these fields, per field (empty when all is well)."""
    fields = _Fields(
        name,
        starts_at,
        ends_at,
        venue,
        city,
        country_code,
        carnival_circuit,
        stamp_points_default,
        time_zone,
    )
    try:
        fields.check()
    except FieldErrors as exc:
        return exc.fields
    return {}


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
    time_zone: str | None = None,
) -> Event:
    """Create an event; its promoter, if any, must be APPROVED (Forbidden otherwise)."""
    fields = _Fields(
        name,
        starts_at,
        ends_at,
        venue,
        city,
        country_code,
        carnival_circuit,
        stamp_points_default,
        time_zone,
    )
    fields.check()
    if promoter_id is not None:
        promoter = promoters.get(session, promoter_id=promoter_id)
        if promoter.status != PromoterStatus.APPROVED:
            raise Forbidden(
                f"Promoter {promoter.name!r} is {promoter.status}; only an approved "
                "promoter can add events."
            )
    event = Event(promoter_id=promoter_id)
    fields.apply_to(event)
    session.add(event)
    session.flush()
    return event


def update_event(
    session: Session,
    *,
    event_id: uuid.UUID,
    name: str,
    starts_at: datetime,
    venue: str | None = None,
    city: str | None = None,
    country_code: str | None = None,
    carnival_circuit: str | None = None,
    stamp_points_default: int = 50,
    ends_at: datetime | None = None,
    time_zone: str | None = None,
) -> Event:
    """Replace an event's editable fields, checked as on creation.

    Stamps already given keep the points and country they were given with. A
    passport-enabled event keeps needing its country (every stamp records it).
    """
    fields = _Fields(
        name,
        starts_at,
        ends_at,
        venue,
        city,
        country_code,
        carnival_circuit,
        stamp_points_default,
        time_zone,
    )
    event = _lock(session, event_id)
    fields.check()
    if event.is_soca_passport_enabled and fields.country_code is None:
        raise FieldErrors(
            {"country_code": "Soca Passport is on for this event, so it needs its country."}
        )
    fields.apply_to(event)
    session.flush()
    return event


def stamp_count(session: Session, *, event_id: uuid.UUID) -> int:
    """How many passport stamps the event has given."""
    count = session.scalar(select(func.count()).where(PassportStamp.event_id == event_id))
    return int(count or 0)


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
    """Turn Soca Passport off while no stamp exists; the billing row is kept untouched.

    Once a fan has a stamp from the event the passport stays on (Conflict
    `passport_in_use`): their passport already shows it.
    """
    event = _lock(session, event_id)
    given = stamp_count(session, event_id=event.id)
    if given and event.is_soca_passport_enabled:
        fans = "1 fan has" if given == 1 else f"{given} fans have"
        raise Conflict(
            f"Soca Passport stays on: {fans} this event's stamp in their passport.",
            code="passport_in_use",
        )
    if event.is_soca_passport_enabled:
        event.is_soca_passport_enabled = False
        session.flush()
    return event
