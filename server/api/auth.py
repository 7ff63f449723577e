"""Who is calling, and who may call each route: bearer tokens, principals and route policies.

Credentials come only from `Authorization: Bearer <token>`; query strings and
cookies are never read. A token is either a device's (`devices.token_hash`)
or a user's API token (`api_tokens` of kind API, never a web session's),
both stored as SHA-256. A user's token works `SOCA_API_TOKEN_DAYS` (30) days
from its issue. A presented token that does not resolve (unknown, rolled,
expired, revoked, a revoked device, a suspended promoter's) is 401 on every
route, public ones included, with a message saying which, so a revoked
kiosk learns at once.

Every user acts in one role: HQ, BRANCH_MANAGER, PROMOTER (linked to an
APPROVED promoter that is not suspended) or ATTENDEE (everyone else,
including applicants whose promoter is pending or rejected); an ATTENDEE
token reaches only its own data.

Every route declares its policy with exactly one of `allow(*roles)` or
`public()`. `PolicyRoute` finds that declaration in the route's dependencies
and records it in the OpenAPI operation as `x-soca-policy`; the test
`tests/server/api/test_route_policies.py` fails on any route without one.
Order of refusals: no credentials → 401, a role the policy does not name →
403, then the routers' tenancy checks answer 404 for objects the caller may
not see (the same body as a missing id).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from server.api.deps import DbSession
from server.api.errors import Unauthorized
from server.db.models import Device, User, utcnow
from server.db.models.enums import PromoterStatus, TokenKind, UserRole
from server.domain import accounts, businesses, devices, promoters
from server.errors import Forbidden

POLICY_KEY: Final = "x-soca-policy"
PUBLIC: Final = "public"


class Role(enum.StrEnum):
    """What a caller acts as; a route's policy names the roles it admits."""

    HQ = "HQ"
    PROMOTER = "PROMOTER"  # a user linked to an APPROVED promoter
    BUSINESS = "BUSINESS"  # the owner of an APPROVED business (seed 002's stamp cards)
    BRANCH_MANAGER = "BRANCH_MANAGER"
    DOOR_DEVICE = "DOOR_DEVICE"
    BRANCH_DEVICE = "BRANCH_DEVICE"
    PROMOTER_DEVICE = "PROMOTER_DEVICE"
    HUB_DEVICE = "HUB_DEVICE"  # a venue hub: pulls its scope and relays its doors' ops
    ATTENDEE = "ATTENDEE"  # any other user: their own account, passport and later purchases


DEVICE_ROLES: Final = (Role.DOOR_DEVICE, Role.BRANCH_DEVICE, Role.PROMOTER_DEVICE)
USER_ROLES: Final = (Role.HQ, Role.PROMOTER, Role.BUSINESS, Role.BRANCH_MANAGER, Role.ATTENDEE)
_FROM_DEVICE: Final = {
    "DOOR": Role.DOOR_DEVICE,
    "BRANCH": Role.BRANCH_DEVICE,
    "PROMOTER": Role.PROMOTER_DEVICE,
    "HUB": Role.HUB_DEVICE,
}


@dataclass(frozen=True)
class Principal:
    """The caller: a role (None when anonymous) and who they are."""

    role: Role | None = None
    user: User | None = None
    device: Device | None = None
    promoter_id: uuid.UUID | None = None
    business_id: uuid.UUID | None = None

    @property
    def authenticated(self) -> bool:
        """True when a valid token was presented."""
        return self.user is not None or self.device is not None

    @property
    def user_id(self) -> uuid.UUID | None:
        """The calling user's id, if a user is calling."""
        return self.user.id if self.user is not None else None

    @property
    def device_id(self) -> uuid.UUID | None:
        """The calling device's id, if a device is calling."""
        return self.device.id if self.device is not None else None


ANONYMOUS: Final = Principal()


