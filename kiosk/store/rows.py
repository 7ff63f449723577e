"""The row types the cache's reads return: each a pulled row as the kiosk uses it.

Their fields are read by name from the table of the same section
(`kiosk.store.tables`): a field here is a column there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CachedEvent:
    """An event as last pulled."""

    id: uuid.UUID
    name: str
    is_soca_passport_enabled: bool
    stamp_points_default: int
    pulled_at_ack: int
    starts_at: datetime | None = None
    venue: str | None = None
    country_code: str | None = None
    carnival_circuit: str | None = None


@dataclass(frozen=True, slots=True)
class CachedTicket:
    """A ticket as last pulled, with the server's first check-in if it knew one."""

    id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID | None
    holder_name: str | None
    handle: str | None
    code: str | None
    revoked: bool
    checked_in_at: datetime | None
    checked_in_gate: str | None
    checked_in_device: str | None


@dataclass(frozen=True, slots=True)
class CachedPassport:
    """A passport as last pulled."""

    user_id: uuid.UUID
    handle: str
    total_points: int
    current_tier: str
    revoked: bool
    pulled_at_ack: int


@dataclass(frozen=True, slots=True)
class CachedOffer:
    """A stamp-card offer as last pulled."""

    id: uuid.UUID
    branch_id: uuid.UUID
    name: str
    max_stamps: int
    prize: str | None
    loyalty_tiers: dict[str, Any] | None
    active: bool


@dataclass(frozen=True, slots=True)
class CachedCard:
    """One customer's card on one offer as last pulled."""

    offer_id: uuid.UUID
    user_id: uuid.UUID
    current_stamps: int
    rewards_claimed: int
    last_activity_at: datetime | None
    expired: bool
    pulled_at_ack: int
    holder_name: str | None = None
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class CachedPurchase:
    """A package purchase as last pulled."""

    id: uuid.UUID
    user_id: uuid.UUID
    event_id: uuid.UUID | None
    package_name: str | None
    status: str
    activated_at: datetime | None
    payment_method: str | None = None
    final_amount: str | None = None


@dataclass(frozen=True, slots=True)
class CachedScan:
    """A door scan the server recorded."""

    gate: str | None
    scanned_at: datetime
    device_id: str | None
