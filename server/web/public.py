"""Public pages: /socaport-app (with its three CTA paths) and event pages."""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from sqlalchemy.orm import Session

from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import utcnow
from server.domain import attendee, events, passport, tiers
from server.errors import NotFound
from server.web import sales
from server.web.auth import CheckedForm, SignedInUser
from server.web.one_call import VisitorPage
from server.web.passport import when
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()


@router.get("/socaport-app")
async def socaport_app(page: VisitorPage) -> Response:
    """The landing page; the CTA depends on who is looking (seed 001 §1.2)."""
    return await page.serve(_landing)


def _landing(request: Request, session: Session, visitor: Principal) -> Response:
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
async def event_page(event_id: str, page: VisitorPage) -> Response:
    """An event, with the passport badge and points when it is enabled."""
    try:
        parsed = uuid.UUID(event_id)
    except ValueError:
        raise NotFound("We couldn't find that event.") from None

    def event(request: Request, session: Session, _visitor: Principal) -> Response:
        return sales.event_page(request, session, events.get(session, event_id=parsed))

    return await page.serve(event)


@router.get("/events")
async def events_page(page: VisitorPage) -> Response:
    """Upcoming passport-enabled events, soonest first, each linking to its page."""
    return await page.serve(_events)


def _events(request: Request, session: Session, _visitor: Principal) -> Response:
    found = attendee.upcoming_passport_events(session, now=utcnow())
    listed = [(event, event.starts_at.astimezone(attendee.venue_zone(event))) for event in found]
    return render(request, "events.html", {"events": listed, "when": when})
