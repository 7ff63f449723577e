"""Seed 003's pre-event packages: the catalogue, purchases, and activation at the door.

Decisions, named so the API, the door and the tests can point at them:

- **Half-open sale window.** A package is on sale when
  `sale_start_date <= now < sale_end_date` (a missing bound is open). Outside
  it in either direction a purchase is refused with PACKAGE_EXPIRED (its
  context says `opens` or `closed`); past the end an ACTIVE package is also
  flipped to EXPIRED in the caller's transaction. An edge that rolls back on
  errors loses that flip, so `expire_packages` is the durable sweep.
- **Status is settled, not trusted.** DRAFT, ACTIVE and INACTIVE are set by
  the promoter; SOLD_OUT and EXPIRED by the system. The sale that takes the
  last unit sets SOLD_OUT; raising `max_quantity` on a SOLD_OUT package puts
  it back to ACTIVE, and an ACTIVE package with no stock left becomes SOLD_OUT.
- **Stock under concurrency** and payment: see `purchases`, which sells units.
- **Delete refuses after a sale.** A package with any purchase (in any
  status) cannot be deleted: `delete` raises Conflict and the promoter sets
  it INACTIVE instead, so purchases, their tokens and bracelets keep their
  package.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from core.reasons import Reason
from server.db.models import Event, Package, PackageItem, PackagePurchase
from server.db.models.enums import PackageItemType, PackageStatus
from server.domain import checks, money, rows
from server.domain.promoters import FieldErrors
from server.domain.unset import UNSET, Unset
from server.errors import Conflict, InvalidInput, NotFound, ReasonError

#: Statuses a promoter may set; SOLD_OUT and EXPIRED are the system's.
SETTABLE_STATUSES: Final = frozenset(
    {PackageStatus.DRAFT, PackageStatus.ACTIVE, PackageStatus.INACTIVE}
)
_ITEM_TYPES: Final = frozenset(PackageItemType)


@dataclass(frozen=True)
class ItemSpec:
    """One line of a package as the promoter describes it."""

    name: str
    type: str
    quantity: int = 1
    bracelet_amount: Decimal | None = None
    description: str | None = None


# ---------------------------------------------------------------- validation


def _invalid_price(detail: str) -> ReasonError:
    return ReasonError(Reason.PACKAGE_INVALID_PRICE, {"detail": detail}, status=422)


def _invalid_quantity(detail: str) -> ReasonError:
    return ReasonError(Reason.PACKAGE_INVALID_QUANTITY, {"detail": detail}, status=422)


def _check_money(value: Decimal, field: str) -> Decimal:
    return money.checked(value, limits.PRICE, field=field, refuse=_invalid_price)


def _check_count(value: int | None, field: str, limit: limits.Whole) -> None:
    if value is not None and not limit.contains(value):
        raise _invalid_quantity(f"{field} must be {limit.words()}")


def _check_texts(texts: Sequence[tuple[str, str | None, limits.Text]]) -> None:
    errors: dict[str, str] = {}
    for field, value, limit in texts:
        required = "Please fill it in." if limit.min_length else None
        checks.text(errors, field, value, limit, required=required)
    if errors:
        raise FieldErrors(errors)


def _validate(package: Package) -> None:
    _check_texts(
        [
            ("name", package.name, limits.PACKAGE_NAME),
            ("description", package.description, limits.DESCRIPTION),
        ]
    )
    package.price = _check_money(package.price, "price")
    if package.original_price is not None:
        package.original_price = _check_money(package.original_price, "original_price")
        if package.original_price < package.price:
            raise _invalid_price("original_price is below price")
    _check_count(package.max_quantity, "max_quantity", limits.STOCK)
    _check_count(package.max_per_user, "max_per_user", limits.PER_USER)
    if package.max_quantity is not None and package.max_quantity < package.sold_quantity:
        raise _invalid_quantity(
            f"max_quantity {package.max_quantity} is below the {package.sold_quantity} sold"
        )
    money.check_aware(package.sale_start_date, "sale_start_date")
    money.check_aware(package.sale_end_date, "sale_end_date")
    start, end = package.sale_start_date, package.sale_end_date
    if start is not None and end is not None and end <= start:
        raise InvalidInput("sale_end_date must be after sale_start_date")


def _check_status(status: str) -> str:
    if status not in SETTABLE_STATUSES:
        raise InvalidInput(f"status must be one of {sorted(SETTABLE_STATUSES)}, not {status!r}")
    return status


def settle_stock_status(package: Package) -> None:
    """SOLD_OUT when the stock is gone, ACTIVE again when `max_quantity` was raised."""
    package.status = rows.settled(
        package.status,
        count=package.sold_quantity,
        cap=package.max_quantity,
        active=PackageStatus.ACTIVE,
        full=PackageStatus.SOLD_OUT,
    )


def _build_items(package_id: uuid.UUID, items: Sequence[ItemSpec]) -> list[PackageItem]:
    if len(items) > limits.PACKAGE_ITEMS:
        raise InvalidInput(f"a package holds at most {limits.PACKAGE_ITEMS} items")
    built = []
    for index, spec in enumerate(items):
        _check_texts(
            [
                (f"items.{index}.name", spec.name, limits.PACKAGE_ITEM_NAME),
                (f"items.{index}.description", spec.description, limits.DESCRIPTION),
            ]
        )
        if spec.type not in _ITEM_TYPES:
            raise InvalidInput(f"item type must be one of {list(PackageItemType)}")
        _check_count(spec.quantity, f"item {spec.name!r} quantity", limits.PER_USER)
        amount = spec.bracelet_amount
        if amount is not None:
            if spec.type != PackageItemType.BRACELET:
                raise InvalidInput("only BRACELET items carry a bracelet_amount")
            amount = _check_money(amount, "bracelet_amount")
        built.append(
            PackageItem(
                package_id=package_id,
                name=spec.name,
                description=spec.description,
                type=spec.type,
                quantity=spec.quantity,
                bracelet_amount=amount,
            )
        )
    return built


# ---------------------------------------------------------------- catalogue


def _not_found() -> ReasonError:
    return ReasonError(Reason.PACKAGE_NOT_FOUND, status=404)


def get(session: Session, *, package_id: uuid.UUID) -> Package:
    """A package, or PACKAGE_NOT_FOUND."""
    return rows.get(session, Package, package_id, _not_found)


def get_locked(session: Session, *, package_id: uuid.UUID) -> Package:
    """A package locked for a decision (see `rows`), or PACKAGE_NOT_FOUND."""
    return rows.get(session, Package, package_id, _not_found, lock=True)


def list_(
    session: Session, *, event_id: uuid.UUID | None = None, status: str | None = None
) -> list[Package]:
    """Packages, optionally of one event and in one status, oldest first."""
    return rows.list_for_event(session, Package, event_id=event_id, status=status)


def list_items(session: Session, *, package_id: uuid.UUID) -> list[PackageItem]:
    """The items of a package, by type then name."""
    query = select(PackageItem).where(PackageItem.package_id == package_id)
    return list(session.scalars(query.order_by(PackageItem.type, PackageItem.name, PackageItem.id)))


def create(
    session: Session,
    *,
    event_id: uuid.UUID,
    name: str,
    price: Decimal,
    original_price: Decimal | None = None,
    description: str | None = None,
    max_quantity: int | None = None,
    max_per_user: int | None = 1,
    sale_start_date: datetime | None = None,
    sale_end_date: datetime | None = None,
    status: str = PackageStatus.DRAFT,
    promoter_id: uuid.UUID | None = None,
    items: Sequence[ItemSpec] = (),
) -> Package:
    """Create a validated package with its items (promoter defaults to the event's)."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    package = Package(
        id=uuid.uuid4(),
        event_id=event_id,
        promoter_id=promoter_id if promoter_id is not None else event.promoter_id,
        name=name,
        description=description,
        status=_check_status(status),
        price=price,
        original_price=original_price,
        max_quantity=max_quantity,
        sold_quantity=0,
        max_per_user=max_per_user,
        sale_start_date=sale_start_date,
        sale_end_date=sale_end_date,
    )
    _validate(package)
    built = _build_items(package.id, items)
    session.add(package)
    session.flush()  # the package row first: items reference it
    session.add_all(built)
    session.flush()
    return package


