"""The business side of the site: apply, set a password from an invitation, the dashboard
(branches, managers invited by mail, tablet pairing, recent activity). Offers live in
`web.offers`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import BackgroundTasks, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.wire import DeviceRole, DeviceScope
from server.api import tenancy
from server.api.auth import Principal, Role
from server.api.deps import AppSettings, DbSession, link_base
from server.api.devices import pairing_qr
from server.db.models import Branch, User, utcnow
from server.domain import branches, businesses, card_reports, devices, invitations, offers
from server.domain.account_links import LinkError
from server.domain.promoters import FieldErrors
from server.domain.qr_codes import qr_svg
from server.errors import Conflict, NotFound
from server.mail import Mailer, deliver
from server.web.auth import CheckedForm, SignedInUser, Visitor, field, start_session, web_allow
from server.web.render import redirect, render
from server.web.reset import link_problem, no_referrer
from server.web.routing import page_router

router = page_router()

Owner = Annotated[Principal, web_allow(Role.BUSINESS)]
Staff = Annotated[Principal, web_allow(Role.BUSINESS, Role.BRANCH_MANAGER)]

APPLY_FIELDS: Final = (
    ("name", "Business name", "text"),
    ("country_code", "Country (2-letter code, e.g. TT, US)", "text"),
)
ACCOUNT_FIELDS: Final = (
    ("display_name", "Your name", "text"),
    ("email", "Email", "email"),
    ("password", "Password (at least 8 characters)", "password"),
)


def parse_id(raw: str, noun: str) -> uuid.UUID:
    """A path id, or the page's 404."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"We couldn't find that {noun}.") from None


# ----------------------------------------------------------------------------- apply


def _apply_page(
    request: Request,
    visitor: Principal,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "fields": APPLY_FIELDS,
        "account_fields": () if visitor.user else ACCOUNT_FIELDS,
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "business/apply.html", context, status=status)


@router.get("/business/apply")
def apply_form(request: Request, visitor: Visitor) -> Response:
    """The application form (signed out, it creates the owner's account too)."""
    return _apply_page(request, visitor)


@router.post("/business/apply")
def apply(request: Request, session: DbSession, visitor: Visitor, form: CheckedForm) -> Response:
    """Store a PENDING business for the visitor (their new account when signed out)."""
    names = [name for name, _label, _kind in (*APPLY_FIELDS, *ACCOUNT_FIELDS)]
    values = {name: field(form, name) for name in names if name != "password"}
    try:
        with session.begin_nested():
            owner = visitor.user
            if owner is None:
                owner = businesses.new_owner_account(
                    session,
                    email=values["email"],
                    password=str(form.get("password") or ""),
                    display_name=values["display_name"],
                )
            businesses.check_details(values["name"], values["country_code"])
            businesses.create(
                session,
                name=values["name"],
                country_code=values["country_code"],
                owner_user_id=owner.id,
            )
    except FieldErrors as exc:
        return _apply_page(request, visitor, values, exc.fields, status=422)
    except Conflict as exc:
        return _apply_page(request, visitor, values, {"name": exc.message}, status=409)
    response = redirect("/business")
    if visitor.user is None:
        start_session(session, response, request, user_id=owner.id)
    return response


# --------------------------------------------------------------------- invited people


def _welcome_page(
    request: Request, token: str, user: User, error: str = "", status: int = 200
) -> Response:
    context = {"token": token, "invited": user, "error": error}
    return no_referrer(render(request, "business/welcome.html", context, status=status))


@router.get("/welcome/{token}")
def welcome(request: Request, token: str, session: DbSession, _visitor: Visitor) -> Response:
    """The "Welcome, set your password" form of an invitation link, or why the link is dead."""
    try:
        user = invitations.check(session, token=token)
    except LinkError as problem:
        return link_problem(request, problem, invite=True)
    return _welcome_page(request, token, user)


@router.post("/welcome/{token}")
def accept(
    request: Request, token: str, session: DbSession, _visitor: Visitor, form: CheckedForm
) -> Response:
    """Set the password (the link is spent), sign in, open the dashboard."""
    try:
        user = invitations.check(session, token=token)
        user = invitations.accept(session, token=token, password=str(form.get("password") or ""))
    except LinkError as problem:  # unusable, or spent by a second click racing this one
        return link_problem(request, problem, invite=True)
    except FieldErrors as exc:  # the link stays unspent
        return _welcome_page(request, token, user, exc.fields["password"], status=422)
    response = redirect("/business")
    start_session(session, response, request, user_id=user.id)
    return no_referrer(response)


# ------------------------------------------------------------------------- dashboard


def _staff_branches(session: Session, who: Principal) -> list[Branch]:
    visible = tenancy.visible_branches(session, who)
    return visible or []


def _managers(session: Session, rows: list[Branch]) -> dict[uuid.UUID, User]:
    ids = {row.manager_user_id for row in rows if row.manager_user_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))}


