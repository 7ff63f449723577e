"""The HQ dashboard: promoter applications and per-event billing. Devices and conflicts are in
`hq_devices`, tiers and memberships in `hq_tiers`. Every change goes through the domain.

Every irreversible action (approve, reject, a billing status, suspending or
reinstating a promoter, signing a user out everywhere) is a `GET` that asks
for confirmation, saying what will happen, and a `POST` that does it, then
says what it did.
"""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from core import limits
from server.api.deps import DbSession
from server.db.models import User, utcnow
from server.db.models.enums import BillingStatus, PromoterStatus
from server.domain import access, accounts, billing, devices, hq_views, promoters
from server.domain.access import plural
from server.errors import NotFound, SocaError
from server.web.auth import CheckedForm, Hq, field
from server.web.forms import confirm, done
from server.web.render import render
from server.web.routing import page_router
from server.web.wording import BILLING_STATUS

router = page_router()


def parse_id(raw: str, what: str) -> uuid.UUID:
    """A path id, or the page's 404 for anything that is not one."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"We couldn't find that {what}.") from None


@router.get("/hq")
def dashboard(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Applications waiting for a decision, every promoter, and every event's bill."""
    return _dashboard(request, session)


def _dashboard(
    request: Request,
    session: DbSession,
    *,
    error: str = "",
    status: int = 200,
    fee_bill: uuid.UUID | None = None,
    fee_value: str = "",
    fee_error: str = "",
) -> Response:
    """The dashboard; a refused fee is shown beside its bill's field, as it was typed."""
    rows = promoters.list_(session)
    bills = hq_views.bill_lines(session)
    context = {
        "pending": [row for row in rows if row.status == PromoterStatus.PENDING],
        "decided": [row for row in rows if row.status != PromoterStatus.PENDING],
        "bills": bills,
        "next_statuses": {
            line.bill.id: sorted(billing.TRANSITIONS[BillingStatus(line.bill.status)])
            for line in bills
        },
        "error": error,
        "fee_bill": fee_bill,
        "fee_value": fee_value,
        "fee_error": fee_error,
    }
    return render(request, "hq/dashboard.html", context, status=status)


_DECISIONS = {
    "approve": (
        "Approve",
        "They can log in and open the promoter portal at once: create events, switch Soca "
        "Passport on, issue tickets and pair door devices.",
    ),
    "reject": (
        "Reject",
        "They see that their application was not approved; they may apply again later.",
    ),
}


# ---------------------- access (before the {decision} route: its paths are more specific)


@router.get("/hq/promoters/{promoter_id}/suspend")
def confirm_suspend(request: Request, promoter_id: str, session: DbSession, _hq: Hq) -> Response:
    """Ask before suspending a promoter, saying what it will end."""
    promoter = promoters.get(session, promoter_id=parse_id(promoter_id, "promoter"))
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
    return confirm(
        request,
        title=f"Suspend {promoter.name}?",
        lines=lines,
        action=f"/hq/promoters/{promoter.id}/suspend",
        button="Suspend promoter",
        back="/hq",
    )