def update(
    session: Session,
    *,
    package_id: uuid.UUID,
    name: str | Unset = UNSET,
    description: str | Unset | None = UNSET,
    price: Decimal | Unset = UNSET,
    original_price: Decimal | Unset | None = UNSET,
    max_quantity: int | Unset | None = UNSET,
    max_per_user: int | Unset | None = UNSET,
    sale_start_date: datetime | Unset | None = UNSET,
    sale_end_date: datetime | Unset | None = UNSET,
    status: str | Unset = UNSET,
    items: Sequence[ItemSpec] | None = None,
) -> Package:
    """Change the given fields (items, when given, replace all items) and re-validate."""
    package = get_locked(session, package_id=package_id)
    if name is not UNSET:
        package.name = name
    if description is not UNSET:
        package.description = description
    if price is not UNSET:
        package.price = price
    if original_price is not UNSET:
        package.original_price = original_price
    if max_quantity is not UNSET:
        package.max_quantity = max_quantity
    if max_per_user is not UNSET:
        package.max_per_user = max_per_user
    if sale_start_date is not UNSET:
        package.sale_start_date = sale_start_date
    if sale_end_date is not UNSET:
        package.sale_end_date = sale_end_date
    if status is not UNSET:
        package.status = _check_status(status)
    try:
        _validate(package)
    except (ReasonError, InvalidInput):
        session.expire(package)  # drop the refused changes (FieldErrors is an InvalidInput)
        raise
    settle_stock_status(package)
    if items is not None:
        built = _build_items(package.id, items)
        session.execute(sql_delete(PackageItem).where(PackageItem.package_id == package.id))
        session.add_all(built)
    session.flush()
    return package


def delete(session: Session, *, package_id: uuid.UUID) -> None:
    """Delete a package nobody bought; after a sale raise Conflict (set it INACTIVE instead)."""
    package = get_locked(session, package_id=package_id)
    purchases = session.scalar(
        select(func.count())
        .select_from(PackagePurchase)
        .where(PackagePurchase.package_id == package.id)
    )
    if purchases or package.sold_quantity:
        raise Conflict(
            f"package {package.id} has {purchases} purchase(s); set it INACTIVE instead",
            code="package_has_purchases",
        )
    session.execute(sql_delete(PackageItem).where(PackageItem.package_id == package.id))
    session.delete(package)
    session.flush()


def expire_packages(session: Session, *, now: datetime) -> int:
    """Flip ACTIVE packages whose sale has ended to EXPIRED; return how many."""
    money.check_aware(now, "now")
    ended = list(
        session.scalars(
            select(Package)
            .where(
                Package.status == PackageStatus.ACTIVE,
                Package.sale_end_date.is_not(None),
                Package.sale_end_date <= now,
            )
            .order_by(Package.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )
    for package in ended:
        package.status = PackageStatus.EXPIRED
    session.flush()
    return len(ended)
