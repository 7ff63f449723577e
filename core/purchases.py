"""Who may activate a package purchase at the door: one rule for the kiosk and the server.

A PAID purchase is activated (the bracelets handed over). A PENDING purchase
bought with "pay at the door" (payment method CASH) is activated too: the door
takes the money first, and the activation records it as PAID. Anything else
(PENDING by card, CANCELLED, REFUNDED) is refused as not paid.
"""

from __future__ import annotations

from typing import Final

PAID: Final = "PAID"
PENDING: Final = "PENDING"
CASH: Final = "CASH"


def door_collects_payment(status: str, payment_method: str | None) -> bool:
    """True when the door takes the money before handing over the bracelets."""
    return status == PENDING and payment_method == CASH


def door_may_activate(status: str, payment_method: str | None) -> bool:
    """True when the door may activate this purchase (paid, or paid at the door now)."""
    return status == PAID or door_collects_payment(status, payment_method)
