"""A small signed world for kiosk tests: keys, events, tickets, passports, an offer, purchases.

It builds the pull page a server would send, so tests fill a real kiosk cache
through the same `Cache.apply_page` a sync uses, and the QR texts a scanner
would read, signed with a key whose public half is in that page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.tokens import SigningKey, TokenKind, issue_token
from core.wire import (
    CardRow,
    DeviceRole,
    DeviceScope,
    EventRow,
    OfferRow,
    PassportRow,
    PublicKeyInfo,
    PullResponse,
    PurchaseRow,
    TicketRow,
)
from kiosk.settings import KioskSettings, load_settings
from kiosk.store.cache import Cache
from kiosk.store.config import DeviceConfig, new_config, save_config

NOW = datetime(2025, 2, 28, 21, 0, tzinfo=UTC)
FIRST_NAMES = ("Marcus", "Zoë", "Keisha", "Andre", "Shanice", "Kwame", "Aaliyah", "Devon")
LAST_NAMES = ("Boyce", "Baptiste", "Charles", "Joseph", "Williams", "Phillip", "Ramsaran")


@dataclass
class Attendee:
    """A ticket holder with a passport."""

    user_id: uuid.UUID
    name: str
    handle: str
    ticket_id: uuid.UUID
    ticket_code: str
    ticket_qr: str
    passport_qr: str
    points: int = 0
    tier: str = "BRONZE"


@dataclass
class World:
    """Everything a test kiosk needs, and the tokens to scan."""

    key: SigningKey
    event: EventRow
    other_event: EventRow
    branch_id: uuid.UUID
    offer: OfferRow
    attendees: list[Attendee]
    cards: list[CardRow] = field(default_factory=list)
    purchases: list[PurchaseRow] = field(default_factory=list)
    purchase_qrs: dict[uuid.UUID, str] = field(default_factory=dict)
    foreign_ticket_qr: str = ""

    def ticket_rows(self) -> list[TicketRow]:
        """The tickets as the pull sends them."""
        return [
            TicketRow(
                id=a.ticket_id,
                event_id=self.event.id,
                user_id=a.user_id,
                holder_name=a.name,
                handle=a.handle,
                code=a.ticket_code,
            )
            for a in self.attendees
        ]

    def passport_rows(self) -> list[PassportRow]:
        """The passports as the pull sends them."""
        return [
            PassportRow(
                user_id=a.user_id, handle=a.handle, total_points=a.points, current_tier=a.tier
            )
            for a in self.attendees
        ]

    def page(self, **overrides: Any) -> PullResponse:
        """One complete pull page holding the whole world."""
        data: dict[str, Any] = {
            "cursor": "1",
            "more": False,
            "server_time": NOW,
            "keys": [PublicKeyInfo.from_raw(self.key.key_id, self.key.public_bytes())],
            "events": [self.event, self.other_event],
            "tickets": self.ticket_rows(),
            "passports": self.passport_rows(),
            "offers": [self.offer],
            "cards": self.cards,
            "purchases": self.purchases,
        }
        data.update(overrides)
        return PullResponse(**data)


def code_for(index: int) -> str:
    """A ticket code in the server's style, e.g. 'K7Q2-MX9D'."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    value, chars = index * 7919 + 12345, []
    for _ in range(8):
        value, digit = divmod(value, len(alphabet))
        chars.append(alphabet[digit])
    raw = "".join(chars)
    return f"{raw[:4]}-{raw[4:]}"


def make_world(attendees: int = 8, *, enabled: bool = True, points: int = 50) -> World:
    """A world with `attendees` ticket holders for one passport-enabled event."""
    key = SigningKey.generate(7)
    event = EventRow(
        id=uuid.uuid4(),
        name="Tropical Fête",
        is_soca_passport_enabled=enabled,
        stamp_points_default=points,
        country_code="TT",
    )
    other = EventRow(id=uuid.uuid4(), name="Miami Carnival J'ouvert", country_code="US")
    branch_id = uuid.uuid4()
    offer = OfferRow(
        id=uuid.uuid4(),
        branch_id=branch_id,
        name="Fifth rum punch free",
        max_stamps=5,
        prize="One rum punch",
    )
    people = []
    for index in range(attendees):
        user_id, ticket_id = uuid.uuid4(), uuid.uuid4()
        name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]}"
        if index >= len(FIRST_NAMES):
            name = f"{name} {index}"
        people.append(
            Attendee(
                user_id=user_id,
                name=name,
                handle=f"fan{index:05d}",
                ticket_id=ticket_id,
                ticket_code=code_for(index),
                ticket_qr=issue_token(key, TokenKind.TICKET, ticket_id, event.id, NOW),
                passport_qr=issue_token(key, TokenKind.PASSPORT, user_id, None, NOW),
            )
        )
    world = World(key, event, other, branch_id, offer, people)
    world.foreign_ticket_qr = issue_token(key, TokenKind.TICKET, uuid.uuid4(), other.id, NOW)
    for index, (status, method) in enumerate(
        (("PAID", None), ("PENDING", None), ("PENDING", "CASH"))
    ):
        purchase_id = uuid.uuid4()
        world.purchases.append(
            PurchaseRow(
                id=purchase_id,
                user_id=people[index % len(people)].user_id,
                package_id=uuid.uuid4(),
                event_id=event.id,
                package_name="Early Bird VIP Package",
                status=status,
                payment_method=method,
                final_amount="95.00",
            )
        )
        world.purchase_qrs[purchase_id] = issue_token(
            key, TokenKind.PURCHASE, purchase_id, event.id, NOW
        )
    return world


def install(
    data_dir: Path,
    world: World,
    *,
    role: DeviceRole = DeviceRole.DOOR,
    server_url: str = "http://127.0.0.1:9",
    page: PullResponse | None = None,
    **settings: Any,
) -> tuple[KioskSettings, DeviceConfig]:
    """A paired kiosk in `data_dir` whose cache holds the world (no server involved)."""
    scope = (
        DeviceScope(event_id=world.event.id)
        if role is DeviceRole.DOOR
        else DeviceScope(branch_id=world.branch_id)
    )
    config = new_config(
        server_url=server_url,
        device_id=uuid.uuid4(),
        token="test-token",
        role=role,
        scope=scope,
        name="test kiosk",
        paired_at=NOW - timedelta(hours=1),
    )
    kiosk_settings = load_settings(data_dir=data_dir, **settings)
    save_config(kiosk_settings.config_path, config)
    cache = Cache.open(kiosk_settings.cache_path, busy_timeout_ms=kiosk_settings.busy_timeout_ms)
    try:
        cache.reset(owner=str(config.device_id))
        cache.apply_page(page or world.page(), ack_mark=0)
    finally:
        cache.close()
    return kiosk_settings, config
