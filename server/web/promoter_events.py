"""A promoter creates and edits its events; times are typed on the venue's clock.

The form's date and time are a wall-clock time in the chosen time zone;
`server.domain.events` stores them in UTC and keeps the zone, so the edit
form shows the same wall-clock time back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from core import limits
from server.api.deps import DbSession
from server.db.models import Event
from server.domain import events, promoters
from server.errors import FieldErrors
from server.web.auth import CheckedForm, Promoter, field
from server.web.forms import BadField, as_local_input, done, local_datetime, whole
from server.web.promoter import own_event
from server.web.render import render
from server.web.routing import page_router

router = page_router()

DEFAULT_ZONE: Final = "America/Port_of_Spain"
#: Offered first: the carnival circuits' usual zones.
COMMON_ZONES: Final = (
    "America/Port_of_Spain",
    "America/Barbados",
    "America/Grenada",
    "America/St_Lucia",
    "America/St_Vincent",
    "America/Antigua",
    "America/Jamaica",
    "America/Guyana",
    "America/New_York",
    "America/Toronto",
    "Europe/London",
)
FIELDS: Final = (
    "name",
    "starts_at",
    "ends_at",
    "time_zone",
    "venue",
    "city",
    "country_code",
    "carnival_circuit",
    "stamp_points_default",
)


def _values_of(event: Event) -> dict[str, str]:
    starts = events.venue_time(event)
    ends = events.venue_time(event, event.ends_at) if event.ends_at else None
    return {
        "name": event.name,
        "starts_at": as_local_input(starts),
        "ends_at": as_local_input(ends),
        "time_zone": event.time_zone or "UTC",
        "venue": event.venue or "",
        "city": event.city or "",
        "country_code": event.country_code or "",
        "carnival_circuit": event.carnival_circuit or "",
        "stamp_points_default": str(event.stamp_points_default),
    }


def _form_page(
    request: Request,
    *,
    event: Event | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    others = [zone for zone in events.zone_names() if zone not in COMMON_ZONES]
    context = {
        "event": event,
        "values": values,
        "errors": errors or {},
        "common_zones": COMMON_ZONES,
        "other_zones": others,
        "points": limits.STAMP_POINTS,
    }
    return render(request, "promoter/event_form.html", context, status=status)


def _read(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed fields as the domain takes them, and the problems found reading them."""
    errors: dict[str, str] = {}
    zone = field(form, "time_zone") or "UTC"
    try:
        zone = events.check_time_zone(zone) or "UTC"
    except ValueError as exc:
        errors["time_zone"] = str(exc)
        zone = "UTC"
    moments: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at"):
        try:
            local = local_datetime(form, name, required=name == "starts_at")
        except BadField as exc:
            errors[name] = exc.message
            local = None
        moments[name] = events.local_to_utc(local, zone) if local is not None else None
    try:
        points = whole(form, "stamp_points_default", limits.STAMP_POINTS, required=True)
    except BadField as exc:
        errors[exc.name] = exc.message
        points = 0
    values = {
        "name": field(form, "name"),
        "starts_at": moments["starts_at"],
        "ends_at": moments["ends_at"],
        "time_zone": zone,
        "venue": field(form, "venue"),
        "city": field(form, "city"),
        "country_code": field(form, "country_code"),
        "carnival_circuit": field(form, "carnival_circuit"),
        "stamp_points_default": points,
    }
    return values, errors


def _save(session: Session, form: FormData, event: Event | None, promoter: Any) -> Event:
    values, errors = _read(form)
    if errors:  # the domain's own checks of the other fields are reported alongside
        stand_in = values["starts_at"] or datetime.now(UTC)
        found = events.field_problems(**{**values, "starts_at": stand_in})
        raise FieldErrors({**found, **errors})
    if event is None:
        return events.create_event(session, promoter_id=promoter.promoter_id, **values)
    return events.update_event(session, event_id=event.id, **values)


def _typed(form: FormData) -> dict[str, str]:
    return {name: field(form, name) for name in FIELDS}


@router.get("/promoter/events/new")
def new_event(request: Request, session: DbSession, promoter: Promoter) -> Response:
    """The form for a new event (the promoter's country and last time zone filled in)."""
    assert promoter.promoter_id is not None
    mine = events.list_for_promoter(session, promoter_id=promoter.promoter_id)
    zone = next((e.time_zone for e in reversed(mine) if e.time_zone), DEFAULT_ZONE)
    country = promoters.get(session, promoter_id=promoter.promoter_id).location_country or ""
    values = {"time_zone": zone, "country_code": country, "stamp_points_default": "50"}
    return _form_page(request, event=None, values=values)


@router.post("/promoter/events")
def create(request: Request, session: DbSession, promoter: Promoter, form: CheckedForm) -> Response:
    """Create the event; its page comes next."""
    try:
        with session.begin_nested():
            event = _save(session, form, None, promoter)
    except FieldErrors as exc:
        return _form_page(request, event=None, values=_typed(form), errors=exc.fields, status=422)
    return done(
        f"/promoter/events/{event.id}",
        f"{event.name} is created. Next: enable Soca Passport and issue tickets.",
    )


@router.get("/promoter/events/{event_id}/edit")
def edit_event(request: Request, event_id: str, session: DbSession, promoter: Promoter) -> Response:
    """The event's details, ready to change."""
    event = own_event(session, promoter, event_id)
    return _form_page(request, event=event, values=_values_of(event))


@router.post("/promoter/events/{event_id}/edit")
def save_event(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Save the changed details."""
    event = own_event(session, promoter, event_id)
    try:
        with session.begin_nested():
            _save(session, form, event, promoter)
    except FieldErrors as exc:
        return _form_page(request, event=event, values=_typed(form), errors=exc.fields, status=422)
    return done(f"/promoter/events/{event.id}", f"{event.name}: changes saved.")