@router.post("/hq/promoters/{promoter_id}/suspend")
def suspend(promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Suspend the promoter and say what that did."""
    ended = access.suspend(session, promoter_id=parse_id(promoter_id, "promoter"), now=utcnow())
    return done("/hq", ended.summary())


@router.get("/hq/promoters/{promoter_id}/reinstate")
def confirm_reinstate(request: Request, promoter_id: str, session: DbSession, _hq: Hq) -> Response:
    """Ask before reinstating a suspended promoter."""
    promoter = promoters.get(session, promoter_id=parse_id(promoter_id, "promoter"))
    lines = [
        f"{promoter.name} ({promoter.email}) will be able to log in and use its portal again.",
        "Devices revoked by the suspension stay revoked: pair them again.",
    ]
    return confirm(
        request,
        title=f"Reinstate {promoter.name}?",
        lines=lines,
        action=f"/hq/promoters/{promoter.id}/reinstate",
        button="Reinstate promoter",
        back="/hq",
    )


@router.post("/hq/promoters/{promoter_id}/reinstate")
def reinstate(promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Lift the suspension and say so."""
    promoter = access.reinstate(session, promoter_id=parse_id(promoter_id, "promoter"))
    return done("/hq", f"{promoter.name} is reinstated: its user may log in again.")


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
    return confirm(
        request,
        title=f"Sign {user.username} out everywhere?",
        lines=lines,
        action=f"/hq/users/{user.id}/sign-out",
        button="Sign out everywhere",
        back="/hq",
    )


@router.post("/hq/users/{user_id}/sign-out")
def sign_out(user_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Revoke every API token and web session of the user and say how many."""
    user = session.get(User, parse_id(user_id, "user"))
    if user is None:
        raise NotFound("We couldn't find that user.")
    ended = accounts.revoke_user_tokens(session, user_id=user.id, now=utcnow())
    message = (
        f"Signed {user.username} out everywhere: {plural(ended.api_tokens, 'API token')} and "
        f"{plural(ended.web_sessions, 'web session')} revoked."
    )
    return done("/hq", message)


@router.get("/hq/promoters/{promoter_id}/{decision}")
def decision_confirm(
    request: Request, promoter_id: str, decision: str, session: DbSession, _hq: Hq
) -> Response:
    """Ask before approving or rejecting an application (neither can be undone)."""
    if decision not in _DECISIONS:
        raise NotFound("We couldn't find that page.")
    promoter = promoters.get(session, promoter_id=parse_id(promoter_id, "promoter"))
    verb, effect = _DECISIONS[decision]
    who = f"{promoter.name} ({promoter.email})"
    return confirm(
        request,
        title=f"{verb} {promoter.name}?",
        lines=[f"{verb} the application from {who}.", effect, "This cannot be undone."],
        action=f"/hq/promoters/{promoter.id}/{decision}",
        button=f"{verb} {promoter.name}",
        back="/hq",
    )


@router.post("/hq/promoters/{promoter_id}/approve")
def approve(promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Approve an application; a linked attendee account becomes a promoter account."""
    promoter = promoters.approve(session, promoter_id=parse_id(promoter_id, "promoter"))
    login = (
        "they can log in now to open their portal."
        if promoter.user_id is not None
        else "they get their portal once they sign up with that email."
    )
    return done("/hq", f"Approved {promoter.name} ({promoter.email}): {login}")


@router.post("/hq/promoters/{promoter_id}/reject")
def reject(promoter_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Reject an application."""
    promoter = promoters.reject(session, promoter_id=parse_id(promoter_id, "promoter"))
    return done("/hq", f"Rejected the application from {promoter.name} ({promoter.email}).")


def _bill_words(bill_id: uuid.UUID, session: DbSession) -> tuple[str, str]:
    bill = billing.get(session, billing_id=bill_id)
    line = next(row for row in hq_views.bill_lines(session) if row.bill.id == bill.id)
    promoter = line.promoter_name or "HQ's own event"
    return line.event_name, promoter


@router.get("/hq/billing/{billing_id}/status")
def billing_confirm(
    request: Request, billing_id: str, session: DbSession, _hq: Hq, to: str = ""
) -> Response:
    """Ask before moving a bill (PAID and WAIVED are final)."""
    bill = billing.get(session, billing_id=parse_id(billing_id, "bill"))
    target = billing.parse_status(to)
    event_name, promoter = _bill_words(bill.id, session)
    fee = (
        f"{bill.fee_amount_cents / 100:,.2f} {bill.currency}"
        if bill.fee_amount_cents is not None
        else "no fee set"
    )
    final = " This is final." if target in (BillingStatus.PAID, BillingStatus.WAIVED) else ""
    return confirm(
        request,
        title=f"Mark the bill {BILLING_STATUS[target].lower()}?",
        lines=[
            f"{event_name} ({promoter}), {fee}: from {BILLING_STATUS[bill.status]} to "
            f"{BILLING_STATUS[target]}.{final}"
        ],
        action=f"/hq/billing/{bill.id}/status",
        button=f"Mark {BILLING_STATUS[target].lower()}",
        back="/hq",
        fields={"status": target.value},
    )


@router.post("/hq/billing/{billing_id}/status")
def billing_status(billing_id: str, session: DbSession, _hq: Hq, form: CheckedForm) -> Response:
    """Move a bill along the allowed path (a refused move is a 409 page naming both states)."""
    bill = billing.change_status(
        session, billing_id=parse_id(billing_id, "bill"), new_status=field(form, "status")
    )
    event_name, promoter = _bill_words(bill.id, session)
    return done("/hq", f"The bill for {event_name} ({promoter}) is {BILLING_STATUS[bill.status]}.")


@router.post("/hq/billing/{billing_id}/fee")
def billing_fee(
    request: Request, billing_id: str, session: DbSession, _hq: Hq, form: CheckedForm
) -> Response:
    """Set a bill's fee, typed in dollars and cents."""
    bill_id = parse_id(billing_id, "bill")
    raw = field(form, "fee")
    cents = None
    if raw:
        try:
            cents = int(limits.parse_money(raw, limits.FEE_AMOUNT) * 100)
        except ValueError as exc:
            return _dashboard(
                request, session, status=422, fee_bill=bill_id, fee_value=raw, fee_error=str(exc)
            )
    try:
        with session.begin_nested():
            bill = billing.set_fee(session, billing_id=bill_id, fee_amount_cents=cents)
    except SocaError as exc:
        message = f"The fee was not changed: {exc.message}"
        return _dashboard(request, session, error=message, status=exc.status)
    event_name, promoter = _bill_words(bill.id, session)
    shown = f"{cents / 100:,.2f} {bill.currency}" if cents is not None else "not set"
    return done("/hq", f"The fee for {event_name} ({promoter}) is now {shown}.")
