"""Package purchases: selling a unit, paying for it, and activating it at the door.

Decisions, named so the API, the pages, the door and the tests can point at them:

- **Stock under concurrency.** A purchase locks the package row (`FOR NO KEY
  UPDATE`, see `rows`) before deciding, which also serialises one user's
  purchases for the per-user limit, and then takes the unit with the counted
  slot `UPDATE ... WHERE sold_quantity < max_quantity`: the database itself
  can never sell more than the stock, even if a caller skipped the lock.
- **The payment step is a provider's** (`payments`). With a provider the
  purchase takes the status its step says (pay at the door: PENDING); with
  none (the demo, HQ giving one away) it is PAID at once. PENDING purchases
  hold their unit and count towards `max_per_user`.
- **Paid at the door.** The door may activate a PAID purchase, or a PENDING
  cash one after taking the money (`core.purchases`); that activation marks
  it PAID too. HQ or the promoter may mark a PENDING purchase PAID
  (`mark_paid`, idempotent).
- **Bracelets are rows.** Each bracelet id of a purchase is also a
  `purchase_bracelets` row, so a spend can name a bracelet instead of a user.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.purchases import door_collects_payment, door_may_activate
from core.reasons import Reason
from core.tokens import SigningKey, TokenKind, issue_token
from server.db.models import (
    Event,
    Package,
    PackageItem,
    PackagePurchase,
    PurchaseBracelet,
    User,
)
from server.db.models.enums import PackageItemType, PackageStatus, PaymentMethod, PurchaseStatus
from server.domain import money, packages, qr_codes, rows
from server.domain.payments import PaymentProvider
from server.errors import Conflict, InvalidInput, NotFound, ReasonError

_PAYMENT_METHODS: Final = frozenset(PaymentMethod)
#: Purchases that count towards `max_per_user`.
COUNTED_PURCHASE_STATUSES: Final = (PurchaseStatus.PAID, PurchaseStatus.PENDING)


@dataclass(frozen=True)
class PurchaseLine:
    """A purchase with its package and event, as lists and pages show it."""

    purchase: PackagePurchase
    package: Package
    event: Event
    buyer: User


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def refusal(package: Package, now: datetime) -> ReasonError | None:
    """Why the package cannot be bought at `now` (the seed's PACKAGE_* code), or None."""
    if package.status == PackageStatus.EXPIRED:
        return ReasonError(Reason.PACKAGE_EXPIRED, {"closed": _iso(package.sale_end_date)})
    if package.status == PackageStatus.SOLD_OUT:
        return ReasonError(Reason.PACKAGE_SOLD_OUT)
    if package.status != PackageStatus.ACTIVE:
        return ReasonError(Reason.PACKAGE_INACTIVE, {"status": package.status})
    if package.sale_start_date is not None and now < package.sale_start_date:
        return ReasonError(Reason.PACKAGE_EXPIRED, {"opens": _iso(package.sale_start_date)})
    if package.sale_end_date is not None and now >= package.sale_end_date:
        return ReasonError(Reason.PACKAGE_EXPIRED, {"closed": _iso(package.sale_end_date)})
    if package.max_quantity is not None and package.sold_quantity >= package.max_quantity:
        return ReasonError(Reason.PACKAGE_SOLD_OUT)
    return None


def _refuse_unless_on_sale(package: Package, now: datetime) -> None:
    refused = refusal(package, now)
    if refused is None:
        return
    closed = package.sale_end_date is not None and now >= package.sale_end_date
    if package.status == PackageStatus.ACTIVE and closed:
        package.status = PackageStatus.EXPIRED
    raise refused


def _refuse_over_limit(session: Session, package: Package, user_id: uuid.UUID) -> None:
    if package.max_per_user is None:
        return
    bought = session.scalar(
        select(func.count())
        .select_from(PackagePurchase)
        .where(
            PackagePurchase.package_id == package.id,
            PackagePurchase.user_id == user_id,
            PackagePurchase.status.in_(COUNTED_PURCHASE_STATUSES),
        )
    )
    if (bought or 0) >= package.max_per_user:
        raise ReasonError(
            Reason.PACKAGE_MAX_PER_USER_EXCEEDED,
            {"bought": bought, "max_per_user": package.max_per_user},
        )


def _bracelet_ids(items: Sequence[PackageItem]) -> list[str]:
    return [
        f"BR-{secrets.token_hex(5).upper()}"
        for item in items
        if item.type == PackageItemType.BRACELET
        for _ in range(item.quantity)
    ]


def _take_unit(session: Session, package: Package) -> None:
    sold = rows.take_slot(session, package, counter=Package.sold_quantity, cap=Package.max_quantity)
    if sold is None:
        raise ReasonError(Reason.PACKAGE_SOLD_OUT)
    packages.settle_stock_status(package)


def purchase(
    session: Session,
    *,
    package_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
    signing_key: SigningKey,
    provider: PaymentProvider | None = None,
    payment_method: str | None = None,
) -> PackagePurchase:
    """Sell one unit to a user: a purchase with bracelet ids, a signed QR and its payment step."""
    money.check_aware(now, "now")
    if payment_method is not None and payment_method not in _PAYMENT_METHODS:
        raise InvalidInput(f"payment_method must be one of {list(PaymentMethod)}")
    package = packages.get_locked(session, package_id=package_id)
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} not found")
    try:
        _refuse_unless_on_sale(package, now)
    except ReasonError:
        session.flush()  # keep an EXPIRED flip in the caller's transaction
        raise
    _refuse_over_limit(session, package, user_id)
    _take_unit(session, package)
    amount = package.original_price if package.original_price is not None else package.price
    purchase_id = uuid.uuid4()
    step = provider.start(purchase_id=purchase_id, amount=package.price) if provider else None
    status = step.status if step is not None else PurchaseStatus.PAID
    token = issue_token(
        signing_key, TokenKind.PURCHASE, purchase_id, package.event_id, issued_at=now
    )
    bought = PackagePurchase(
        id=purchase_id,
        package_id=package.id,
        user_id=user_id,
        event_id=package.event_id,
        promoter_id=package.promoter_id,
        status=status,
        amount=amount,
        final_amount=package.price,
        discount_amount=amount - package.price,
        payment_method=provider.method if provider is not None else payment_method,
        django_bracelet_ids=_bracelet_ids(packages.list_items(session, package_id=package.id)),
        qr_token=token,
        paid_at=now if status == PurchaseStatus.PAID else None,
        created_at=now,
    )
    session.add(bought)
    qr_codes.keep_drawing(session, token)
    session.flush()
    session.add_all(
        PurchaseBracelet(
            bracelet_id=bracelet, purchase_id=bought.id, event_id=bought.event_id, user_id=user_id
        )
        for bracelet in bought.django_bracelet_ids
    )
    session.flush()
    return bought


