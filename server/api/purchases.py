"""Package purchases (issue 18): an attendee buys, lists their own; the promoter lists and settles.

- `POST /api/v1/packages/{package_id}/purchases` `{"payment": "cash"}` (any
  signed-in person, for themselves) → 201, the purchase with its `qr`, its
  status (pay at the door: PENDING) and what to do next. Refusals carry the
  seed's codes (`PACKAGE_SOLD_OUT`, `PACKAGE_EXPIRED`, ...).
- `GET /api/v1/purchases` → the caller's own purchases, newest first.
- `GET /api/v1/events/{event_id}/purchases` (HQ, the event's promoter).
- `POST /api/v1/purchases/{purchase_id}/paid` (HQ, the event's promoter)
  marks a PENDING purchase PAID; again changes nothing.

Views use the seed's camelCase; money is a decimal string.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import ConfigDict

from server.api import tenancy
from server.api.auth import USER_ROLES, PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import CamelRequest, CamelView
from server.db.models import PackagePurchase, utcnow
from server.db.models.enums import PurchaseStatus
from server.domain import keys, payments, purchases
from server.domain.purchases import PurchaseLine
from server.errors import NotFound

router = APIRouter(tags=["purchases"], route_class=PolicyRoute)
Buyer = Annotated[Principal, allow(*USER_ROLES)]
Owner = Annotated[Principal, allow(Role.HQ, Role.PROMOTER)]

_EXAMPLE: dict[str, Any] = {
    "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
    "packageId": "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a",
    "packageName": "Early Bird VIP Package",
    "eventId": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "eventName": "Soca Sunrise",
    "userId": "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60",
    "status": "PENDING",
    "amount": "105.00",
    "finalAmount": "95.00",
    "discountAmount": "10.00",
    "paymentMethod": "CASH",
    "djangoBraceletIds": ["BR-8F3A21C9D0", "BR-11B2C3D4E5"],
    "qr": "1" + "0" * 120,
    "paidAt": None,
    "activatedAt": None,
    "createdAt": "2026-01-05T10:00:00Z",
    "instructions": "Pay €95.00 in cash at the door: show this QR, pay, and the door hands "
    "over your bracelets.",
}


class PurchaseRequest(CamelRequest):
    """How the buyer pays; "cash" (pay at the door) is the one provider today."""

    payment: Literal["cash"] = "cash"

    model_config = ConfigDict(json_schema_extra={"examples": [{"payment": "cash"}]})


class PurchaseView(CamelView):
    """A purchase; `qr` is the exact text its QR code carries."""

    id: uuid.UUID
    package_id: uuid.UUID
    package_name: str
    event_id: uuid.UUID
    event_name: str
    user_id: uuid.UUID
    status: str
    amount: Decimal
    final_amount: Decimal
    discount_amount: Decimal | None
    payment_method: str | None
    django_bracelet_ids: list[str]
    qr: str | None
    paid_at: datetime | None
    activated_at: datetime | None
    created_at: datetime
    instructions: str | None

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    @classmethod
    def of(cls, line: PurchaseLine) -> PurchaseView:
        """The view of one purchase line."""
        bought = line.purchase
        return cls(
            id=bought.id,
            package_id=bought.package_id,
            package_name=line.package.name,
            event_id=bought.event_id,
            event_name=line.event.name,
            user_id=bought.user_id,
            status=bought.status,
            amount=bought.amount,
            final_amount=bought.final_amount,
            discount_amount=bought.discount_amount,
            payment_method=bought.payment_method,
            django_bracelet_ids=[str(b) for b in bought.django_bracelet_ids],
            qr=bought.qr_token,
            paid_at=bought.paid_at,
            activated_at=bought.activated_at,
            created_at=bought.created_at,
            instructions=instructions(bought),
        )


def instructions(bought: PackagePurchase) -> str | None:
    """What the buyer does next, while the purchase waits for its payment."""
    if bought.status != PurchaseStatus.PENDING:
        return None
    for provider in payments.PROVIDERS.values():
        if provider.method == bought.payment_method:
            return provider.start(purchase_id=bought.id, amount=bought.final_amount).instructions
    return None


@router.post("/api/v1/packages/{package_id}/purchases", status_code=201)
def buy_package(
    package_id: uuid.UUID,
    session: DbSession,
    caller: Buyer,
    body: Annotated[
        PurchaseRequest | None, Body(openapi_examples={"cash": {"value": {"payment": "cash"}}})
    ] = None,
) -> PurchaseView:
    """Buy one unit of an ACTIVE package on sale, for the caller."""
    assert caller.user_id is not None
    provider = payments.provider((body or PurchaseRequest()).payment)
    bought = purchases.purchase(
        session,
        package_id=package_id,
        user_id=caller.user_id,
        now=utcnow(),
        signing_key=keys.current_signing_key(session),
        provider=provider,
    )
    return PurchaseView.of(purchases.get_line(session, purchase_id=bought.id))


@router.get("/api/v1/purchases")
def my_purchases(session: DbSession, caller: Buyer) -> list[PurchaseView]:
    """The caller's own purchases, newest first."""
    assert caller.user_id is not None
    return [
        PurchaseView.of(line) for line in purchases.list_for_user(session, user_id=caller.user_id)
    ]


@router.get("/api/v1/events/{event_id}/purchases")
def event_purchases(
    event_id: uuid.UUID, session: DbSession, caller: Owner, status: PurchaseStatus | None = None
) -> list[PurchaseView]:
    """The purchases of one of the caller's events (optionally in one status), newest first."""
    event = tenancy.event(session, caller, event_id)
    found = purchases.list_for_event(session, event_id=event.id, status=status)
    return [PurchaseView.of(line) for line in found]


@router.post("/api/v1/purchases/{purchase_id}/paid")
def mark_paid(purchase_id: uuid.UUID, session: DbSession, caller: Owner) -> PurchaseView:
    """Mark a PENDING purchase of one of the caller's events PAID (again: no change)."""
    found = purchases.get_purchase(session, purchase_id=purchase_id)
    try:
        tenancy.event(session, caller, found.event_id)
    except NotFound:
        raise purchases.unknown() from None
    purchases.mark_paid(session, purchase_id=found.id, now=utcnow())
    return PurchaseView.of(purchases.get_line(session, purchase_id=found.id))
