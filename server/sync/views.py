"""HQ's views of sync: one op, the conflicts between offline devices, every device's health."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from server.db.models import Device, SyncOp
from server.errors import NotFound

#: Beyond this clock offset a device is flagged (the architecture's 2 minutes).
CLOCK_SKEW_LIMIT_MS = 120_000
_MAX_GAPS_SHOWN = 20


def _op_dict(row: SyncOp) -> dict[str, Any]:
    return {
        "op_id": str(row.op_id),
        "device_id": str(row.device_id),
        "seq": row.seq,
        "type": row.type,
        "occurred_at": row.occurred_at.isoformat(),
        "device_clock": row.device_clock.isoformat(),
        "received_at": row.received_at.isoformat(),
        "payload": row.payload,
        "result": {
            "status": row.status,
            "reason": row.reason,
            "message": row.message,
            "effects": row.effects,
            "blocked_by_op_id": str(row.blocked_by_op_id) if row.blocked_by_op_id else None,
            "decided_at": row.decided_at.isoformat(),
        },
        "first_result": {
            "status": row.first_status,
            "reason": row.first_reason,
            "message": row.first_message,
            "effects": row.first_effects,
        },
    }


def get_op(session: Session, *, op_id: uuid.UUID) -> dict[str, Any]:
    """The recorded op, its first result and its current result (NotFound if unknown)."""
    row = session.get(SyncOp, op_id)
    if row is None:
        raise NotFound("no op with that id has reached the server")
    return _op_dict(row)


def list_conflicts(session: Session) -> list[dict[str, Any]]:
    """Ops in conflict, each with the op that won: both devices and both times."""
    winner = aliased(SyncOp)
    loser_device = aliased(Device)
    winner_device = aliased(Device)
    rows = session.execute(
        select(SyncOp, loser_device.name, winner, winner_device.name)
        .join(loser_device, loser_device.id == SyncOp.device_id)
        .outerjoin(winner, winner.op_id == SyncOp.blocked_by_op_id)
        .outerjoin(winner_device, winner_device.id == winner.device_id)
        .where(SyncOp.status == "conflict")
        .order_by(SyncOp.occurred_at)
    ).all()
    found = []
    for op, op_device, won, won_device in rows:
        found.append(
            {
                "op_id": str(op.op_id),
                "type": op.type,
                "subject": op.subject_key,
                "reason": op.reason,
                "message": op.message,
                "device": {"id": str(op.device_id), "name": op_device},
                "occurred_at": op.occurred_at.isoformat(),
                "won_by": None
                if won is None
                else {
                    "op_id": str(won.op_id),
                    "device": {"id": str(won.device_id), "name": won_device},
                    "occurred_at": won.occurred_at.isoformat(),
                },
            }
        )
    return found


def _gaps(seqs: list[int]) -> list[list[int]]:
    """Missing ranges between the lowest and highest seq a device has sent."""
    gaps = []
    for previous, current in pairwise(seqs):
        if current > previous + 1:
            gaps.append([previous + 1, current - 1])
    return gaps


def device_report(session: Session, *, now: datetime) -> list[dict[str, Any]]:
    """Every device: last sync, last seq, gaps in seq, clock offset, pending conflicts."""
    devices = session.scalars(select(Device).order_by(Device.created_at)).all()
    seqs: dict[uuid.UUID, list[int]] = defaultdict(list)
    for device_id, seq in session.execute(
        select(SyncOp.device_id, SyncOp.seq).distinct().order_by(SyncOp.device_id, SyncOp.seq)
    ):
        seqs[device_id].append(seq)
    conflicts = dict(
        session.execute(
            select(SyncOp.device_id, func.count())
            .where(SyncOp.status == "conflict")
            .group_by(SyncOp.device_id)
        ).all()
    )
    report = []
    for device in devices:
        offset = device.clock_offset_ms
        gaps = _gaps(seqs.get(device.id, []))
        report.append(
            {
                "id": str(device.id),
                "name": device.name,
                "role": device.role,
                "scope": {
                    "event_id": str(device.event_id) if device.event_id else None,
                    "branch_id": str(device.branch_id) if device.branch_id else None,
                    "promoter_id": str(device.promoter_id) if device.promoter_id else None,
                },
                "revoked": device.revoked_at is not None,
                "last_sync_at": device.last_sync_at.isoformat() if device.last_sync_at else None,
                "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None,
                "last_seq": device.last_seq,
                "seq_gaps": gaps[:_MAX_GAPS_SHOWN],
                "clock_offset_ms": offset,
                "clock_flagged": offset is not None and abs(offset) > CLOCK_SKEW_LIMIT_MS,
                "pending_conflicts": int(conflicts.get(device.id, 0)),
                "seconds_since_sync": None
                if device.last_sync_at is None
                else round((now - device.last_sync_at).total_seconds()),
            }
        )
    return report