def unknown() -> ReasonError:
    """The refusal for a missing purchase (or one the caller may not see)."""
    return ReasonError(Reason.UNKNOWN_PURCHASE, status=404)


def get_purchase(session: Session, *, purchase_id: uuid.UUID) -> PackagePurchase:
    """A purchase, or UNKNOWN_PURCHASE."""
    return rows.get(session, PackagePurchase, purchase_id, unknown)


def take_door_payment(found: PackagePurchase, now: datetime) -> None:
    """Record the money a door took for a pay-at-the-door purchase (nothing for a paid one)."""
    if door_collects_payment(found.status, found.payment_method):
        found.status = PurchaseStatus.PAID
        found.paid_at = now


def activate(
    session: Session,
    *,
    purchase_id: uuid.UUID,
    now: datetime,
    device_id: uuid.UUID | None = None,
) -> PackagePurchase:
    """Activate a purchase's bracelets once (paid, or paid at the door now); ALREADY_ACTIVATED
    says when it happened."""
    money.check_aware(now, "now")
    found = rows.get(session, PackagePurchase, purchase_id, unknown, lock=True)
    if not door_may_activate(found.status, found.payment_method):
        raise ReasonError(Reason.PURCHASE_NOT_PAID, {"status": found.status})
    if found.activated_at is not None:
        raise ReasonError(Reason.ALREADY_ACTIVATED, {"when": found.activated_at.isoformat()})
    take_door_payment(found, now)
    found.activated_at = now
    found.activated_by_device_id = device_id
    session.flush()
    return found


def mark_paid(session: Session, *, purchase_id: uuid.UUID, now: datetime) -> PackagePurchase:
    """Mark a PENDING purchase PAID (HQ or the promoter); again changes nothing."""
    money.check_aware(now, "now")
    found = rows.get(session, PackagePurchase, purchase_id, unknown, lock=True)
    if found.status == PurchaseStatus.PENDING:
        found.status = PurchaseStatus.PAID
        found.paid_at = now
        session.flush()
    elif found.status != PurchaseStatus.PAID:
        raise Conflict(
            f"purchase {found.id} is {found.status}; only a PENDING one can be marked paid",
            code="purchase_not_pending",
        )
    return found


def _lines(session: Session, *conditions: object) -> list[PurchaseLine]:
    query = (
        select(PackagePurchase, Package, Event, User)
        .join(Package, Package.id == PackagePurchase.package_id)
        .join(Event, Event.id == PackagePurchase.event_id)
        .join(User, User.id == PackagePurchase.user_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(PackagePurchase.created_at.desc(), PackagePurchase.id)
    )
    return [PurchaseLine(*row) for row in session.execute(query).all()]


def get_line(session: Session, *, purchase_id: uuid.UUID) -> PurchaseLine:
    """One purchase with its package, event and buyer, or UNKNOWN_PURCHASE."""
    found = _lines(session, PackagePurchase.id == purchase_id)
    if not found:
        raise unknown()
    return found[0]


def list_for_user(session: Session, *, user_id: uuid.UUID) -> list[PurchaseLine]:
    """A buyer's purchases, newest first."""
    return _lines(session, PackagePurchase.user_id == user_id)


def list_for_event(
    session: Session, *, event_id: uuid.UUID, status: str | None = None
) -> list[PurchaseLine]:
    """An event's purchases (optionally in one status), newest first."""
    conditions: list[object] = [PackagePurchase.event_id == event_id]
    if status is not None:
        conditions.append(PackagePurchase.status == status)
    return _lines(session, *conditions)
