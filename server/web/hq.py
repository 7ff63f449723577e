"""The HQ dashboard: promoter applications, per-event billing, devices and sync conflicts,
tiers and perks, memberships. Every change goes through the domain services.

Two actions end access and so ask first: suspending (or reinstating) a
promoter, and signing a user out everywhere. Each opens a confirmation page
(GET, changes nothing) saying what will happen; its form (POST) does it and
the page that follows says what was done.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from core.tiers import PointTier
from server.api.deps import DbSession
from server.db.models import Event, User, utcnow
from server.db.models.enums import BillingStatus, PromoterStatus
from server.domain import access, accounts, billing, devices, memberships, promoters, tiers
from server.domain.access import plural
from server.domain.promoters import FieldErrors
from server.errors import InvalidInput, NotFound
from server.sync import views
from server.web.auth import CheckedForm, Hq, field
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()


def _id(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"We couldn't find that {what}.") from None


def _event_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(Event.id, Event.name).where(Event.id.in_(ids)))
    return {event_id: name for event_id, name in rows}  # noqa: C416 (rows, not pairs, for mypy)


@router.get("/hq")
def dashboard(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Applications waiting for a decision, every promoter, and every event's bill."""
    rows = promoters.list_(session)
    bills = billing.list_(session)
    context = {
        "pending": [row for row in rows if row.status == PromoterStatus.PENDING],
        "decided": [row for row in rows if row.status != PromoterStatus.PENDING],
        "bills": bills,
        "event_names": _event_names(session, {bill.event_id for bill in bills}),
        "next_statuses": {
            bill.id: sorted(billing.TRANSITIONS[BillingStatus(bill.status)]) for bill in bills
        },
    }
    return render(request, "hq/dashboard.html", context)


