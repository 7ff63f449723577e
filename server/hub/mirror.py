"""The hub's side: its SQLite mirrors HQ's scope, and its own doors' ops wait there to be relayed.

`apply_page` writes a `HubPage` into the hub's database: the keys' public
halves, the scope's devices (identity, token hash, revocation; the hub's own
sync figures for each are kept), whole rows by primary key, deletions, and
then the ops behind the page, replayed through the server's own push as
their devices' pushes, so the hub's op log and effects are what HQ decided.
Replayed ops are marked relayed: they came from HQ. Everything here is a
cache: a hub whose database is lost pulls its scope again from the start.

`outgoing` gathers the ops the hub accepted and has not yet relayed, per
device, oldest first; `mark_relayed` records HQ's answer to them.
"""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import DeclarativeBase, Session

from core.wire import MAX_OPS_PER_PUSH, HeldResponse, Op, PushRequest
from server.db.bulk import member_of
from server.db.changelog import touch
from server.db.models import Device, PassportProfile, SigningKey, SyncOp
from server.hub import rows
from server.hub.replica import TABLES
from server.hub.wire import HubPage, RelayBatch, ReplicaKey, ReplicaOp
from server.settings import ServerSettings
from server.sync import push

#: The device columns HQ owns; the hub keeps its own sync figures for each device.
_DEVICE_IDENTITY = (
    "id",
    "name",
    "role",
    "event_id",
    "branch_id",
    "promoter_id",
    "token_hash",
    "created_at",
    "revoked_at",
)
#: Tables in the order their rows are written (a purchase names its package).
_ORDER = ("events", "packages", "tickets", "passport_profiles", "package_purchases")
_ENTITY = {"tickets": "tickets", "events": "events", "package_purchases": "purchases"}


def apply_page(session: Session, page: HubPage, *, settings: ServerSettings, now: datetime) -> int:
    """Write one page of HQ's scope into the hub's database; the number of ops replayed."""
    _keys(session, page.keys, now)
    _devices(session, page.devices)
    for table in _ORDER:
        for data in page.rows.get(table, []):
            _upsert(session, TABLES[table], data)
    session.flush()
    for table, ids in page.deleted.items():
        _delete(session, table, ids)
    return _replay(session, page.ops, settings=settings, now=now)


def _keys(session: Session, keys: list[ReplicaKey], now: datetime) -> None:
    for key in keys:
        found = session.get(SigningKey, key.key_id)
        if found is None:
            found = SigningKey(key_id=key.key_id, private_key=b"", created_at=now)
            session.add(found)
        found.public_key = base64.b64decode(key.public_key)
        found.retired_at = key.retired_at


def _devices(session: Session, devices: list[dict[str, Any]]) -> None:
    for data in devices:
        values = rows.load(Device, {name: data.get(name) for name in _DEVICE_IDENTITY})
        found = session.get(Device, values["id"])
        if found is None:
            session.add(Device(**values))
            continue
        for name, value in values.items():
            setattr(found, name, value)


def _upsert(session: Session, model: type[DeclarativeBase], data: dict[str, Any]) -> None:
    values = rows.load(model, data)
    if model is PassportProfile:
        # A profile the hub made itself for this holder gives way to HQ's.
        session.execute(
            delete(PassportProfile).where(
                PassportProfile.user_id == values["user_id"], PassportProfile.id != values["id"]
            )
        )
    session.merge(model(**values))


def _delete(session: Session, table: str, ids: list[str]) -> None:
    model = TABLES.get(table)
    if model is None or not ids:
        return
    key: Any = PassportProfile.user_id if model is PassportProfile else model.id  # type: ignore[attr-defined]
    session.execute(delete(model).where(member_of(session, key, ids)))
    entity = _ENTITY.get(table)
    for entity_id in ids:
        if entity is not None:
            touch(session, entity, entity_id, deleted=True)


