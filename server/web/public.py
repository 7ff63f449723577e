"""Public pages: /socaport-app (with its three CTA paths), /passport-promoters, event pages."""

from __future__ import annotations

import uuid
from typing import Final

from fastapi import Request, Response

from server.api.deps import DbSession, client_address
from server.api.login import rate_limiter
from server.db.models import utcnow
from server.domain import attendee, events, landing, passport, promoters, tiers
from server.domain.promoters import FieldErrors
from server.errors import Conflict, NotFound
from server.web.auth import CheckedForm, SignedInUser, Visitor, field
from server.web.passport import when
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()

#: The seed's promoter form: (field, label, input type).
PROMOTER_FIELDS: Final = (
    ("name", "Name", "text"),
    ("email", "Email", "email"),
    ("organization", "Organization / brand", "text"),
    ("location_city", "City", "text"),
    ("location_country", "Country (2-letter code, e.g. TT, US)", "text"),
    ("website_or_social", "Website or IG handle", "text"),
    ("event_types", "Type of events (fêtes, brunches, carnivals…)", "text"),
)


@router.get("/socaport-app")
def socaport_app(request: Request, session: DbSession, visitor: Visitor) -> Response:
    """The landing page; the CTA depends on who is looking (seed 001 §1.2)."""
    if visitor.user is None:
        cta = "signed_out"
    elif passport.get_profile(session, user_id=visitor.user.id) is None:
        cta = "create"
    else:
        cta = "open"
    info = landing.landing_info(session)
    context = {"cta": cta, "info": info, "tier_count": len(tiers.list_tiers(session))}
    return render(request, "socaport_app.html", context)


@router.post("/socaport-app/start")
def start_passport(session: DbSession, user: SignedInUser, _form: CheckedForm) -> Response:
    """Create the signed-in user's passport if they have none, then show it."""
    assert user.user is not None
    passport.get_or_create_profile(session, user_id=user.user.id)
    return redirect("/passport")


def _promoter_page(
    request: Request,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "fields": PROMOTER_FIELDS,
        "values": values or {},
        "errors": errors or {},
        "form_error": form_error,
    }
    return render(request, "passport_promoters.html", context, status=status)


@router.get("/passport-promoters")
def passport_promoters(request: Request, _visitor: Visitor) -> Response:
    """The promoters' page and sign-up form."""
    return _promoter_page(request)


@router.post("/passport-promoters")
def promoter_sign_up(
    request: Request, session: DbSession, visitor: Visitor, form: CheckedForm
) -> Response:
    """Store a PENDING promoter (linked to the signed-in user, if any) and thank them."""
    limiter = rate_limiter(request)
    limiter.reserve(session, [(limiter.rules.promoter_application, client_address(request))])
    values = {name: field(form, name) for name, _label, _kind in PROMOTER_FIELDS}
    try:
        with session.begin_nested():
            promoters.register(
                session,
                name=values["name"],
                email=values["email"],
                organization=values["organization"] or None,
                location_city=values["location_city"] or None,
                location_country=values["location_country"] or None,
                website_or_social=values["website_or_social"] or None,
                event_types=values["event_types"] or None,
                user_id=visitor.user_id,
            )
    except FieldErrors as exc:
        return _promoter_page(request, values, exc.fields, status=422)
    except Conflict as exc:
        return _promoter_page(request, values, form_error=exc.message, status=409)
    return render(request, "promoter_thanks.html")


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