def dashboard_page(
    request: Request, session: Session, who: Principal, extra: dict[str, Any] | None = None
) -> Response:
    """The dashboard of an owner or a manager (with a new code or link, if just made)."""
    rows = _staff_branches(session, who)
    business = businesses.get(session, business_id=who.business_id) if who.business_id else None
    context: dict[str, Any] = {
        "business": business,
        "branches": rows,
        "offers": offers.list_(session, branch_ids=[row.id for row in rows]),
        "activity": {
            row.id: card_reports.branch_activity(session, branch_id=row.id, limit=5) for row in rows
        },
        "is_owner": who.role == Role.BUSINESS,
        "managers": _managers(session, rows),
        "errors": {},
        "values": {},
        **(extra or {}),
    }
    return render(
        request, "business/dashboard.html", context, status=422 if context["errors"] else 200
    )


@router.get("/business")
def dashboard(request: Request, session: DbSession, user: SignedInUser) -> Response:
    """Owners and managers: branches, offers, tablets; a pending applicant: their status."""
    if user.role in (Role.BUSINESS, Role.BRANCH_MANAGER):
        return dashboard_page(request, session, user)
    assert user.user is not None
    mine = businesses.get_for_owner(session, user_id=user.user.id)
    if mine is None:
        return redirect("/business/apply")
    return render(request, "business/status.html", {"business": mine})


@router.post("/business/branches")
def add_branch(request: Request, session: DbSession, owner: Owner, form: CheckedForm) -> Response:
    """A new branch of the owner's business."""
    assert owner.business_id is not None
    values = {name: field(form, name) for name in ("name", "city", "country_code")}
    try:
        with session.begin_nested():
            branches.create(
                session,
                business_id=owner.business_id,
                name=values["name"],
                city=values["city"] or None,
                country_code=values["country_code"] or None,
            )
    except FieldErrors as exc:
        extra = {"errors": {f"branch_{k}": v for k, v in exc.fields.items()}, "values": values}
        return dashboard_page(request, session, owner, extra)
    return redirect("/business")


@router.post("/business/branches/{branch_id}/manager")
def invite_manager(
    request: Request,
    branch_id: str,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    owner: Owner,
    form: CheckedForm,
) -> Response:
    """Invite the branch's manager: the link is mailed, and shown once (mail may be unset)."""
    branch = tenancy.branch(session, owner, parse_id(branch_id, "branch"))
    email, name = field(form, "email"), field(form, "display_name")
    try:
        with session.begin_nested():
            invited = branches.invite_manager(
                session, branch_id=branch.id, email=email, display_name=name
            )
    except (FieldErrors, Conflict) as exc:
        problem = (
            exc.fields.get("email", exc.message) if isinstance(exc, FieldErrors) else exc.message
        )
        extra = {"errors": {f"manager_{branch.id}": problem}, "values": {"email": email}}
        return dashboard_page(request, session, owner, extra)
    link = None
    if invited.token is not None:
        link = invitations.url(link_base(request, settings), invited.token)
        mail = invitations.manager_mail(session, user=invited.user, link=link, branch_id=branch.id)
        background.add_task(deliver, Mailer(settings), mail)
    invited_view = {
        "branch_id": branch.id,
        "email": invited.user.email,
        "link": link,
        "mailed": Mailer(settings).configured,
        "days": invitations.INVITE_TTL.days,
    }
    return dashboard_page(request, session, owner, {"invited": invited_view})


@router.post("/business/branches/{branch_id}/pairing-code")
def pairing_code(
    request: Request, branch_id: str, session: DbSession, staff: Staff, _form: CheckedForm
) -> Response:
    """A one-time code (QR and text, 10 minutes) for a prize tablet at this branch."""
    branch = tenancy.branch(session, staff, parse_id(branch_id, "branch"))
    now = utcnow()
    issued = devices.create_pairing_code(
        session,
        role=DeviceRole.BRANCH,
        scope=DeviceScope(branch_id=branch.id),
        now=now,
        created_by_user_id=staff.user_id,
    )
    qr = pairing_qr(str(request.base_url), issued.code)
    pairing = {
        "branch_id": branch.id,
        "code": issued.code,
        "expires_at": issued.expires_at,
        "seconds_left": max(0, int((issued.expires_at - now).total_seconds())),
        "qr_text": qr,
        "qr_svg": qr_svg(qr),
    }
    return dashboard_page(request, session, staff, {"pairing": pairing})


def branch_of(session: Session, who: Principal, raw_id: str) -> Branch:
    """A branch the caller may see (404 otherwise)."""
    return tenancy.branch(session, who, parse_id(raw_id, "branch"))


def format_time(moment: datetime | None) -> str:
    """A time as the pages show it."""
    return moment.strftime("%d %b %Y, %H:%M") if moment else "—"
