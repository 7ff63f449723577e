"""Venue hubs as HQ reads them: where each works, when it last relayed, and the doors behind it.

A door is behind a hub when the hub relayed its ops last (`devices.hub_id`,
set by `server.hub.relay`); a door that syncs with HQ directly again keeps
that mark until a hub relays for it again, so the page says when the hub
last relayed and when each door last synced.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Device, Event, Promoter
from server.db.models.enums import DeviceRole


@dataclass(frozen=True)
class BehindHub:
    """A device whose ops a hub relayed."""

    id: uuid.UUID
    name: str
    last_sync_at: datetime | None


@dataclass(frozen=True)
class HubLine:
    """One venue hub: its scope in words, its last relay, and the devices behind it."""

    id: uuid.UUID
    name: str
    where: str
    last_relay_at: datetime | None
    last_seen_at: datetime | None
    revoked: bool
    behind: list[BehindHub] = field(default_factory=list)


def list_hubs(session: Session) -> list[HubLine]:
    """Every hub, live ones first, with the devices it relayed for."""
    hubs = session.scalars(
        select(Device)
        .where(Device.role == DeviceRole.HUB)
        .order_by(Device.revoked_at.is_not(None), Device.created_at.desc())
    ).all()
    behind: dict[uuid.UUID, list[BehindHub]] = defaultdict(list)
    for device in session.scalars(
        select(Device).where(Device.hub_id.is_not(None)).order_by(Device.name)
    ):
        assert device.hub_id is not None
        behind[device.hub_id].append(BehindHub(device.id, device.name, device.last_sync_at))
    return [
        HubLine(
            id=hub.id,
            name=hub.name,
            where=_where(session, hub),
            last_relay_at=hub.last_relay_at,
            last_seen_at=hub.last_seen_at,
            revoked=hub.revoked_at is not None,
            behind=behind.get(hub.id, []),
        )
        for hub in hubs
    ]


def _where(session: Session, hub: Device) -> str:
    if hub.event_id is not None:
        event = session.get(Event, hub.event_id)
        return event.name if event else "an event"
    promoter = session.get(Promoter, hub.promoter_id) if hub.promoter_id else None
    return f"every event of {promoter.name}" if promoter else "a promoter's events"
