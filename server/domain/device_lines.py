"""Paired devices as people read them: name, where they work, last sync, conflicts to review.

HQ lists every device; a promoter the devices paired into its own scopes (its
events, its branches, itself). A conflict stops counting as pending once HQ
marks it resolved (`server.domain.conflicts`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, func, or_, select
from sqlalchemy.orm import Session

from core.wire import OpStatus
from server.db.models import (
    Branch,
    ConflictResolution,
    Device,
    Event,
    Promoter,
    SyncOp,
    TicketScan,
)
from server.db.models.enums import ScanOutcome


@dataclass(frozen=True)
class DeviceLine:
    """One device: what and where it is, and how its sync stands."""

    id: uuid.UUID
    name: str
    role: str
    where: str
    event_id: uuid.UUID | None
    created_at: datetime
    last_sync_at: datetime | None
    revoked_at: datetime | None
    clock_offset_ms: int | None
    pending_conflicts: int
    refused_scans: int

    @property
    def revoked(self) -> bool:
        """True once the device's token is refused."""
        return self.revoked_at is not None


def refused_scans_by_device() -> Subquery:
    """Per device, the codes its door refused (refused ticket ops and `scan.refused` facts)."""
    return (
        select(TicketScan.device_id, func.count().label("n"))
        .where(TicketScan.outcome == ScanOutcome.REFUSED, TicketScan.device_id.is_not(None))
        .group_by(TicketScan.device_id)
        .subquery()
    )


def _promoter_scope(promoter_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(
        Device.promoter_id == promoter_id,
        Device.event_id.in_(select(Event.id).where(Event.promoter_id == promoter_id)),
        Device.branch_id.in_(select(Branch.id).where(Branch.promoter_id == promoter_id)),
    )


def list_lines(
    session: Session, *, promoter_id: uuid.UUID | None = None, event_id: uuid.UUID | None = None
) -> list[DeviceLine]:
    """Devices, live ones first, newest first: all, a promoter's, or one event's."""
    pending = (
        select(SyncOp.device_id, func.count().label("n"))
        .outerjoin(ConflictResolution, ConflictResolution.op_id == SyncOp.op_id)
        .where(SyncOp.status == OpStatus.CONFLICT, ConflictResolution.op_id.is_(None))
        .group_by(SyncOp.device_id)
        .subquery()
    )
    refused = refused_scans_by_device()
    query = (
        select(Device, Event.name, Branch.name, Promoter.name, pending.c.n, refused.c.n)
        .outerjoin(Event, Event.id == Device.event_id)
        .outerjoin(Branch, Branch.id == Device.branch_id)
        .outerjoin(Promoter, Promoter.id == Device.promoter_id)
        .outerjoin(pending, pending.c.device_id == Device.id)
        .outerjoin(refused, refused.c.device_id == Device.id)
        .order_by(Device.revoked_at.is_not(None), Device.created_at.desc(), Device.id)
    )
    if promoter_id is not None:
        query = query.where(_promoter_scope(promoter_id))
    if event_id is not None:
        query = query.where(Device.event_id == event_id)
    lines = []
    rows = session.execute(query)
    for device, event_name, branch_name, promoter_name, conflicts, refusals in rows:
        if event_name is not None:
            where = f"Event: {event_name}"
        elif branch_name is not None:
            where = f"Branch: {branch_name}"
        else:
            where = f"Promoter: {promoter_name}" if promoter_name else "—"
        lines.append(
            DeviceLine(
                id=device.id,
                name=device.name,
                role=device.role,
                where=where,
                event_id=device.event_id,
                created_at=device.created_at,
                last_sync_at=device.last_sync_at,
                revoked_at=device.revoked_at,
                clock_offset_ms=device.clock_offset_ms,
                pending_conflicts=int(conflicts or 0),
                refused_scans=int(refusals or 0),
            )
        )
    return lines
