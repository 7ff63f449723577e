"""Promoters (seed 001 §2): public sign-up, and HQ's list, approval and rejection.

A sign-up made with a user's token is linked to that user (HQ's and
devices' tokens link nothing); the body can never name a user.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import ConfigDict, Field

from core import limits
from server.api.auth import PolicyRoute, Principal, Role, allow, public
from server.api.deps import DbSession
from server.api.schemas import ErrorBody, RequestModel, View
from server.db.models.enums import PromoterStatus, UserRole
from server.domain import promoters

router = APIRouter(prefix="/api/v1/promoters", tags=["promoters"], route_class=PolicyRoute)
HqOnly = Annotated[Principal, allow(Role.HQ)]

_SIGN_UP: dict[str, Any] = {
    "name": "Kerry Baptiste",
    "email": "bookings@islandvibes.example",
    "organization": "Island Vibes Fêtes",
    "location_city": "Port of Spain",
    "location_country": "TT",
    "website_or_social": "@islandvibesfetes",
    "event_types": ["fêtes", "brunches"],
}


class PromoterSignUp(RequestModel):
    """The /passport-promoters registration form."""

    name: Annotated[str, limits.PROMOTER_NAME] = ""
    email: Annotated[str, limits.EMAIL] = ""
    organization: Annotated[str, limits.ORGANIZATION] | None = None
    location_city: Annotated[str, limits.CITY] | None = None
    location_country: Annotated[str, limits.COUNTRY_CODE] | None = None
    website_or_social: Annotated[str, limits.WEBSITE_OR_SOCIAL] | None = None
    event_types: (
        Annotated[str, limits.EVENT_TYPES]
        | Annotated[list[Annotated[str, limits.EVENT_TYPES]], Field(max_length=20)]
        | None
    ) = None

    model_config = ConfigDict(json_schema_extra={"examples": [_SIGN_UP]})


class PromoterView(View):
    """A promoter record and its approval status."""

    id: uuid.UUID
    user_id: uuid.UUID | None
    name: str
    email: str
    organization: str | None
    location_city: str | None
    location_country: str | None
    website_or_social: str | None
    event_types: str | None
    status: str
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SIGN_UP,
                    "event_types": "fêtes, brunches",
                    "id": "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c",
                    "user_id": None,
                    "status": "PENDING",
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                }
            ]
        }
    )


def _linked_user(caller: Principal) -> uuid.UUID | None:
    user = caller.user
    return user.id if user is not None and user.role != UserRole.HQ else None


@router.post(
    "",
    status_code=201,
    responses={422: {"model": ErrorBody, "description": "`fields` maps each field to a problem"}},
)
def sign_up(
    session: DbSession,
    caller: Annotated[Principal, public()],
    body: Annotated[PromoterSignUp, Body(openapi_examples={"promoter": {"value": _SIGN_UP}})],
) -> PromoterView:
    """Register as a promoter (PENDING until HQ approves)."""
    promoter = promoters.register(session, **body.model_dump(), user_id=_linked_user(caller))
    return PromoterView.model_validate(promoter)


@router.get("")
def list_promoters(
    session: DbSession, _caller: HqOnly, status: PromoterStatus | None = None
) -> list[PromoterView]:
    """HQ: every promoter, oldest sign-up first, optionally one status."""
    return [PromoterView.model_validate(row) for row in promoters.list_(session, status=status)]


@router.post("/{promoter_id}/approve")
def approve(promoter_id: uuid.UUID, session: DbSession, _caller: HqOnly) -> PromoterView:
    """HQ: PENDING → APPROVED (again: no change; a REJECTED promoter: 409)."""
    return PromoterView.model_validate(promoters.approve(session, promoter_id=promoter_id))


@router.post("/{promoter_id}/reject")
def reject(promoter_id: uuid.UUID, session: DbSession, _caller: HqOnly) -> PromoterView:
    """HQ: PENDING → REJECTED (again: no change; an APPROVED promoter: 409)."""
    return PromoterView.model_validate(promoters.reject(session, promoter_id=promoter_id))
