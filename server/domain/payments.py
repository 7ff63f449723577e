"""The payment step of a package purchase, behind one small interface.

Seed 003 has no payment integration yet, so one real provider exists: "pay
at the door" (`CashAtTheDoor`). Its purchases are PENDING until the door
takes the money and activates them (`core.purchases.door_collects_payment`)
or HQ or the promoter marks them PAID (`purchases.mark_paid`).

A card provider fills the same interface: `start` would create a payment
with the processor and return a PENDING step whose `redirect_url` sends the
buyer to pay; the processor's webhook would then call `purchases.mark_paid`
(or cancel). A provider that settles at once returns a PAID step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from server.db.models.enums import PaymentMethod, PurchaseStatus
from server.domain import money
from server.errors import InvalidInput


@dataclass(frozen=True)
class PaymentStep:
    """What happens after the unit is taken: the purchase's status and what the buyer does."""

    status: PurchaseStatus
    instructions: str
    redirect_url: str | None = None


class PaymentProvider(Protocol):
    """A way to pay for a package (see the module notes)."""

    key: str  # as forms and the API name it: "cash"
    label: str  # as the buy button reads
    method: PaymentMethod  # stored on the purchase

    def start(self, *, purchase_id: uuid.UUID, amount: Decimal) -> PaymentStep:
        """Begin paying `amount` for the purchase; never commits."""
        ...


class CashAtTheDoor:
    """Pay at the door in cash: PENDING until the door takes the money and activates it."""

    key = "cash"
    label = "Pay at the door"
    method = PaymentMethod.CASH

    def start(self, *, purchase_id: uuid.UUID, amount: Decimal) -> PaymentStep:
        """A PENDING step telling the buyer what to bring."""
        del purchase_id  # nothing to register with anyone
        return PaymentStep(
            status=PurchaseStatus.PENDING,
            instructions=(
                f"Pay {money.words(amount)} in cash at the door: show this QR, pay, "
                "and the door hands over your bracelets."
            ),
        )


#: Every provider a buyer may choose, by key.
PROVIDERS: Final[dict[str, PaymentProvider]] = {CashAtTheDoor.key: CashAtTheDoor()}
DEFAULT: Final = CashAtTheDoor.key


def provider(key: str) -> PaymentProvider:
    """The provider named `key`, or InvalidInput listing the choices."""
    found = PROVIDERS.get(key)
    if found is None:
        raise InvalidInput(f"payment must be one of {sorted(PROVIDERS)}, not {key!r}")
    return found
