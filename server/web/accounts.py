"""Attendee accounts: register, log in, log out, and the profile page."""

from __future__ import annotations

import re
from typing import Final

from fastapi import Request, Response

from core import limits
from server.api.auth import authenticate_user
from server.api.deps import DbSession, client_address
from server.api.ratelimit import SlidingWindowLimiter
from server.db.models import utcnow
from server.db.models.enums import UserRole
from server.domain import accounts, memberships, passport
from server.errors import Conflict
from server.web.auth import (
    CheckedForm,
    SignedInUser,
    Visitor,
    end_session,
    field,
    start_session,
)
from server.web.render import redirect, render, safe_next
from server.web.routing import page_router

router = page_router()

_HANDLE: Final = re.compile(r"[A-Za-z0-9_]{3,30}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD: Final = 8


def _limiter(request: Request) -> SlidingWindowLimiter:
    limiter: SlidingWindowLimiter = request.app.state.login_limiter
    return limiter


@router.get("/login")
def login_form(
    request: Request, _visitor: Visitor, next: str = "/passport", create: str = ""
) -> Response:
    """The login form."""
    context = {"next": safe_next(next), "create": "1" if create else "", "email": "", "error": ""}
    return render(request, "login.html", context)


@router.post("/login")
def login(request: Request, session: DbSession, _visitor: Visitor, form: CheckedForm) -> Response:
    """Check the password, start a session, go back where the visitor came from."""
    limiter = _limiter(request)
    address = client_address(request)
    limiter.check(address)
    email, next_path = field(form, "email"), safe_next(field(form, "next"))
    # No account holds an email its limit refuses, so such a value is a wrong email
    # (asking the database with a NUL in it would fail on PostgreSQL).
    user = (
        None
        if limits.text_problem(email, limits.EMAIL)
        else authenticate_user(
            session, email=email, password=str(form.get("password") or ""), roles=list(UserRole)
        )
    )
    if user is None:
        limiter.record_failure(address)
        context = {
            "next": next_path,
            "create": field(form, "create"),
            "email": email,
            "error": "Wrong email or password.",
        }
        return render(request, "login.html", context, status=401)
    if field(form, "create"):
        passport.get_or_create_profile(session, user_id=user.id)
    response = redirect(next_path)
    start_session(session, response, request, user_id=user.id)
    return response


@router.get("/register")
def register_form(request: Request, _visitor: Visitor, next: str = "/passport") -> Response:
    """The sign-up form."""
    context = {"next": safe_next(next), "values": {}, "errors": {}}
    return render(request, "register.html", context)


def _register_errors(username: str, email: str, password: str) -> dict[str, str]:
    errors = {}
    if not _HANDLE.fullmatch(username):
        errors["username"] = "Pick a handle of 3 to 30 letters, digits or underscores."
    if not _EMAIL.fullmatch(email) or limits.text_problem(email, limits.EMAIL):
        errors["email"] = "That doesn't look like an email address (like name@example.com)."
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"Use at least {MIN_PASSWORD} characters."
    elif len(password) > 1024:
        errors["password"] = "That password is too long."  # noqa: S105 (a message)
    return errors


@router.post("/register")
def register(
    request: Request, session: DbSession, _visitor: Visitor, form: CheckedForm
) -> Response:
    """Create the account and its passport, sign in, go on (to /passport by default)."""
    username, email = field(form, "username"), field(form, "email").lower()
    password = str(form.get("password") or "")
    next_path = safe_next(field(form, "next"))
    errors = _register_errors(username, email, password)
    user = None
    if not errors:
        try:
            with session.begin_nested():
                user = accounts.create_user(
                    session,
                    username=username,
                    display_name=username,
                    email=email,
                    password=password,
                )
        except Conflict:
            errors["email"] = "That handle or email is already registered; try logging in."
    if user is None:
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