def _replay(
    session: Session, ops: list[ReplicaOp], *, settings: ServerSettings, now: datetime
) -> int:
    """Decide HQ's ops here as their devices' pushes; they count as relayed already."""
    by_device: dict[uuid.UUID, list[Op]] = defaultdict(list)
    for item in ops:
        by_device[item.device_id].append(item.op)
    replayed = 0
    for device_id, device_ops in by_device.items():
        device = session.get(Device, device_id)
        if device is None:
            continue
        kept = (device.last_seen_at, device.last_sync_at, device.last_seq, device.clock_offset_ms)
        for start in range(0, len(device_ops), MAX_OPS_PER_PUSH):
            chunk = device_ops[start : start + MAX_OPS_PER_PUSH]
            push.push(
                session,
                device=device,
                request=PushRequest(device_time=now, ops=chunk),
                now=now,
                settings=settings,
            )
            mark_relayed(session, [op.op_id for op in chunk], now=now)
            replayed += len(chunk)
        # These figures describe the kiosk's own syncs with the hub, not HQ's.
        device.last_seen_at, device.last_sync_at, device.last_seq, device.clock_offset_ms = kept
    return replayed


def outgoing(session: Session, *, limit: int, now: datetime) -> list[RelayBatch]:
    """Ops accepted here and not yet relayed, by device, oldest first (at most `limit`)."""
    found = session.scalars(
        select(SyncOp)
        .where(SyncOp.relayed_at.is_(None), SyncOp.device_id.is_not(None))
        .order_by(SyncOp.received_at, SyncOp.device_id, SyncOp.seq)
        .limit(limit)
    ).all()
    by_device: dict[uuid.UUID, list[Op]] = defaultdict(list)
    for row in found:
        assert row.device_id is not None
        by_device[row.device_id].append(
            Op(
                op_id=row.op_id,
                seq=row.seq,
                type=row.type,
                occurred_at=row.occurred_at,
                device_clock=row.device_clock,
                payload=row.payload,
            )
        )
    batches = []
    for device_id, device_ops in by_device.items():
        device = session.get(Device, device_id)
        offset = timedelta(milliseconds=(device.clock_offset_ms or 0) if device else 0)
        # The device's clock now, as the hub measured it: HQ learns the same offset.
        batches.append(RelayBatch(device_id=device_id, device_time=now - offset, ops=device_ops))
    return batches


def mark_relayed(session: Session, op_ids: list[uuid.UUID], *, now: datetime) -> None:
    """Record that HQ holds these ops (whatever it decided)."""
    if op_ids:
        session.execute(
            update(SyncOp)
            .where(member_of(session, SyncOp.op_id, op_ids), SyncOp.relayed_at.is_(None))
            .values(relayed_at=now)
            .execution_options(synchronize_session=False)
        )


def pending_count(session: Session) -> int:
    """How many accepted ops wait to be relayed."""
    return len(
        session.scalars(
            select(SyncOp.op_id).where(SyncOp.relayed_at.is_(None), SyncOp.device_id.is_not(None))
        ).all()
    )


def held_state(
    session: Session, *, device_id: uuid.UUID, op_ids: list[uuid.UUID], is_hub: bool
) -> HeldResponse:
    """Where a device's ops stand: at HQ (`relayed`), only here (`held`), or unknown."""
    found = dict(
        session.execute(
            select(SyncOp.op_id, SyncOp.relayed_at).where(
                member_of(session, SyncOp.op_id, op_ids), SyncOp.device_id == device_id
            )
        ).all()
    )
    places: dict[str, list[uuid.UUID]] = {"relayed": [], "held": [], "unknown": []}
    for op_id in op_ids:
        if op_id not in found:
            places["unknown"].append(op_id)
        elif found[op_id] is not None or not is_hub:
            places["relayed"].append(op_id)
        else:
            places["held"].append(op_id)
    return HeldResponse(**places)
