"""What the checks make of a new op: its typed subject, or why it is refused.

Ops that decide the same thing share a subject and are decided together in
the contract's order: one ticket (scans and manual check-ins), one card
(stamps, claims and unstamps of one customer on one offer), one purchase
(activations). An op with no such subject is decided alone, once
(`RecordOnly`): a static refusal, or a fact recorded as it is (a door's
`scan.refused`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from core.reasons import Reason, explain
from core.wire import Op, Payload
from server.db.models import Device, Offer, PackagePurchase


class TicketFacts(NamedTuple):
    """What push needs of a ticket, read as a plain row (a batch reads hundreds)."""

    id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID
    status: str
    qr_token: str


@dataclass(frozen=True, slots=True)
class TicketSubject:
    """One ticket: the first valid scan or check-in admits, later ones are re-entries."""

    ticket: TicketFacts

    @property
    def key(self) -> str:
        """The subject's key in the op log."""
        return f"ticket:{self.ticket.id}"


@dataclass(frozen=True, slots=True)
class CardSubject:
    """One customer's card on one offer: stamps, claims and unstamps replayed in order."""

    offer: Offer
    user_id: uuid.UUID

    @property
    def key(self) -> str:
        """The subject's key in the op log."""
        return f"card:{self.offer.id}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class PurchaseSubject:
    """One package purchase: the first activation applies."""

    purchase: PackagePurchase

    @property
    def key(self) -> str:
        """The subject's key in the op log."""
        return f"purchase:{self.purchase.id}"


@dataclass(frozen=True, slots=True)
class RecordOnly:
    """Decided alone and once: a static refusal, or a fact recorded as it is."""

    key: None = None


Subject = TicketSubject | CardSubject | PurchaseSubject


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an op is refused on its own (a reason from the closed set, and its details)."""

    reason: Reason
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The reason in words, with its details."""
        return explain(self.reason, self.context)


@dataclass(frozen=True, slots=True)
class Checked:
    """A new op after its own checks: its payload (when it parsed), subject and any refusal."""

    op: Op
    payload: Payload | None
    subject: Subject | RecordOnly
    refusal: Refusal | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Who made a push's ops: a paired device, or a person acting online through the API."""

    device_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None  # a door device's event (its refused scans belong to it)

    @classmethod
    def of(cls, device: Device) -> Origin:
        """The origin of a device's outbox."""
        return cls(device_id=device.id, event_id=device.event_id)