@router.post("/hq/promoters/{promoter_id}/approve")
def approve(promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Approve an application; a linked attendee account becomes a promoter account."""
    promoters.approve(session, promoter_id=_id(promoter_id, "promoter"))
    return redirect("/hq")


@router.post("/hq/promoters/{promoter_id}/reject")
def reject(promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Reject an application."""
    promoters.reject(session, promoter_id=_id(promoter_id, "promoter"))
    return redirect("/hq")


@router.post("/hq/billing/{billing_id}/status")
def billing_status(billing_id: str, session: DbSession, _hq: Hq, form: CheckedForm) -> Response:
    """Move a bill along the allowed path (a refused move is a 409 page naming both states)."""
    billing.change_status(
        session, billing_id=_id(billing_id, "bill"), new_status=field(form, "status")
    )
    return redirect("/hq")


@router.post("/hq/billing/{billing_id}/fee")
def billing_fee(billing_id: str, session: DbSession, _hq: Hq, form: CheckedForm) -> Response:
    """Set a bill's fee, typed in dollars and cents."""
    raw = field(form, "fee").replace(",", "")
    try:
        cents = round(float(raw) * 100) if raw else None
    except ValueError:
        raise FieldErrors({"fee": "Type the fee as a number, like 19.99."}) from None
    billing.set_fee(session, billing_id=_id(billing_id, "bill"), fee_amount_cents=cents)
    return redirect("/hq")


@router.get("/hq/devices")
def device_list(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Every device (last sync, clock offset, pending conflicts) and every sync conflict."""
    context = {
        "devices": views.device_report(session, now=utcnow()),
        "conflicts": views.list_conflicts(session),
    }
    return render(request, "hq/devices.html", context)


@router.post("/hq/devices/{device_id}/revoke")
def revoke_device(device_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Revoke a device: its token is refused from now on."""
    devices.revoke(session, device_id=_id(device_id, "device"), now=utcnow())
    return redirect("/hq/devices")


def _tiers_page(request: Request, session: Session, error: str = "", status: int = 200) -> Response:
    context: dict[str, Any] = {
        "tiers": tiers.list_tiers(session),
        "memberships": memberships.list_(session),
        "error": error,
    }
    return render(request, "hq/tiers.html", context, status=status)


@router.get("/hq/tiers")
def tier_list(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Tiers with their thresholds and perks, and every membership."""
    return _tiers_page(request, session)


@router.post("/hq/tiers")
def save_tiers(request: Request, session: DbSession, _hq: Hq, form: CheckedForm) -> Response:
    """Replace the tier set with the edited thresholds and perks (all checked together)."""
    edited = []
    for tier in tiers.list_tiers(session):
        raw_points, raw_perks = field(form, f"min_{tier.name}"), field(form, f"perks_{tier.name}")
        try:
            points = int(raw_points)
            perks = json.loads(raw_perks or "{}")
        except ValueError:
            return _tiers_page(
                request, session, f"{tier.name}: points must be a whole number and perks JSON.", 422
            )
        if not isinstance(perks, dict):
            return _tiers_page(request, session, f"{tier.name}: perks must be a JSON object.", 422)
        edited.append(PointTier(tier.name, points, perks))
    try:
        with session.begin_nested():
            tiers.replace_tiers(session, tiers=edited)
    except InvalidInput as exc:
        return _tiers_page(request, session, exc.message, 422)
    return redirect("/hq/tiers")


# ------------------------------------------------------------------- access (confirmed)


def _confirm(
    request: Request, *, title: str, lines: list[str], action: str, button: str
) -> Response:
    context = {"title": title, "lines": lines, "action": action, "button": button}
    return render(request, "hq/confirm.html", context)


def _done(request: Request, title: str, message: str) -> Response:
    return render(request, "hq/done.html", {"title": title, "message": message})


@router.get("/hq/promoters/{promoter_id}/suspend")
def confirm_suspend(request: Request, promoter_id: str, session: DbSession, _hq: Hq) -> Response:
    """Ask before suspending a promoter, saying what it will end."""
    promoter = promoters.get(session, promoter_id=_id(promoter_id, "promoter"))
    tokens = accounts.RevokedTokens()
    if promoter.user_id is not None:
        tokens = accounts.live_token_counts(session, user_id=promoter.user_id)
    devices_live = devices.count_promoter_devices(session, promoter_id=promoter.id)
    lines = [
        f"{promoter.name} ({promoter.email}) will be signed out everywhere: "
        f"{plural(tokens.api_tokens, 'API token')} and "
        f"{plural(tokens.web_sessions, 'web session')} revoked.",
        f"{plural(devices_live, 'device')} in its scopes will be revoked at once "
        "(they pair again after reinstatement).",
        "Its portal, API and pairing codes refuse it until you reinstate it.",
    ]
    return _confirm(
        request,
        title=f"Suspend {promoter.name}?",
        lines=lines,
        action=f"/hq/promoters/{promoter.id}/suspend",
        button="Suspend promoter",
    )


@router.post("/hq/promoters/{promoter_id}/suspend")
def suspend(
    request: Request, promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm
) -> Response:
    """Suspend the promoter and say what that did."""
    done = access.suspend(session, promoter_id=_id(promoter_id, "promoter"), now=utcnow())
    return _done(request, "Promoter suspended", done.summary())


@router.get("/hq/promoters/{promoter_id}/reinstate")
def confirm_reinstate(request: Request, promoter_id: str, session: DbSession, _hq: Hq) -> Response:
    """Ask before reinstating a suspended promoter."""
    promoter = promoters.get(session, promoter_id=_id(promoter_id, "promoter"))
    lines = [
        f"{promoter.name} ({promoter.email}) will be able to log in and use its portal again.",
        "Devices revoked by the suspension stay revoked: pair them again.",
    ]
    return _confirm(
        request,
        title=f"Reinstate {promoter.name}?",
        lines=lines,
        action=f"/hq/promoters/{promoter.id}/reinstate",
        button="Reinstate promoter",
    )


@router.post("/hq/promoters/{promoter_id}/reinstate")
def reinstate(
    request: Request, promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm
) -> Response:
    """Lift the suspension and say so."""
    promoter = access.reinstate(session, promoter_id=_id(promoter_id, "promoter"))
    message = f"{promoter.name} is reinstated: its user may log in again."
    return _done(request, "Promoter reinstated", message)


@router.get("/hq/users/sign-out")
def confirm_sign_out(request: Request, session: DbSession, _hq: Hq, who: str = "") -> Response:
    """Find a user by email, handle or username and ask before signing them out everywhere."""
    user = accounts.find_user(session, who[: limits.EMAIL.max_length])
    if user is None:
        raise NotFound("No account has that email, handle or username.")
    tokens = accounts.live_token_counts(session, user_id=user.id)
    lines = [
        f"{user.display_name} ({user.email or user.username}) will be signed out everywhere: "
        f"{plural(tokens.api_tokens, 'API token')} and "
        f"{plural(tokens.web_sessions, 'web session')} revoked.",
        "They can log in again with their password.",
    ]
    return _confirm(
        request,
        title=f"Sign {user.username} out everywhere?",
        lines=lines,
        action=f"/hq/users/{user.id}/sign-out",
        button="Sign out everywhere",
    )


@router.post("/hq/users/{user_id}/sign-out")
def sign_out(
    request: Request, user_id: str, session: DbSession, _hq: Hq, _form: CheckedForm
) -> Response:
    """Revoke every API token and web session of the user and say how many."""
    user = session.get(User, _id(user_id, "user"))
    if user is None:
        raise NotFound("We couldn't find that user.")
    done = accounts.revoke_user_tokens(session, user_id=user.id, now=utcnow())
    message = (
        f"Signed {user.username} out everywhere: {plural(done.api_tokens, 'API token')} and "
        f"{plural(done.web_sessions, 'web session')} revoked."
    )
    return _done(request, "Signed out everywhere", message)
