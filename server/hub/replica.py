"""HQ's side of a hub's pull: pages of its scope as whole rows, with the ops behind them.

A hub decides its doors' ops with the server's own push code, on its own
SQLite, so it needs the rows that code reads, whole: the scope's events,
tickets, the holders' passports, packages and purchases, the scope's
devices with their token hashes (its kiosks authenticate at the hub with
the tokens they already hold) and the signing keys' public halves. Changes
come from the pull change log under the hub's scope (`scope.page_of_changes`),
so the cursor is the same kind of number a kiosk's is. A changed door scan
or purchase brings the ops recorded on it instead of its effect: the hub
replays them through its own push, and so reaches the same decision HQ did.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import DeclarativeBase, Session

from core.wire import Op
from server.db.bulk import member_of
from server.db.models import (
    Device,
    Event,
    Package,
    PackagePurchase,
    PassportProfile,
    SigningKey,
    SyncOp,
    Ticket,
    TicketScan,
)
from server.db.models.enums import DeviceRole
from server.hub import rows
from server.hub.wire import HubPage, ReplicaKey, ReplicaOp
from server.sync import pull, scope

DEFAULT_PAGE = 2000
MAX_PAGE = 5000

#: Tables a hub mirrors, by the name its pages use; passports are keyed by user id.
TABLES: dict[str, type[DeclarativeBase]] = {
    "events": Event,
    "tickets": Ticket,
    "passport_profiles": PassportProfile,
    "packages": Package,
    "package_purchases": PackagePurchase,
}
_TABLE_OF_ENTITY = {
    "events": "events",
    "tickets": "tickets",
    "passports": "passport_profiles",
    "purchases": "package_purchases",
}


def event_ids(session: Session, hub: Device) -> list[uuid.UUID]:
    """The events a hub serves: its own, or its promoter's."""
    if hub.event_id is not None:
        return [hub.event_id]
    return list(session.scalars(select(Event.id).where(Event.promoter_id == hub.promoter_id)))


def in_scope(session: Session, hub: Device, device: Device) -> bool:
    """True when `device` is a door (or promoter device) the hub may relay for."""
    if device.role == DeviceRole.DOOR:
        return device.event_id in event_ids(session, hub)
    if device.role == DeviceRole.PROMOTER:
        return hub.promoter_id is not None and device.promoter_id == hub.promoter_id
    return False


def _scope_devices(session: Session, hub: Device, events: Sequence[uuid.UUID]) -> list[Device]:
    doors: ColumnElement[bool] = and_(Device.role == DeviceRole.DOOR, Device.event_id.in_(events))
    if hub.promoter_id is not None:
        doors = or_(
            doors, and_(Device.role == DeviceRole.PROMOTER, Device.promoter_id == hub.promoter_id)
        )
    return list(session.scalars(select(Device).where(doors).order_by(Device.created_at)))


def public_keys(session: Session) -> list[ReplicaKey]:
    """Every signing key's public half, retired ones included."""
    return [
        ReplicaKey(key_id=key.key_id, public_key=rows.dump(key)["public_key"], retired_at=retired)
        for key, retired in session.execute(
            select(SigningKey, SigningKey.retired_at).order_by(SigningKey.key_id)
        ).all()
    ]


def page(
    session: Session, *, hub: Device, cursor: str | None, limit: int, now: datetime
) -> HubPage:
    """One page of the hub's scope after `cursor` (None: from the start)."""
    after = pull.parse_cursor(cursor)
    size = max(1, min(limit or DEFAULT_PAGE, MAX_PAGE))
    changes = (
        session.connection().execute(scope.page_of_changes(hub, after=after, rows=size + 1)).all()
    )
    more = len(changes) > size
    changes = changes[:size]
    wanted: dict[str, list[str]] = defaultdict(list)
    deleted: dict[str, list[str]] = defaultdict(list)
    for entity, entity_id, _number, gone in changes:
        if gone and entity in _TABLE_OF_ENTITY:
            deleted[_TABLE_OF_ENTITY[entity]].append(entity_id)
        elif not gone:
            wanted[entity].append(entity_id)
    hub.last_seen_at = now
    events = event_ids(session, hub)
    return HubPage(
        cursor=pull.next_cursor(changes[-1][2] if changes else None, after),
        more=more,
        server_time=now,
        keys=public_keys(session),
        devices=[rows.dump(device) for device in _scope_devices(session, hub, events)],
        rows=_rows(session, wanted),
        deleted=dict(deleted),
        ops=_ops(session, wanted),
    )


def _rows(session: Session, wanted: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[Any]] = {
        "events": _by_ids(session, Event.id, wanted["events"]),
        "tickets": _by_ids(session, Ticket.id, wanted["tickets"]),
        "passport_profiles": _by_ids(session, PassportProfile.user_id, wanted["passports"]),
        "package_purchases": _by_ids(session, PackagePurchase.id, wanted["purchases"]),
    }
    package_ids = sorted({str(purchase.package_id) for purchase in found["package_purchases"]})
    found["packages"] = _by_ids(session, Package.id, package_ids)
    return {table: [rows.dump(row) for row in listed] for table, listed in found.items() if listed}


def _by_ids(session: Session, column: Any, ids: list[str]) -> list[Any]:
    if not ids:
        return []
    model = column.class_
    return list(session.scalars(select(model).where(member_of(session, column, ids))))


def _ops(session: Session, wanted: dict[str, list[str]]) -> list[ReplicaOp]:
    op_ids: list[uuid.UUID] = []
    if wanted["scans"]:
        op_ids = [
            op_id
            for op_id in session.scalars(
                select(TicketScan.op_id).where(member_of(session, TicketScan.id, wanted["scans"]))
            )
            if op_id is not None
        ]
    conditions = []
    if op_ids:
        conditions.append(member_of(session, SyncOp.op_id, op_ids))
    if wanted["purchases"]:
        keys = [f"purchase:{purchase_id}" for purchase_id in wanted["purchases"]]
        conditions.append(SyncOp.subject_key.in_(keys))
    if not conditions:
        return []
    found = session.scalars(
        select(SyncOp)
        .where(or_(*conditions), SyncOp.device_id.is_not(None))
        .order_by(SyncOp.occurred_at, SyncOp.device_id, SyncOp.seq)
    )
    return [
        ReplicaOp(
            device_id=op.device_id,
            op=Op(
                op_id=op.op_id,
                seq=op.seq,
                type=op.type,
                occurred_at=op.occurred_at,
                device_clock=op.device_clock,
                payload=op.payload,
            ),
        )
        for op in found
        if op.device_id is not None
    ]
