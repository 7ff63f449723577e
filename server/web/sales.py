"""Packages for sale on the event page, buying one, and the purchases and rewards on /passport.

The event page lists the event's packages that are ACTIVE or SOLD_OUT: price,
the original price as the saving, what is inside, stock left when low, the
sale window, and a buy button while `purchases.refusal` finds nothing in the
way. A signed-in visitor buys with "pay at the door" (`payments`); a refusal
re-shows the page with the seed's PACKAGE_* code in words (`refusal_words`).
/passport shows each purchase with its QR (the door activates it and hands
over the bracelets) and the rewards earned at events, applied or not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from fastapi import Request, Response
from sqlalchemy.orm import Session

from core.reasons import Reason, explain
from server.api.deps import DbSession
from server.db.models import Event, Package, PackageItem, PackagePurchase, utcnow
from server.db.models.enums import PackageStatus, PurchaseStatus
from server.domain import events, keys, packages, payments, purchases, qr_codes, redemption_lists
from server.errors import NotFound, ReasonError
from server.web.auth import CheckedForm, SignedInUser, field
from server.web.forms import done
from server.web.render import render
from server.web.routing import page_router
from server.web.wording import amount, venue_when

router = page_router()

#: Stock is shown once this few (or fewer) are left.
LOW_STOCK: Final = 10
_LISTED: Final = (PackageStatus.ACTIVE, PackageStatus.SOLD_OUT)


@dataclass(frozen=True)
class PackageCard:
    """A package as the event page shows it."""

    package: Package
    items: list[PackageItem]
    saving: Decimal | None
    left: int | None  # shown when low
    refusal: str | None  # why it cannot be bought now, in words
    code: str | None  # the seed's code behind `refusal`


def refusal_words(error: ReasonError, zone: str | None = None) -> str:
    """A PACKAGE_* refusal as the buyer reads it."""
    context = error.context or {}
    reason = error.reason
    if reason is Reason.PACKAGE_SOLD_OUT:
        return "Sold out: every one has been bought."
    if reason is Reason.PACKAGE_EXPIRED and context.get("opens"):
        opens = datetime.fromisoformat(str(context["opens"]))
        return f"Not on sale yet: sales open {venue_when(opens, zone)}."
    if reason is Reason.PACKAGE_EXPIRED:
        closed = context.get("closed")
        when = f" on {venue_when(datetime.fromisoformat(str(closed)), zone)}" if closed else ""
        return f"Sales have closed{when}."
    if reason is Reason.PACKAGE_INACTIVE:
        return "Not on sale right now."
    if reason is Reason.PACKAGE_MAX_PER_USER_EXCEEDED:
        limit = context.get("max_per_user")
        return f"You already have this package: the limit is {limit} per person."
    if reason is Reason.PACKAGE_NOT_FOUND:
        return "We couldn't find that package."
    return explain(reason, context)


def _card(session: Session, package: Package, now: datetime, zone: str | None) -> PackageCard:
    refused = purchases.refusal(package, now)
    left = None
    if package.max_quantity is not None:
        remaining = package.max_quantity - package.sold_quantity
        left = remaining if 0 < remaining <= LOW_STOCK else None
    original = package.original_price
    return PackageCard(
        package=package,
        items=packages.list_items(session, package_id=package.id),
        saving=original - package.price
        if original is not None and original > package.price
        else None,
        left=left,
        refusal=refusal_words(refused, zone) if refused is not None else None,
        code=refused.reason.value if refused is not None else None,
    )


def shop_context(session: Session, *, event: Event, now: datetime) -> dict[str, Any]:
    """What the event page adds for its packages."""
    listed = [p for p in packages.list_(session, event_id=event.id) if p.status in _LISTED]
    return {
        "shop": [_card(session, package, now, event.time_zone) for package in listed],
        "payment_label": payments.PROVIDERS[payments.DEFAULT].label,
    }


def event_page(
    request: Request,
    session: Session,
    event: Event,
    *,
    refused: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The event page, with its packages and, after a refused purchase, why."""
    context = {
        "event": event,
        "refused": refused,
        **shop_context(session, event=event, now=utcnow()),
    }
    return render(request, "event.html", context, status=status)


def _parse(raw: str, noun: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"We couldn't find that {noun}.") from None


@router.post("/events/{event_id}/packages/{package_id}/buy")
def buy(
    request: Request,
    event_id: str,
    package_id: str,
    session: DbSession,
    user: SignedInUser,
    form: CheckedForm,
) -> Response:
    """Buy one unit for the signed-in visitor; a refusal says why, in words."""
    assert user.user is not None
    event = events.get(session, event_id=_parse(event_id, "event"))
    package = session.get(Package, _parse(package_id, "package"))
    if package is None or package.event_id != event.id:
        raise NotFound("We couldn't find that package.")
    provider = payments.provider(field(form, "payment") or payments.DEFAULT)
    try:
        bought = purchases.purchase(
            session,
            package_id=package.id,
            user_id=user.user.id,
            now=utcnow(),
            signing_key=keys.current_signing_key(session),
            provider=provider,
        )
    except ReasonError as refused:
        words = {"package_id": str(package.id), "code": refused.reason.value}
        words["words"] = refusal_words(refused, event.time_zone)
        return event_page(request, session, event, refused=words, status=409)
    message = f"You bought {package.name}."
    if bought.status == PurchaseStatus.PENDING:
        message += f" Pay {amount(bought.final_amount)} at the door to get your bracelets."
    return done(f"/passport#purchase-{bought.id}", message)


# ------------------------------------------------------------------------ on /passport


def purchase_words(purchase: PackagePurchase) -> str:
    """Where a purchase stands, for its buyer."""
    if purchase.activated_at is not None:
        return "Activated: bracelets handed over"
    if purchase.status == PurchaseStatus.PENDING:
        return f"To pay at the door: {amount(purchase.final_amount)} in cash"
    if purchase.status == PurchaseStatus.PAID:
        return "Paid: show the QR at the door for your bracelets"
    return f"{purchase.status.title()}: this purchase no longer opens anything"


def wallet_links(purchase: PackagePurchase) -> list[dict[str, str]]:
    """Add-to-wallet links for a purchase: none yet (issue 12's wallet work fills this hook)."""
    del purchase
    return []


def _purchase_drawings(
    session: Session, lines: list[purchases.PurchaseLine]
) -> dict[uuid.UUID, str]:
    """The QR of each purchase still to be shown at the gate (paid or pending, not activated)."""
    showable = {PurchaseStatus.PAID, PurchaseStatus.PENDING}
    shown = {
        line.purchase.id: line.purchase.qr_token
        for line in lines
        if line.purchase.qr_token
        and line.purchase.status in showable
        and line.purchase.activated_at is None
    }
    drawings = qr_codes.token_drawings(session, shown.values())
    return {purchase_id: drawings[token] for purchase_id, token in shown.items()}


def passport_extras(
    session: Session, *, user_id: uuid.UUID, has_purchases: bool, has_earned: bool
) -> dict[str, Any]:
    """What /passport adds: the user's purchases (with their QR) and earned rewards (each
    read only when the caller knows there may be some)."""
    lines = purchases.list_for_user(session, user_id=user_id) if has_purchases else []
    return {
        "purchases": lines,
        "purchase_qr": _purchase_drawings(session, lines),
        "purchase_words": purchase_words,
        "wallet_links": wallet_links,
        "earned": redemption_lists.earned_by(session, user_id=user_id) if has_earned else [],
    }
