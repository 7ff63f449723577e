"""`POST /api/v1/auth/login`: promoters and branch managers trade email and password for a token.

Failed logins are rate-limited per client address (see `ratelimit`): while an
address is over its allowance every attempt is 429, right or wrong, so the
limiter cannot be used to confirm a guess.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from server.api.auth import PolicyRoute, authenticate_user, public
from server.api.deps import DbSession, client_address
from server.api.errors import Unauthorized
from server.api.ratelimit import SlidingWindowLimiter
from server.api.schemas import RequestModel
from server.db.models.enums import UserRole
from server.domain import accounts

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=PolicyRoute)

LOGIN_ROLES = (UserRole.PROMOTER, UserRole.BRANCH_MANAGER)


class LoginRequest(RequestModel):
    """Email and password of a promoter or branch-manager account."""

    email: Annotated[str, Field(min_length=3, max_length=255)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class LoginResponse(BaseModel):
    """A new bearer token for the account, its role and user id."""

    token: str
    role: str
    user_id: uuid.UUID

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "q8Vw1Kx9...43 characters",
                    "role": "PROMOTER",
                    "user_id": "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60",
                }
            ]
        }
    )


def login_limiter(request: Request) -> SlidingWindowLimiter:
    """The app's login limiter."""
    limiter: SlidingWindowLimiter = request.app.state.login_limiter
    return limiter


@router.post("/login", dependencies=[public()], responses={429: {"description": "Rate limited"}})
def login(
    request: Request,
    session: DbSession,
    body: Annotated[
        LoginRequest,
        Body(
            openapi_examples={
                "promoter": {
                    "summary": "A promoter logs in",
                    "value": {"email": "promoter@islandvibes.example", "password": "s3cret"},
                }
            }
        ),
    ],
) -> LoginResponse:
    """Check the password (argon2) and issue a bearer token; 401 for any wrong detail."""
    limiter = login_limiter(request)
    address = client_address(request)
    limiter.check(address)
    user = authenticate_user(session, email=body.email, password=body.password, roles=LOGIN_ROLES)
    if user is None:
        limiter.record_failure(address)
        raise Unauthorized("Wrong email or password.")
    token = accounts.issue_api_token(session, user_id=user.id, label="login")
    return LoginResponse(token=token, role=user.role, user_id=user.id)
