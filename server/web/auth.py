"""Web sign-in: session cookies, the cookie principal, page policies and CSRF.

A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie
(Secure over TLS), kept hashed in `api_tokens` as kind WEB and honoured for
`SESSION_DAYS`. Only WEB rows are sessions and the API honours only API
rows, so an API bearer token pasted into a cookie signs nobody in and a
session cookie's value is no bearer token.

CSRF: every form carries `csrf_token`, an HMAC (the settings' `secret_key`)
of the session token — or, before sign-in, of a random `soca_visitor`
cookie. Every POST checks it through `CheckedForm`; a missing or wrong token
is 403 and the form does nothing.

Page policies subclass the API's `Policy`, so a page declares exactly one of
`web_public()`, `signed_in()` or `web_allow(*roles)` the same way API routes
do; a signed-out visitor on a protected page is sent to the login form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.api.auth import ANONYMOUS, Policy, Principal, Role, resolve_principal
from server.api.deps import DbSession
from server.api.errors import Unauthorized
from server.db.models import utcnow
from server.db.models.enums import TokenKind
from server.domain import accounts
from server.errors import Forbidden, SocaError
from server.settings import ServerSettings

SESSION_COOKIE: Final = "soca_session"
VISITOR_COOKIE: Final = "soca_visitor"
SESSION_LABEL: Final = "web-session"
SESSION_DAYS: Final = 14
CSRF_FIELD: Final = "csrf_token"
SIGNED_IN: Final = "signed-in"


class LoginRequired(SocaError):
    """A page needs a signed-in user; the HTML edge answers with a redirect to the login form."""

    code = "login_required"
    status = 401

    def __init__(self, next_path: str) -> None:
        super().__init__("Please log in to see this page.")
        self.next_path = next_path


class CsrfRejected(SocaError):
    """A form arrived without the token of the page that showed it."""

    code = "csrf_failed"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from this site. Go back, reload and try again."
        )


# ----------------------------------------------------------------------------- sessions


def start_session(
    session: Session, response: Response, request: Request, *, user_id: uuid.UUID
) -> str:
    """Sign a user in: end any session this browser had, store a new token (hashed), set it."""
    previous = request.cookies.get(SESSION_COOKIE)
    if previous and _live_session(session, previous):
        accounts.revoke_api_token(session, token=previous)
    token = accounts.issue_api_token(
        session, user_id=user_id, label=SESSION_LABEL, kind=TokenKind.WEB
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_DAYS * 24 * 3600,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return token


def end_session(session: Session, response: Response, request: Request) -> None:
    """Sign out: revoke the session row and clear the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and _live_session(session, token):
        accounts.revoke_api_token(session, token=token)
    response.delete_cookie(SESSION_COOKIE, path="/")


def _live_session(session: Session, token: str) -> bool:
    check = accounts.check_token(
        session, token, kind=TokenKind.WEB, max_age=timedelta(days=SESSION_DAYS), now=utcnow()
    )
    return check.state == accounts.TokenState.LIVE


def web_principal(session: Session, token: str | None) -> Principal:
    """Who a session cookie signs in (ANONYMOUS for none, or a dead or foreign token)."""
    if not token:
        return ANONYMOUS
    try:
        return resolve_principal(
            session, token, kind=TokenKind.WEB, max_age=timedelta(days=SESSION_DAYS)
        )
    except Unauthorized:
        return ANONYMOUS


def current_principal(request: Request) -> Principal:
    """The principal the page's policy resolved (ANONYMOUS before any policy ran)."""
    principal: Principal = getattr(request.state, "principal", ANONYMOUS)
    return principal


# --------------------------------------------------------------------------------- CSRF


