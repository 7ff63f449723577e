"""Money and moments as packages and rewards check them: one copy for both.

Amounts are Decimals bounded by a `core.limits.Money` and kept to the cent;
the caller names the refusal (PACKAGE_INVALID_PRICE, REWARD_INVALID_AMOUNT,
a plain 422), so each service keeps the seed's codes. Moments the services
take must be timezone-aware and inside `limits.DATE_TIME`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from core import limits
from server.errors import FieldErrors, InvalidInput


def checked(
    value: Decimal, limit: limits.Money, *, field: str, refuse: Callable[[str], Exception]
) -> Decimal:
    """`value` to the cent when `limit` admits it; else `refuse(detail)` is raised."""
    if not limit.contains(value):
        raise refuse(f"{field} must be {limit.words()} with at most 2 decimals")
    return value.quantize(limits.CENT)


def check_aware(value: datetime | None, field: str) -> None:
    """Refuse a naive moment (InvalidInput) or one outside DATE_TIME (FieldErrors)."""
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{field} must be timezone-aware")
    if value is not None and not limits.DATE_TIME.contains(value):
        raise FieldErrors({field: f"Use {limits.DATE_TIME.words()}."})


def words(amount: Decimal, currency: str | None = None) -> str:
    """An amount as a page shows it: "€8.00", "TTD 120.00"."""
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency or "EUR")
    return f"{symbol}{amount:,.2f}" if symbol else f"{currency} {amount:,.2f}"
