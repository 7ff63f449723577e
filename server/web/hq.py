"""The HQ dashboard: promoter applications, per-event billing, devices and sync conflicts,
tiers and perks, memberships. Every change goes through the domain services."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from core.tiers import PointTier
from server.api.deps import DbSession
from server.db.models import Event, utcnow
from server.db.models.enums import BillingStatus, PromoterStatus
from server.domain import billing, devices, memberships, promoters, tiers
from server.errors import InvalidInput, NotFound
from server.sync import views
from server.web.auth import CheckedForm, Hq, field
from server.web.fields import FormCheck
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


def _dashboard(
    request: Request,
    session: Session,
    *,
    fee_bill: uuid.UUID | None = None,
    fee: str = "",
    fee_error: str = "",
) -> Response:
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
        "fee_bill": fee_bill,
        "fee_value": fee,
        "fee_error": fee_error,
    }
    return render(request, "hq/dashboard.html", context, status=422 if fee_error else 200)


@router.get("/hq")
def dashboard(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Applications waiting for a decision, every promoter, and every event's bill."""
    return _dashboard(request, session)


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
def billing_fee(
    request: Request, billing_id: str, session: DbSession, _hq: Hq, form: CheckedForm
) -> Response:
    """Set a bill's fee, typed in dollars and cents (a bad amount is shown beside its field)."""
    bill_id = _id(billing_id, "bill")
    check = FormCheck(form)
    amount = check.money("fee", limits.FEE_AMOUNT)
    if check.errors:
        fee_error = check.errors["fee"]
        return _dashboard(
            request, session, fee_bill=bill_id, fee=check.values["fee"], fee_error=fee_error
        )
    cents = None if amount is None else int(amount * 100)
    billing.set_fee(session, billing_id=bill_id, fee_amount_cents=cents)
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


def _tiers_page(
    request: Request,
    session: Session,
    error: str = "",
    status: int = 200,
    check: FormCheck | None = None,
) -> Response:
    context: dict[str, Any] = {
        "tiers": tiers.list_tiers(session),
        "memberships": memberships.list_(session),
        "error": error,
        "values": check.values if check is not None else {},
        "errors": check.errors if check is not None else {},
    }
    return render(request, "hq/tiers.html", context, status=status)


@router.get("/hq/tiers")
def tier_list(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Tiers with their thresholds and perks, and every membership."""
    return _tiers_page(request, session)


@router.post("/hq/tiers")
def save_tiers(request: Request, session: DbSession, _hq: Hq, form: CheckedForm) -> Response:
    """Replace the tier set with the edited thresholds and perks (all checked together)."""
    check = FormCheck(form)
    edited = []
    for tier in tiers.list_tiers(session):
        points = check.whole(f"min_{tier.name}", limits.TIER_MIN_POINTS, required=True)
        perks = check.json_object(f"perks_{tier.name}", limits.PERKS)
        if points is not None and perks is not None:
            edited.append(PointTier(tier.name, points, perks))
    if check.errors:
        return _tiers_page(request, session, "Please check the fields marked below.", 422, check)
    try:
        with session.begin_nested():
            tiers.replace_tiers(session, tiers=edited)
    except InvalidInput as exc:
        return _tiers_page(request, session, exc.message, 422, check)
    return redirect("/hq/tiers")
