"""Attendee accounts: register, log in, log out, and the profile page.

Logins share the API's rate limits (failures per address and account, and
per address) and sign-ups are limited per address (see
`server.api.ratelimit`); every new password passes `accounts.password_problem`.
"""

from __future__ import annotations

from fastapi import Request, Response

from server.api.deps import DbSession, client_address
from server.api.login import check_login, rate_limiter
from server.db.models import utcnow
from server.domain import accounts, memberships, passport, signup
from server.errors import Conflict, FieldErrors, Forbidden
from server.web.auth import (
    CheckedForm,
    SignedInUser,
    Visitor,
    end_session,
    field,
    start_session,
)
from server.web.landing import home_path
from server.web.render import redirect, render, safe_next
from server.web.routing import page_router

router = page_router()


@router.get("/login")
def login_form(request: Request, _visitor: Visitor, next: str = "", create: str = "") -> Response:
    """The login form (without `next`, a login lands where the account works: see `home_path`)."""
    context = {
        "next": safe_next(next, default=""),
        "create": "1" if create else "",
        "email": "",
        "error": "",
    }
    return render(request, "login.html", context)


@router.post("/login")
def login(request: Request, session: DbSession, _visitor: Visitor, form: CheckedForm) -> Response:
    """Check the password, start a session, go back where the visitor came from."""
    email, next_path = field(form, "email"), safe_next(field(form, "next"), default="")
    context = {"next": next_path, "create": field(form, "create"), "email": email}
    try:
        user = check_login(request, session, email=email, password=str(form.get("password") or ""))
    except Forbidden as exc:  # a suspended promoter
        return render(request, "login.html", {**context, "error": exc.message}, status=403)
    if user is None:
        context["error"] = "Wrong email or password."
        return render(request, "login.html", context, status=401)
    if field(form, "create"):
        passport.get_or_create_profile(session, user_id=user.id)
    response = redirect(next_path or home_path(session, user))
    start_session(session, response, request, user_id=user.id)
    return response


@router.get("/register")
def register_form(request: Request, _visitor: Visitor, next: str = "/passport") -> Response:
    """The sign-up form."""
    context = {"next": safe_next(next), "values": {}, "errors": {}}
    return render(request, "register.html", context)


@router.post("/register")
def register(
    request: Request, session: DbSession, _visitor: Visitor, form: CheckedForm
) -> Response:
    """Create the account (or claim the tickets held for its email) and its passport, sign in,
    go on (to /passport by default)."""
    limiter = rate_limiter(request)
    limiter.reserve(session, [(limiter.rules.signup, client_address(request))])
    username, email = field(form, "username"), field(form, "email").lower()
    password = str(form.get("password") or "")
    next_path = safe_next(field(form, "next"))
    errors: dict[str, str] = {}
    try:
        with session.begin_nested():
            user = signup.sign_up(session, username=username, email=email, password=password)
    except FieldErrors as exc:
        errors = exc.fields
    except Conflict:
        errors = {"email": accounts.TAKEN}
    if errors:
        context = {
            "next": next_path,
            "values": {"username": username, "email": email},
            "errors": errors,
        }
        return render(request, "register.html", context, status=422)
    passport.get_or_create_profile(session, user_id=user.id)
    response = redirect(next_path)
    start_session(session, response, request, user_id=user.id)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, _visitor: Visitor, form: CheckedForm) -> Response:
    """End the session."""
    response = redirect("/socaport-app")
    end_session(session, response, request)
    return response


@router.get("/profile")
def profile(request: Request, session: DbSession, user: SignedInUser) -> Response:
    """The profile page, with its Passport tab."""
    assert user.user is not None
    tier = memberships.current_tier(session, user_id=user.user.id, now=utcnow())
    return render(request, "profile.html", {"membership": tier})
