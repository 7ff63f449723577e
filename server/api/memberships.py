"""HQ's passport memberships (seed 001 §3.3): list, create (ends the previous), cancel."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import AwareDatetime, ConfigDict, Field

from core import limits
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import RequestModel, View
from server.db.models import PassportMembership
from server.db.models.enums import MembershipStatus, MembershipTier
from server.domain import memberships

router = APIRouter(prefix="/api/v1/memberships", tags=["memberships"], route_class=PolicyRoute)
HqOnly = Annotated[Principal, allow(Role.HQ)]

_USER_ID = "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60"
_EXAMPLE: dict[str, Any] = {
    "user_id": _USER_ID,
    "tier": "GOLD",
    "expires_at": "2027-01-01T00:00:00Z",
}


class MembershipCreate(RequestModel):
    """A new ACTIVE membership for a user (the previous ACTIVE one ends)."""

    user_id: uuid.UUID
    tier: MembershipTier
    expires_at: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    metadata: Annotated[dict[str, Any], limits.MEMBERSHIP_METADATA] | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class MembershipView(View):
    """A membership."""

    id: uuid.UUID
    user_id: uuid.UUID
    tier: str
    status: str
    started_at: datetime
    expires_at: datetime | None
    metadata: dict[str, Any] = Field(validation_alias="metadata_json")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "id": "0d1e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a",
                    "status": "ACTIVE",
                    "started_at": "2026-01-01T00:00:00Z",
                    "metadata": {},
                }
            ]
        }
    )

    @classmethod
    def of(cls, row: PassportMembership) -> MembershipView:
        """The view of a membership row."""
        return cls.model_validate(row)


@router.get("")
def list_memberships(
    session: DbSession,
    _caller: HqOnly,
    status: MembershipStatus | None = None,
    user_id: uuid.UUID | None = None,
) -> list[MembershipView]:
    """HQ: memberships, oldest first, optionally one status and/or one user."""
    rows = memberships.list_(session, status=status, user_id=user_id)
    return [MembershipView.of(row) for row in rows]


@router.post("", status_code=201)
def create_membership(
    session: DbSession,
    _caller: HqOnly,
    body: Annotated[MembershipCreate, Body(openapi_examples={"gold": {"value": _EXAMPLE}})],
) -> MembershipView:
    """HQ: start an ACTIVE membership now, ending the user's previous one."""
    row = memberships.create(
        session,
        user_id=body.user_id,
        tier=body.tier,
        expires_at=body.expires_at,
        metadata=body.metadata,
    )
    return MembershipView.of(row)


@router.post("/{membership_id}/cancel")
def cancel_membership(
    membership_id: uuid.UUID, session: DbSession, _caller: HqOnly
) -> MembershipView:
    """HQ: ACTIVE → CANCELLED (again: no change; an EXPIRED one: 409)."""
    return MembershipView.of(memberships.cancel(session, membership_id=membership_id))
