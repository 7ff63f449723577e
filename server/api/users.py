"""Users: `GET /api/v1/me` for any signed-in user, and HQ signing a user out everywhere.

`/me` is the caller's account, the role its token acts in and its passport's
summary (the stamps are at `GET /api/v1/passports/{user_id}`). HQ's
`POST /users/{user_id}/revoke-tokens` revokes every API token and web
session the user holds; their next call is 401.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from server.api.auth import USER_ROLES, PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.db.models import User, utcnow
from server.domain import accounts, passport
from server.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["users"], route_class=PolicyRoute)

_USER_ID = "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60"


class PassportFigures(BaseModel):
    """A passport's handle and totals."""

    handle: str
    total_points: int
    current_tier: str
    total_events: int
    total_countries: int


class MeView(BaseModel):
    """The caller's account and passport summary (null before they have a passport)."""

    user_id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    role: str
    home_country: str | None
    created_at: datetime
    passport: PassportFigures | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": _USER_ID,
                    "username": "kes_fan",
                    "display_name": "Kesha Baptiste",
                    "email": "kes_fan@example.com",
                    "role": "ATTENDEE",
                    "home_country": "TT",
                    "created_at": "2026-01-05T10:00:00Z",
                    "passport": {
                        "handle": "kes_fan",
                        "total_points": 350,
                        "current_tier": "SILVER",
                        "total_events": 3,
                        "total_countries": 2,
                    },
                }
            ]
        }
    )


class TokensRevoked(BaseModel):
    """How many of the user's credentials were revoked."""

    user_id: uuid.UUID
    api_tokens_revoked: int
    web_sessions_revoked: int

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"user_id": _USER_ID, "api_tokens_revoked": 2, "web_sessions_revoked": 1}]
        }
    )


@router.get("/me")
def me(session: DbSession, caller: Annotated[Principal, allow(*USER_ROLES)]) -> MeView:
    """The caller's account, role and passport figures."""
    user = caller.user
    assert user is not None  # a user role was admitted
    assert caller.role is not None
    profile = passport.get_profile(session, user_id=user.id)
    figures = None
    if profile is not None:
        figures = PassportFigures(
            handle=profile.handle,
            total_points=profile.total_points,
            current_tier=profile.current_tier,
            total_events=profile.total_events,
            total_countries=profile.total_countries,
        )
    return MeView(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        role=caller.role,
        home_country=user.home_country,
        created_at=user.created_at,
        passport=figures,
    )


@router.post("/users/{user_id}/revoke-tokens")
def revoke_tokens(
    user_id: uuid.UUID, session: DbSession, _caller: Annotated[Principal, allow(Role.HQ)]
) -> TokensRevoked:
    """HQ: sign a user out everywhere (every API token and web session revoked)."""
    if session.get(User, user_id) is None:
        raise NotFound(f"There is no user {user_id}.")
    done = accounts.revoke_user_tokens(session, user_id=user_id, now=utcnow())
    return TokensRevoked(
        user_id=user_id,
        api_tokens_revoked=done.api_tokens,
        web_sessions_revoked=done.web_sessions,
    )
