"""HQ's views of sync: one op, the conflicts between decisions, every device's health.

A conflict names both sides: the op that lost and the op that won, each with
its device or (for a decision made online through the API) its person, and
its time. Each device's line counts the codes its door refused
(`refused_scans`: refused ticket ops and `scan.refused` facts).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from server.db.models import Device, SyncOp, User
from server.domain.device_lines import refused_scans_by_device
from server.errors import NotFound
from server.sync.push.online import API_SEQ

#: Beyond this clock offset a device is flagged (the architecture's 2 minutes).
CLOCK_SKEW_LIMIT_MS = 120_000
_MAX_GAPS_SHOWN = 20


def _op_dict(row: SyncOp) -> dict[str, Any]:
    return {
        "op_id": str(row.op_id),
        "device_id": _text(row.device_id),
        "user_id": _text(row.user_id),
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


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def list_conflicts(session: Session) -> list[dict[str, Any]]:
    """Ops in conflict, each with the op that won: both sides (device or person) and both times."""
    winner = aliased(SyncOp)
    rows = session.execute(
        select(SyncOp, winner)
        .outerjoin(winner, winner.op_id == SyncOp.blocked_by_op_id)
        .where(SyncOp.status == "conflict")
        .order_by(SyncOp.occurred_at)
    ).all()
    ops = [op for pair in rows for op in pair if op is not None]
    devices = _names(session, Device, {op.device_id for op in ops})
    people = _names(session, User, {op.user_id for op in ops})

    def side(op: SyncOp) -> dict[str, Any]:
        device = devices.get(op.device_id) if op.device_id else None
        person = people.get(op.user_id) if op.user_id else None
        return {
            "op_id": str(op.op_id),
            "who": device or (f"{person} (online)" if person else "?"),
            "device": None
            if op.device_id is None
            else {"id": str(op.device_id), "name": devices.get(op.device_id)},
            "user": None
            if op.user_id is None
            else {"id": str(op.user_id), "name": people.get(op.user_id)},
            "occurred_at": op.occurred_at.isoformat(),
        }

    return [
        {
            **side(op),
            "type": op.type,
            "subject": op.subject_key,
            "reason": op.reason,
            "message": op.message,
            "won_by": None if won is None else {**side(won), "type": won.type},
        }
        for op, won in rows
    ]


def _names(session: Session, model: Any, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [found for found in ids if found is not None]
    if not wanted:
        return {}
    label = model.name if model is Device else model.display_name
    return dict(session.execute(select(model.id, label).where(model.id.in_(wanted))).all())


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
        select(SyncOp.device_id, SyncOp.seq)
        .where(SyncOp.device_id.is_not(None), SyncOp.seq != API_SEQ)  # outbox ops only
        .distinct()
        .order_by(SyncOp.device_id, SyncOp.seq)
    ):
        if device_id is not None:
            seqs[device_id].append(seq)
    conflicts = dict(
        session.execute(
            select(SyncOp.device_id, func.count())
            .where(SyncOp.status == "conflict")
            .group_by(SyncOp.device_id)
        ).all()
    )
    by_device = refused_scans_by_device()
    refused = dict(session.execute(select(by_device.c.device_id, by_device.c.n)).all())
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
                "refused_scans": int(refused.get(device.id, 0)),
                "seconds_since_sync": None
                if device.last_sync_at is None
                else round((now - device.last_sync_at).total_seconds()),
            }
        )
    return report
