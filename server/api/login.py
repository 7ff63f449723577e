"""`POST /api/v1/auth/login` and `/logout`: any account trades email and password for a token.

Every account logs in here (attendees, promoters, branch managers, HQ); the
token acts in the user's role (see `auth.user_principal`) and works for
`SOCA_API_TOKEN_DAYS` days. Logout revokes the token it is called with.

Failed logins are rate-limited (see `ratelimit`) per address and account,
with a far higher ceiling per address alone, so a crowd behind one venue
address is not locked out by one person's typos. While a key is over its
allowance every attempt is 429, right or wrong, so the limiter cannot be
used to confirm a guess. A suspended promoter's right password is 403.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from server.api.auth import (
    USER_ROLES,
    PolicyRoute,
    Principal,
    Suspended,
    allow,
    authenticate_user,
    bearer_token,
    public,
    user_principal,
)
from server.api.deps import DbSession, client_address
from server.api.errors import Unauthorized
from server.api.ratelimit import RateLimiter
from server.api.schemas import RequestModel, example_response
from server.db.models import User
from server.domain import accounts
from server.errors import Forbidden

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=PolicyRoute)


class LoginRequest(RequestModel):
    """Email and password of any account."""

    email: Annotated[str, Field(min_length=3, max_length=255)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class LoginResponse(BaseModel):
    """A new bearer token for the account, the role it acts in, and the user id."""

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


def rate_limiter(request: Request) -> RateLimiter:
    """The app's rate limiter."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def _login_keys(request: Request, email: str) -> tuple[str, str]:
    address = client_address(request)
    return f"{address}|{accounts.normalize_email(email)}", address


def check_login(request: Request, session: Session, *, email: str, password: str) -> User | None:
    """The user, if the password is right and the limits allow the attempt (which then
    does not count); None after a failure, counted for the account and the address."""
    limiter = rate_limiter(request)
    rules = limiter.rules
    account_key, address_key = _login_keys(request, email)
    reservation = limiter.reserve(
        session, [(rules.login_account, account_key)], watch=[(rules.login_address, address_key)]
    )
    user = authenticate_user(session, email=email, password=password)
    if user is None:
        limiter.record(session, [(rules.login_address, address_key)])
        return None
    try:
        user_principal(session, user)
    except Suspended as exc:  # a refused login: it counts
        limiter.record(session, [(rules.login_address, address_key)])
        raise Forbidden(exc.message, code=Suspended.code) from None
    limiter.release(session, reservation)
    return user


@router.post(
    "/login",
    dependencies=[public()],
    responses={
        403: {"description": "The account's promoter is suspended"},
        429: {"description": "Rate limited"},
    },
)
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
                },
                "attendee": {
                    "summary": "An attendee logs in",
                    "value": {"email": "kes_fan@example.com", "password": "wine-n-grind"},
                },
            }
        ),
    ],
) -> LoginResponse:
    """Check the password (argon2) and issue a bearer token; 401 for any wrong detail."""
    user = check_login(request, session, email=body.email, password=body.password)
    if user is None:
        raise Unauthorized("Wrong email or password.")
    role = user_principal(session, user).role
    token = accounts.issue_api_token(session, user_id=user.id, label="login")
    return LoginResponse(token=token, role=role, user_id=user.id)


@router.post(
    "/logout",
    responses={200: example_response({"revoked": True}, "The token no longer works")},
)
def logout(
    request: Request, session: DbSession, _caller: Annotated[Principal, allow(*USER_ROLES)]
) -> dict[str, bool]:
    """Revoke the token this request carries (other tokens of the user keep working)."""
    token = bearer_token(request)
    assert token is not None  # the policy admitted a user, so a token was presented
    return {"revoked": accounts.revoke_api_token(session, token=token)}
