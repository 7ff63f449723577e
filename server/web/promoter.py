"""The promoter portal: approved promoters only, and only their own events (404 otherwise).

`/promoter` itself is open to any signed-in user: an approved promoter sees
the portal; an applicant sees where the application stands (pending, not
approved) and anyone else how to apply, never a bare 403.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from sqlalchemy.orm import Session

from server.api.auth import Principal, Role
from server.api.deps import DbSession
from server.db.models import Event
from server.db.models.enums import PromoterStatus
from server.domain import attendance, billing, device_lines, events, promoters, tickets
from server.errors import NotFound, SocaError
from server.web.auth import CheckedForm, Promoter, SignedInUser
from server.web.forms import confirm, done
from server.web.render import render
from server.web.routing import page_router

router = page_router()

CHART_HEIGHT = 120
BAR_WIDTH = 18
#: The chart is at least this many windows wide (four hours of 15-minute windows).
MIN_CHART_SLOTS = 16


def own_event(session: Session, principal: Principal, raw_id: str) -> Event:
    """The caller's event; NotFound (as for a missing id) for anyone else's."""
    try:
        event_id = uuid.UUID(raw_id)
    except ValueError:
        raise NotFound("We couldn't find that event.") from None
    event = session.get(Event, event_id)
    if event is None or principal.promoter_id is None or event.promoter_id != principal.promoter_id:
        raise NotFound("We couldn't find that event.")
    return event


def arrivals_chart(figures: attendance.EventAttendance, zone: str | None) -> dict[str, Any]:
    """Bars for an inline SVG chart of arrivals per window (no JavaScript), labelled on the
    venue's clock, the one the promoter and the door staff read."""
    venue = ZoneInfo(zone) if zone else UTC
    peak = max((a.count for a in figures.arrivals), default=0)
    bars = []
    for index, window in enumerate(figures.arrivals):
        height = round(CHART_HEIGHT * window.count / peak) if peak else 0
        bars.append(
            {
                "x": index * (BAR_WIDTH + 4),
                "y": CHART_HEIGHT - height,
                "height": height,
                "count": window.count,
                "label": window.starts_at.astimezone(venue).strftime("%H:%M"),
            }
        )
    slots = max(MIN_CHART_SLOTS, len(bars))  # a lone bar stays bar-sized
    return {"bars": bars, "width": slots * (BAR_WIDTH + 4), "height": CHART_HEIGHT}


def _applicant_page(request: Request, session: Session, user: Principal) -> Response:
    assert user.user is not None
    application = promoters.get_for_user(session, user_id=user.user.id)
    status = application.status if application is not None else None
    context = {"application": application, "status": status, "is_hq": user.role == Role.HQ}
    return render(request, "promoter/applicant.html", context, status=200)


@router.get("/promoter")
def portal(request: Request, session: DbSession, user: SignedInUser) -> Response:
    """The promoter's events and fans; for anyone else, where their application stands."""
    if user.role != Role.PROMOTER or user.promoter_id is None:
        return _applicant_page(request, session, user)
    rows = events.list_for_promoter(session, promoter_id=user.promoter_id)
    context = {
        "events": rows,
        "repeat": attendance.repeat_attendees(session, promoter_id=user.promoter_id),
        "countries": attendance.countries(session, promoter_id=user.promoter_id),
        "circuits": attendance.circuits(session, promoter_id=user.promoter_id),
        "approved": PromoterStatus.APPROVED,
    }
    return render(request, "promoter/portal.html", context)


def event_page(
    request: Request, session: Session, event: Event, *, error: str = "", status: int = 200
) -> Response:
    """The event's page, optionally with an error from a refused form."""
    figures = attendance.event_attendance(session, event_id=event.id)
    context = {
        "event": event,
        "figures": figures,
        "chart": arrivals_chart(figures, event.time_zone),
        "bill": billing.get_for_event(session, event_id=event.id),
        "stamps": events.stamp_count(session, event_id=event.id),
        "ticket_count": tickets.count_for_event(session, event_id=event.id),
        "devices": device_lines.list_lines(session, event_id=event.id),
        "error": error,
    }
    return render(request, "promoter/event.html", context, status=status)


@router.get("/promoter/events/{event_id}")
def event_detail(
    request: Request, event_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """One event: details, passport switch, billing, tickets, attendance and door devices."""
    return event_page(request, session, own_event(session, promoter, event_id))


@router.get("/promoter/events/{event_id}/enable")
def enable_confirm(
    request: Request, event_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """What enabling costs, before it happens."""
    event = own_event(session, promoter, event_id)
    bill = billing.get_for_event(session, event_id=event.id)
    if bill is not None and bill.fee_amount_cents is not None:
        fee = f"The Soca Passport fee for this event is {bill.fee_amount_cents / 100:,.2f} "
        fee += f"{bill.currency}, billed per event."
    else:
        fee = (
            "Soca Passport is billed per event. HQ has not set this event's fee yet: you'll see "
            "it on the event page, and nothing is charged before HQ asks for payment."
        )
    lines = [
        fee,
        f"Every fan whose ticket is scanned at the door gets a stamp worth "
        f"{event.stamp_points_default} points in their passport.",
        "You can switch it off again until the first stamp is given.",
    ]
    return confirm(
        request,
        title=f"Enable Soca Passport for {event.name}?",
        lines=lines,
        action=f"/promoter/events/{event.id}/enable",
        button="Enable Soca Passport",
        back=f"/promoter/events/{event.id}",
    )


@router.post("/promoter/events/{event_id}/enable")
def enable(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """Enable Soca Passport on the event (its DRAFT bill is created the first time)."""
    event = own_event(session, promoter, event_id)
    try:
        with session.begin_nested():
            events.enable_passport(session, event_id=event.id)
    except SocaError as exc:
        message = " ".join(getattr(exc, "fields", {}).values()) or exc.message
        return event_page(request, session, event, error=message, status=422)
    return done(f"/promoter/events/{event.id}", "Soca Passport is on for this event.")


@router.post("/promoter/events/{event_id}/disable")
def disable(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """Switch Soca Passport off again, while no stamp has been given."""
    event = own_event(session, promoter, event_id)
    try:
        with session.begin_nested():
            events.disable_passport(session, event_id=event.id)
    except SocaError as exc:
        return event_page(request, session, event, error=exc.message, status=409)
    return done(f"/promoter/events/{event.id}", "Soca Passport is off for this event.")


@router.get("/promoter/events/{event_id}/attendance.csv")
def export_csv(event_id: str, session: DbSession, promoter: Promoter) -> Response:
    """Every scan of the event as CSV."""
    event = own_event(session, promoter, event_id)
    rows = attendance.scan_rows(session, event_id=event.id)
    out = io.StringIO()
    columns = ["scanned_at", "ticket_code", "holder_name", "gate", "method", "outcome", "reason"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="attendance-{event.id}.csv"'},
    )