def _settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def _sign(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def visitor_seed(request: Request) -> str:
    """The visitor cookie's value, minted (and remembered for the response) when missing."""
    seed = request.cookies.get(VISITOR_COOKIE) or getattr(request.state, "new_visitor", None)
    if seed is None:
        seed = secrets.token_urlsafe(32)
        request.state.new_visitor = seed
    return str(seed)


def csrf_token(request: Request) -> str:
    """The token forms on this page carry: bound to the session, else to the visitor cookie."""
    principal = current_principal(request)
    session_token = request.cookies.get(SESSION_COOKIE)
    seed = session_token if principal.authenticated and session_token else visitor_seed(request)
    return _sign(_settings(request).secret_key, seed)


def remember_visitor(request: Request, response: Response) -> None:
    """Set the visitor cookie a page minted while rendering."""
    seed = getattr(request.state, "new_visitor", None)
    if seed is not None:
        response.set_cookie(
            VISITOR_COOKIE,
            seed,
            httponly=True,
            secure=request.url.scheme == "https",
            samesite="lax",
            path="/",
        )


def csrf_valid(request: Request, presented: str | None) -> bool:
    """True when `presented` is the token of this browser's session or visitor cookie."""
    if not presented:
        return False
    secret = _settings(request).secret_key
    seeds = [request.cookies.get(SESSION_COOKIE), request.cookies.get(VISITOR_COOKIE)]
    return any(seed and hmac.compare_digest(_sign(secret, seed), presented) for seed in seeds)


async def _checked_form(request: Request) -> FormData:
    form = await request.form()
    presented = form.get(CSRF_FIELD)
    if not isinstance(presented, str) or not csrf_valid(request, presented):
        raise CsrfRejected()
    return form


#: The posted form, after its CSRF token was checked (403 otherwise).
CheckedForm = Annotated[FormData, Depends(_checked_form)]


def field(form: FormData, name: str) -> str:
    """A text field of a posted form ('' when absent)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# ----------------------------------------------------------------------------- policies


class WebPolicy(Policy):
    """Base of page policies: the caller comes from the session cookie, never a bearer token."""

    def _principal(self, request: Request, session: Session) -> Principal:
        principal = web_principal(session, request.cookies.get(SESSION_COOKIE))
        request.state.principal = principal
        return principal

    @staticmethod
    def _next(request: Request) -> str:
        query = request.url.query
        return request.url.path + (f"?{query}" if query and request.method == "GET" else "")


class WebPublicPolicy(WebPolicy):
    """Anyone; a signed-in visitor is recognised."""

    names = ("public",)

    def __call__(self, request: Request, session: DbSession) -> Principal:
        """The visitor (ANONYMOUS when signed out)."""
        return self._principal(request, session)


class SignedInPolicy(WebPolicy):
    """Any signed-in user."""

    names = (SIGNED_IN,)

    def __call__(self, request: Request, session: DbSession) -> Principal:
        """The signed-in user; LoginRequired otherwise."""
        principal = self._principal(request, session)
        if principal.user is None:
            raise LoginRequired(self._next(request))
        return principal


class WebRolePolicy(WebPolicy):
    """Signed-in users acting as one of `roles`."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("a role policy needs at least one role")
        self.roles = frozenset(roles)
        self.names = tuple(sorted(role.value for role in self.roles))

    def __call__(self, request: Request, session: DbSession) -> Principal:
        """The caller; LoginRequired when signed out, Forbidden for another role."""
        principal = self._principal(request, session)
        if principal.user is None:
            raise LoginRequired(self._next(request))
        if principal.role not in self.roles:
            raise Forbidden("Your account may not open this page.")
        return principal


def web_public() -> Any:
    """Declare a page open to anyone."""
    return Depends(WebPublicPolicy())


def signed_in() -> Any:
    """Declare a page for any signed-in user."""
    return Depends(SignedInPolicy())


def web_allow(*roles: Role) -> Any:
    """Declare a page for signed-in users acting as one of these roles."""
    return Depends(WebRolePolicy(*roles))


Visitor = Annotated[Principal, web_public()]
SignedInUser = Annotated[Principal, signed_in()]
Promoter = Annotated[Principal, web_allow(Role.PROMOTER)]
Hq = Annotated[Principal, web_allow(Role.HQ)]