# ------------------------------------------------------------------------- credentials


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>`; None without the header, 401 if malformed."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("Malformed Authorization header; send 'Authorization: Bearer <token>'.")
    return token


class _LookUp(enum.Enum):
    """`user_principal`'s default: read the user's approved business."""

    LOOK_UP = enum.auto()


_LOOK_UP: Final = _LookUp.LOOK_UP


class Suspended(Unauthorized):
    """The user's promoter is suspended by HQ: its tokens and sessions are refused."""

    code = "promoter_suspended"

    def __init__(self) -> None:
        super().__init__(
            "This promoter account is suspended by Soca Passport HQ; contact HQ to reinstate it."
        )


def user_principal(
    session: Session, user: User, *, approved_business: uuid.UUID | _LookUp | None = _LOOK_UP
) -> Principal:
    """The principal a user acts as; Suspended for a suspended promoter.

    HQ and branch managers by their account's role; a promoter account once its
    promoter is APPROVED; the owner of an APPROVED business as BUSINESS; anyone
    else (attendees, pending or rejected applicants) as ATTENDEE. A caller that
    read the user's approved business already passes it (None: none).
    """
    if user.role == UserRole.HQ:
        return Principal(role=Role.HQ, user=user)
    if user.role == UserRole.BRANCH_MANAGER:
        return Principal(role=Role.BRANCH_MANAGER, user=user)
    if user.role == UserRole.PROMOTER:
        promoter = promoters.get_for_user(session, user_id=user.id)
        if promoter is not None and promoter.status == PromoterStatus.APPROVED:
            if promoter.suspended_at is not None:
                raise Suspended()
            return Principal(role=Role.PROMOTER, user=user, promoter_id=promoter.id)
    if isinstance(approved_business, _LookUp):
        business = businesses.approved_for_owner(session, user_id=user.id)
        approved_business = business.id if business is not None else None
    if approved_business is not None:
        return Principal(role=Role.BUSINESS, user=user, business_id=approved_business)
    return Principal(role=Role.ATTENDEE, user=user)


def _token_refusal(check: accounts.TokenCheck) -> Unauthorized:
    if check.state == accounts.TokenState.EXPIRED and check.expired_at is not None:
        when = check.expired_at.strftime("%Y-%m-%d %H:%M UTC")
        return Unauthorized(f"This token expired at {when}; log in again for a new one.")
    if check.state == accounts.TokenState.REVOKED:
        return Unauthorized("This token has been revoked; log in again for a new one.")
    return Unauthorized("The bearer token is unknown, expired or revoked.")


def resolve_principal(
    session: Session,
    token: str | None,
    *,
    kind: TokenKind = TokenKind.API,
    max_age: timedelta,
    now: datetime | None = None,
) -> Principal:
    """The principal a credential of `kind` stands for; ANONYMOUS without one; 401 when dead.

    API bearer tokens may also be a device's; a web session cookie never is.
    """
    if token is None:
        return ANONYMOUS
    if kind == TokenKind.API:
        device = devices.get_by_token(session, token)
        if device is not None:
            if device.revoked_at is not None:
                raise Unauthorized("This device has been revoked; pair it again to use it.")
            return Principal(
                role=_FROM_DEVICE[device.role], device=device, promoter_id=device.promoter_id
            )
    check = accounts.check_token(session, token, kind=kind, max_age=max_age, now=now or utcnow())
    if check.user is None:
        raise _token_refusal(check)
    return user_principal(session, check.user, approved_business=check.approved_business_id)


@cache
def _dummy_hash() -> str:
    return accounts.hash_password("not-a-real-password")  # a timing decoy


def authenticate_user(session: Session, *, email: str, password: str) -> User | None:
    """The user with this email and password, else None (argon2 runs either way)."""
    user = accounts.get_by_email(session, email)
    if user is None or user.password_hash is None:
        accounts.password_matches(_dummy_hash(), password)
        return None
    return user if accounts.verify_password(user, password) else None


# ----------------------------------------------------------------------------- policies


_BEARER_DOC = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="A user's token from POST /api/v1/auth/login, or a paired device's token.",
)


class Policy:
    """Base of route policies: `names` is what the OpenAPI operation records."""

    names: tuple[str, ...] = ()

    def _principal(self, request: Request, session: Session) -> Principal:
        days = request.app.state.settings.api_token_days
        return resolve_principal(session, bearer_token(request), max_age=timedelta(days=days))


class RolePolicy(Policy):
    """Admit only callers acting as one of `roles`."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self.roles = frozenset(roles)
        if not self.roles:
            raise ValueError("a role policy needs at least one role; use public() for anyone")
        self.names = tuple(sorted(role.value for role in self.roles))

    def __call__(
        self,
        request: Request,
        session: DbSession,
        _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER_DOC)],
    ) -> Principal:
        """Resolve the caller; 401 without valid credentials, 403 for another role."""
        principal = self._principal(request, session)
        if not principal.authenticated:
            raise Unauthorized()
        if principal.role not in self.roles:
            raise Forbidden("Your account or device may not do this.")
        return principal


class PublicPolicy(Policy):
    """Admit anyone; a presented token must still be valid."""

    names = (PUBLIC,)

    def __call__(self, request: Request, session: DbSession) -> Principal:
        """Resolve the caller (ANONYMOUS when no token is presented)."""
        return self._principal(request, session)


def allow(*roles: Role) -> Any:
    """Declare a route open to these roles; the parameter receives the Principal."""
    return Depends(RolePolicy(roles))


def public() -> Any:
    """Declare a route open to anyone (the parameter receives the Principal, maybe ANONYMOUS)."""
    return Depends(PublicPolicy())


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def route_policies(route: APIRoute) -> list[Policy]:
    """Every policy declared among a route's dependencies (a sound route has exactly one)."""
    found: list[Policy] = []
    for sub in _walk(route.dependant):
        if isinstance(sub.call, Policy):
            found.append(sub.call)
    return found


class PolicyRoute(APIRoute):
    """An APIRoute that records its declared policy in the OpenAPI operation (`x-soca-policy`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        found = route_policies(self)
        if len(found) == 1:
            self.openapi_extra = {**(self.openapi_extra or {}), POLICY_KEY: list(found[0].names)}
            if isinstance(found[0], RolePolicy):
                self.responses = {
                    401: {"description": "No valid bearer token (missing, unknown or revoked)."},
                    403: {"description": "The caller's role may not use this route."},
                    **self.responses,
                }


@dataclass(frozen=True)
class ServedRoute:
    """An APIRoute as the app serves it: its full path (include prefixes applied) and methods."""

    path: str
    methods: frozenset[str]
    route: APIRoute


def api_routes(app: FastAPI) -> list[ServedRoute]:
    """Every APIRoute the app serves, included routers flattened."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            path = context.path or route.path
            methods = frozenset(context.methods or route.methods or ())
            found.append(ServedRoute(path, methods, route))
    return found
