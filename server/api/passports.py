"""Passports: the public landing figures (seed 001) and one passport's summary (contract)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request

from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow, public
from server.api.deps import DbSession
from server.api.schemas import example_response
from server.domain import landing, passport

router = APIRouter(route_class=PolicyRoute)

_SUMMARY_EXAMPLE = {
    "user_id": "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60",
    "handle": "kes_fan",
    "total_points": 350,
    "current_tier": "SILVER",
    "total_events": 3,
    "total_countries": 2,
    "stamps": [
        {
            "id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "event_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "event_name": "Soca Brainwash Tonight",
            "country_code": "TT",
            "carnival_circuit": "Trinidad Carnival",
            "points_earned": 100,
            "source": "TICKET_SCAN",
            "created_at": "2026-02-14T21:03:00+00:00",
        }
    ],
}


@router.get(
    "/api/passport/landing-info",
    tags=["public"],
    dependencies=[public()],
    responses={200: example_response({"totalPassportUsers": 1520, "totalStampsIssued": 4870})},
)
def landing_info(request: Request, session: DbSession) -> dict[str, int]:
    """Seed 001 §4.1: figures for the /socaport-app landing page (kept a few seconds)."""
    figures: landing.LandingFigures = request.app.state.landing
    return figures.get(session)


@router.get(
    "/api/v1/passports/{user_id}",
    tags=["passports"],
    responses={200: example_response(_SUMMARY_EXAMPLE)},
)
def get_passport(
    user_id: uuid.UUID,
    session: DbSession,
    caller: Annotated[Principal, allow(Role.HQ, Role.PROMOTER, Role.ATTENDEE)],
) -> dict[str, Any]:
    """A passport with its stamps: HQ any; an attendee their own; a promoter a fan who attended
    one of its events, with only its own events' stamps (and event and country counts), the
    points and tier being the passport's public figures."""
    owner = tenancy.passport_owner(session, caller, user_id)
    scope = caller.promoter_id if caller.role == Role.PROMOTER else None
    return passport.passport_summary(session, user_id=owner, promoter_id=scope)
