"""Forgotten passwords: /forgot-password mails a single-use link, /reset/{token} sets a new one.

The forgot page answers the same whatever the email ("if an account
exists, we've sent a link") and sends the mail after the response, so
neither the words nor the time taken tell which emails have accounts. Each
address may ask `SOCA_PASSWORD_RESETS_PER_ADDRESS` times per 15 minutes (the
shared rate limiter). The link's page sets the password through the
one policy `/register` uses; using it ends the account's other sessions and
signs this browser in. A used, expired or unknown link gets a page that
offers a new one. Reset pages send no referrer, so the token never leaves
in a `Referer` header.
"""

from __future__ import annotations

import math
from datetime import timedelta

from fastapi import BackgroundTasks, Request, Response
from sqlalchemy.orm import Session

from core import limits
from server.api.deps import AppSettings, DbSession, client_address, link_base
from server.api.errors import TooManyRequests
from server.api.login import rate_limiter
from server.db.models import User
from server.db.models.enums import LinkPurpose
from server.domain import account_links, accounts, passwords
from server.domain.account_links import LinkError
from server.domain.promoters import FieldErrors
from server.mail import Mail, Mailer, deliver
from server.web.auth import CheckedForm, Visitor, field, start_session
from server.web.landing import home_path
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()


def throttle(request: Request, session: Session) -> int | None:
    """Count one reset request for the client's address: seconds to wait when over, else None.

    Every request counts, found or not (the shared database limiter; it commits).
    """
    limiter = rate_limiter(request)
    try:
        limiter.reserve(session, [(limiter.rules.password_reset, client_address(request))])
    except TooManyRequests as exc:
        return exc.retry_after
    return None


def no_referrer(response: Response) -> Response:
    """The response, sending no referrer: a link's page never passes its token on."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def reset_mail(user: User, link: str, minutes: int) -> Mail:
    """The mail that carries a reset link."""
    assert user.email is not None
    text = (
        f"Hello {user.display_name},\n\n"
        "Someone (we hope you) asked to set a new password for your Soca Passport account.\n"
        f"Open this link to choose one. It works once, within {minutes} minutes:\n\n"
        f"{link}\n\n"
        "If you didn't ask, ignore this mail: your password stays as it is.\n"
    )
    return Mail(to=user.email, subject="Set a new Soca Passport password", text=text)


def _forgot_page(
    request: Request, *, email: str = "", sent: bool = False, error: str = "", status: int = 200
) -> Response:
    context = {"email": email, "sent": sent, "error": error}
    return render(request, "forgot_password.html", context, status=status)


@router.get("/forgot-password")
def forgot_form(request: Request, _visitor: Visitor, email: str = "") -> Response:
    """Ask for the account's email."""
    return _forgot_page(request, email=email[:255])


@router.post("/forgot-password")
def forgot(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    _visitor: Visitor,
    form: CheckedForm,
) -> Response:
    """Mail a reset link if an account has this email; say the same thing either way."""
    email = field(form, "email")
    problem = limits.text_problem(email, limits.EMAIL)
    if problem is not None or "@" not in email:
        error = problem or "Enter the email you signed up with."
        return _forgot_page(request, email=email[:255], error=error, status=422)
    wait = throttle(request, session)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        page = _forgot_page(
            request,
            email=email,
            error=f"Too many reset requests from here. Try again in {minutes} minutes.",
            status=429,
        )
        page.headers["Retry-After"] = str(wait)
        return page
    ttl_minutes = settings.reset_link_minutes
    started = passwords.start_reset(session, email=email, ttl=timedelta(minutes=ttl_minutes))
    if started is not None:
        user, token = started
        link = f"{link_base(request, settings)}/reset/{token}"
        background.add_task(deliver, Mailer(settings), reset_mail(user, link, ttl_minutes))
    return _forgot_page(request, email=email, sent=True)


def link_problem(request: Request, problem: LinkError, *, invite: bool = False) -> Response:
    """Why a reset or invitation link no longer works, with the way to a new one."""
    context = {"problem": problem, "invite": invite}
    page = render(request, "reset_link_problem.html", context, status=problem.status)
    return no_referrer(page)


def _reset_page(
    request: Request, token: str, user: User, errors: dict[str, str] | None = None
) -> Response:
    context = {"token": token, "account": user, "errors": errors or {}}
    status = 422 if errors else 200
    return no_referrer(render(request, "reset_password.html", context, status=status))


@router.get("/reset/{token}")
def reset_form(request: Request, token: str, session: DbSession, _visitor: Visitor) -> Response:
    """The new-password form, or why the link no longer works."""
    try:
        user = account_links.check(session, token=token, purpose=LinkPurpose.RESET)
    except LinkError as problem:
        return link_problem(request, problem)
    return _reset_page(request, token, user)


@router.post("/reset/{token}")
def reset(
    request: Request, token: str, session: DbSession, _visitor: Visitor, form: CheckedForm
) -> Response:
    """Set the new password, end the account's other sessions, sign this browser in."""
    try:
        user = account_links.check(session, token=token, purpose=LinkPurpose.RESET)
    except LinkError as unusable:
        return link_problem(request, unusable)
    password = str(form.get("password") or "")
    confirm = str(form.get("confirm") or "")
    inputs = passwords.account_inputs(user)
    if accounts.password_problem(password, user_inputs=inputs) is None and password != confirm:
        return _reset_page(request, token, user, {"confirm": "The two passwords differ."})
    try:
        user = passwords.set_password_with_link(
            session, token=token, purpose=LinkPurpose.RESET, password=password
        )
    except FieldErrors as exc:
        return _reset_page(request, token, user, exc.fields)
    except LinkError as spent:  # spent by a second click racing this one
        return link_problem(request, spent)
    response = redirect(home_path(session, user))
    start_session(session, response, request, user_id=user.id)
    return no_referrer(response)
