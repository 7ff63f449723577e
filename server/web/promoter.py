"""The promoter portal: approved promoters only, and only their own events (404 otherwise)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from core.wire import DeviceRole, DeviceScope
from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import Event, utcnow
from server.domain import attendance, billing, devices, events
from server.domain.promoters import FieldErrors
from server.errors import NotFound
from server.web.auth import CheckedForm, Promoter
from server.web.render import redirect, render
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


def arrivals_chart(figures: attendance.EventAttendance) -> dict[str, Any]:
    """Bars for an inline SVG chart of arrivals per window (no JavaScript)."""
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
                "label": window.starts_at.strftime("%H:%M"),
            }
        )
    slots = max(MIN_CHART_SLOTS, len(bars))  # a lone bar stays bar-sized
    return {"bars": bars, "width": slots * (BAR_WIDTH + 4), "height": CHART_HEIGHT}


@router.get("/promoter")
def portal(request: Request, session: DbSession, promoter: Promoter) -> Response:
    """The promoter's events and their fans across them."""
    assert promoter.promoter_id is not None
    rows = events.list_for_promoter(session, promoter_id=promoter.promoter_id)
    context = {
        "events": rows,
        "repeat": attendance.repeat_attendees(session, promoter_id=promoter.promoter_id),
        "countries": attendance.countries(session, promoter_id=promoter.promoter_id),
        "circuits": attendance.circuits(session, promoter_id=promoter.promoter_id),
    }
    return render(request, "promoter/portal.html", context)


def _event_page(
    request: Request, session: Session, event: Event, *, code: str = "", error: str = ""
) -> Response:
    figures = attendance.event_attendance(session, event_id=event.id)
    context = {
        "event": event,
        "figures": figures,
        "chart": arrivals_chart(figures),
        "bill": billing.get_for_event(session, event_id=event.id),
        "code": code,
        "error": error,
    }
    return render(request, "promoter/event.html", context, status=422 if error else 200)


@router.get("/promoter/events/{event_id}")
def event_detail(
    request: Request, event_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """One event: passport switch, billing status, attendance and arrivals chart."""
    return _event_page(request, session, own_event(session, promoter, event_id))


@router.post("/promoter/events/{event_id}/enable")
def enable(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """Enable Soca Passport on the event (its DRAFT bill is created the first time)."""
    event = own_event(session, promoter, event_id)
    try:
        with session.begin_nested():
            events.enable_passport(session, event_id=event.id)
    except FieldErrors as exc:
        return _event_page(request, session, event, error=" ".join(exc.fields.values()))
    return redirect(f"/promoter/events/{event.id}")


@router.post("/promoter/events/{event_id}/pairing-code")
def pairing_code(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """A one-time pairing code for a door device at this event (shown once)."""
    event = own_event(session, promoter, event_id)
    issued = devices.create_pairing_code(
        session,
        role=DeviceRole.DOOR,
        scope=DeviceScope(event_id=event.id),
        now=utcnow(),
        created_by_user_id=promoter.user_id,
    )
    return _event_page(request, session, event, code=issued.code)


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
