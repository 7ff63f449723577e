"""Promoters (seed 001 §2): public sign-up, and HQ's list, approval, rejection and suspension.

A sign-up made with a user's token is linked to that user (HQ's and
devices' tokens link nothing); the body can never name a user. Sign-ups are
rate-limited per client address. HQ may suspend an approved promoter (its
user signed out, its devices revoked) and reinstate it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import ConfigDict, Field

from core import limits
from server.api.auth import PolicyRoute, Principal, Role, allow, public
from server.api.deps import DbSession, client_address
from server.api.login import rate_limiter
from server.api.schemas import ErrorBody, RequestModel, View
from server.db.models import utcnow
from server.db.models.enums import PromoterStatus, UserRole
from server.domain import access, promoters

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
    suspended_at: datetime | None = None
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
                    "suspended_at": None,
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
    responses={
        422: {"model": ErrorBody, "description": "`fields` maps each field to a problem"},
        429: {"model": ErrorBody, "description": "Too many applications from this address"},
    },
)
def sign_up(
    request: Request,
    session: DbSession,
    caller: Annotated[Principal, public()],
    body: Annotated[PromoterSignUp, Body(openapi_examples={"promoter": {"value": _SIGN_UP}})],
) -> PromoterView:
    """Register as a promoter (PENDING until HQ approves)."""
    limiter = rate_limiter(request)
    limiter.reserve(session, [(limiter.rules.promoter_application, client_address(request))])
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


class SuspensionView(PromoterView):
    """The suspended promoter, and how many credentials and devices the suspension ended."""

    api_tokens_revoked: int
    web_sessions_revoked: int
    devices_revoked: int

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SIGN_UP,
                    "event_types": "fêtes, brunches",
                    "id": "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c",
                    "user_id": "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60",
                    "status": "APPROVED",
                    "suspended_at": "2026-02-15T09:00:00Z",
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-02-15T09:00:00Z",
                    "api_tokens_revoked": 2,
                    "web_sessions_revoked": 1,
                    "devices_revoked": 3,
                }
            ]
        }
    )

    @classmethod
    def of(cls, done: access.Suspension) -> SuspensionView:
        """The view of a suspension."""
        view = PromoterView.model_validate(done.promoter).model_dump()
        return cls(
            **view,
            api_tokens_revoked=done.signed_out.api_tokens,
            web_sessions_revoked=done.signed_out.web_sessions,
            devices_revoked=done.devices_revoked,
        )


@router.post("/{promoter_id}/suspend")
def suspend(promoter_id: uuid.UUID, session: DbSession, _caller: HqOnly) -> SuspensionView:
    """HQ: suspend an APPROVED promoter: its user is signed out everywhere, its devices revoked,
    and its portal, API and pairing codes refuse it until reinstated (others: 409)."""
    return SuspensionView.of(access.suspend(session, promoter_id=promoter_id, now=utcnow()))


@router.post("/{promoter_id}/reinstate")
def reinstate(promoter_id: uuid.UUID, session: DbSession, _caller: HqOnly) -> PromoterView:
    """HQ: lift a suspension (its user may log in again; devices are paired again)."""
    return PromoterView.model_validate(access.reinstate(session, promoter_id=promoter_id))
