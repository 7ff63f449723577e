"""Per-event Soca Passport fees (seed 001 §3.2): scaffolding, no payment provider yet.

One `event_passport_billing` row per event, created DRAFT by
`events.enable_passport`. Its status moves only along

    DRAFT -> PENDING_PAYMENT -> PAID      and      DRAFT | PENDING_PAYMENT -> WAIVED

PAID and WAIVED are final. Any other move is refused with
`BillingTransitionRefused` (a Conflict naming from and to). Asking for the
status the row already has changes nothing and returns it, so a retried
request (a double-click, a redelivered payment notice) never fails.

Asking for payment needs a decided fee: DRAFT -> PENDING_PAYMENT is refused
while `fee_amount_cents` is NULL. The fee can be changed until the bill is
PAID or WAIVED, and cleared back to NULL only while DRAFT.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import EventPassportBilling
from server.db.models.enums import BillingStatus
from server.domain import checks
from server.domain.promoters import FieldErrors
from server.errors import Conflict, InvalidInput, NotFound

#: Every status move that is allowed, from -> the set of statuses it may go to.
TRANSITIONS: dict[BillingStatus, frozenset[BillingStatus]] = {
    BillingStatus.DRAFT: frozenset({BillingStatus.PENDING_PAYMENT, BillingStatus.WAIVED}),
    BillingStatus.PENDING_PAYMENT: frozenset({BillingStatus.PAID, BillingStatus.WAIVED}),
    BillingStatus.PAID: frozenset(),
    BillingStatus.WAIVED: frozenset(),
}

_FINAL = frozenset({BillingStatus.PAID, BillingStatus.WAIVED})
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class BillingTransitionRefused(Conflict):
    """A status move outside `TRANSITIONS`; carries `from_status` and `to_status`."""

    def __init__(self, from_status: BillingStatus, to_status: BillingStatus) -> None:
        self.from_status = from_status
        self.to_status = to_status
        onward = ", ".join(sorted(TRANSITIONS[from_status])) or "nothing (it is final)"
        super().__init__(
            f"Billing cannot go from {from_status} to {to_status}; "
            f"from {from_status} it can only go to {onward}."
        )


def can_change(from_status: BillingStatus, to_status: BillingStatus) -> bool:
    """Whether `change_status` accepts this move (a same-status request counts as accepted)."""
    return from_status == to_status or to_status in TRANSITIONS[from_status]


def parse_status(value: str) -> BillingStatus:
    """A billing status from its name; InvalidInput naming the allowed values otherwise."""
    try:
        return BillingStatus(value)
    except ValueError:
        allowed = ", ".join(BillingStatus)
        raise InvalidInput(f"Unknown billing status {value!r}; use one of {allowed}.") from None


def check_fee(fee_amount_cents: int | None) -> int | None:
    """A fee in cents within `limits.FEE_CENTS`, or None while undecided; FieldErrors otherwise."""
    if fee_amount_cents is None:
        return None
    if not limits.FEE_CENTS.contains(fee_amount_cents):
        raise FieldErrors(
            {"fee_amount_cents": f"The fee must be {limits.FEE_CENTS.words()} cents."}
        )
    return fee_amount_cents


def get(session: Session, *, billing_id: uuid.UUID) -> EventPassportBilling:
    """The billing row with this id; NotFound if there is none."""
    billing = session.get(EventPassportBilling, billing_id)
    if billing is None:
        raise NotFound(f"There is no billing record {billing_id}.")
    return billing


def _lock(session: Session, billing_id: uuid.UUID) -> EventPassportBilling:
    billing = session.get(
        EventPassportBilling, billing_id, with_for_update=True, populate_existing=True
    )
    if billing is None:
        raise NotFound(f"There is no billing record {billing_id}.")
    return billing


def get_for_event(session: Session, *, event_id: uuid.UUID) -> EventPassportBilling | None:
    """The event's billing row, or None if passport was never enabled for it."""
    return session.scalars(
        select(EventPassportBilling).where(EventPassportBilling.event_id == event_id)
    ).one_or_none()


def list_(
    session: Session,
    *,
    promoter_id: uuid.UUID | None = None,
    status: BillingStatus | str | None = None,
) -> list[EventPassportBilling]:
    """Billing rows, oldest first, optionally for one promoter and/or one status."""
    query = select(EventPassportBilling).order_by(
        EventPassportBilling.created_at, EventPassportBilling.id
    )
    if promoter_id is not None:
        query = query.where(EventPassportBilling.promoter_id == promoter_id)
    if status is not None:
        query = query.where(EventPassportBilling.status == parse_status(status))
    return list(session.scalars(query))


def change_status(
    session: Session,
    *,
    billing_id: uuid.UUID,
    new_status: BillingStatus | str,
    notes: str | None = None,
) -> EventPassportBilling:
    """Move a bill along `TRANSITIONS`; `notes`, when given, replace the row's notes."""
    target = parse_status(new_status)
    problems: dict[str, str] = {}
    clean_notes = checks.text(problems, "notes", notes, limits.BILLING_NOTES)
    if problems:
        raise FieldErrors(problems)
    billing = _lock(session, billing_id)
    current = BillingStatus(billing.status)
    if not can_change(current, target):
        raise BillingTransitionRefused(current, target)
    if (
        current != target
        and target == BillingStatus.PENDING_PAYMENT
        and billing.fee_amount_cents is None
    ):
        raise Conflict("Set a fee before asking for payment (the fee is still undecided).")
    billing.status = target
    if notes is not None:
        billing.notes = clean_notes
    session.flush()
    return billing


def set_fee(
    session: Session,
    *,
    billing_id: uuid.UUID,
    fee_amount_cents: int | None,
    currency: str | None = None,
) -> EventPassportBilling:
    """Set the fee (and optionally the 3-letter currency) of a bill that is not PAID or WAIVED."""
    fee = check_fee(fee_amount_cents)
    code = None
    if currency is not None:
        code = currency.strip().upper()
        if not _CURRENCY.fullmatch(code):
            raise FieldErrors({"currency": "Use a 3-letter currency code, for example USD or TTD."})
    billing = _lock(session, billing_id)
    current = BillingStatus(billing.status)
    if current in _FINAL:
        raise Conflict(f"The fee of a {current} bill cannot change.")
    if fee is None and current != BillingStatus.DRAFT:
        raise Conflict(f"The fee cannot be cleared once the bill is {current}.")
    billing.fee_amount_cents = fee
    if code is not None:
        billing.currency = code
    session.flush()
    return billing
