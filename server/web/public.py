"""Public pages: /socaport-app (with its three CTA paths) and event pages."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from server.api.deps import DbSession
from server.db.models import utcnow
from server.domain import attendee, events, passport, tiers
from server.errors import NotFound
from server.web.auth import CheckedForm, SignedInUser, Visitor
from server.web.passport import when
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()


@router.get("/socaport-app")
def socaport_app(request: Request, session: DbSession, visitor: Visitor) -> Response:
    """The landing page; the CTA depends on who is looking (seed 001 §1.2)."""
    if visitor.user is None:
        cta = "signed_out"
    elif passport.get_profile(session, user_id=visitor.user.id) is None:
        cta = "create"
    else:
        cta = "open"
    info = request.app.state.landing.get(session)
    context = {"cta": cta, "info": info, "tier_count": len(tiers.list_tiers(session))}
    return render(request, "socaport_app.html", context)


@router.post("/socaport-app/start")
def start_passport(session: DbSession, user: SignedInUser, _form: CheckedForm) -> Response:
    """Create the signed-in user's passport if they have none, then show it."""
    assert user.user is not None
    passport.get_or_create_profile(session, user_id=user.user.id)
    return redirect("/passport")


@router.get("/events/{event_id}")
def event_page(request: Request, event_id: str, session: DbSession, _visitor: Visitor) -> Response:
    """An event, with the passport badge and points when it is enabled."""
    try:
        parsed = uuid.UUID(event_id)
    except ValueError:
        raise NotFound("We couldn't find that event.") from None
    event = events.get(session, event_id=parsed)
    return render(request, "event.html", {"event": event})


@router.get("/events")
def events_page(request: Request, session: DbSession, _visitor: Visitor) -> Response:
    """Upcoming passport-enabled events, soonest first, each linking to its page."""
    found = attendee.upcoming_passport_events(session, now=utcnow())
    listed = [(event, event.starts_at.astimezone(attendee.venue_zone(event))) for event in found]
    return render(request, "events.html", {"events": listed, "when": when})
