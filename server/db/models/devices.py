"""Signing keys, paired kiosk devices, and the op log of everything they pushed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, uuid_pk
from server.db.models.enums import DeviceRole, OpStatus
from server.db.types import JsonDocument, UTCDateTime


class SigningKey(Base):
    """An Ed25519 key that signs QR tokens; kiosks receive the public half."""

    __tablename__ = "signing_keys"

    key_id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    private_key: Mapped[bytes] = mapped_column(LargeBinary())
    public_key: Mapped[bytes] = mapped_column(LargeBinary())
    created_at: Mapped[datetime] = created_at()
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Device(Base):
    """A paired kiosk with a role and a scope (an event, a branch or a promoter)."""

    __tablename__ = "devices"
    __table_args__ = (one_of("role", DeviceRole),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(limits.DEVICE_NAME.max_length))
    role: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id"))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seq: Mapped[int | None] = mapped_column(BigInteger())
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger())
    #: The venue hub this device's ops last came through (None: straight to this server).
    hub_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    #: For a HUB device: when it last relayed a batch of its doors' ops.
    last_relay_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncOp(Base):
    """The op log: every op a device pushed, its door time, its first and its current result.

    Ops that decide the same thing (one ticket, one card, one purchase) share a
    `subject_key`; they are decided in the order (occurred_at, device_id, seq)
    and re-decided together when a late op sorts before ones already applied.
    `first_*` is what the first push was told (a replay gets it again);
    `status`, `reason`, `message`, `effects` and `blocked_by_op_id` are current.
    A decision made online through the API (a prize confirmed by a manager) is
    an op too, so it is ordered and re-decided with the offline ones: it has
    `seq` 0, the calling `user_id` and/or `device_id`.
    """

    __tablename__ = "sync_ops"
    __table_args__ = (
        one_of("status", OpStatus),
        one_of("first_status", OpStatus),
        Index("ix_sync_ops_device_id_seq", "device_id", "seq"),
        Index("ix_sync_ops_order", "occurred_at", "device_id", "seq"),
        Index(
            "ix_sync_ops_unrelayed",
            "received_at",
            sqlite_where=text("relayed_at IS NULL"),
            postgresql_where=text("relayed_at IS NULL"),
        ),
    )

    op_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    seq: Mapped[int] = mapped_column(BigInteger())
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    device_clock: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = created_at()
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text())
    effects: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    subject_key: Mapped[str | None] = mapped_column(String(100), index=True)
    blocked_by_op_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    first_status: Mapped[str] = mapped_column(String(20))
    first_reason: Mapped[str | None] = mapped_column(String(40))
    first_message: Mapped[str | None] = mapped_column(Text())
    first_effects: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    decided_at: Mapped[datetime] = created_at()
    #: At a venue hub: when the op was forwarded upstream (None: not yet).
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SyncChange(Base):
    """The pull change log: one row per synced row, holding its latest change number.

    Change numbers are allocated at commit time under a lock (see
    `server.sync.changes`), so they become visible in increasing order and a
    cursor never skips a change that commits late.
    """

    __tablename__ = "sync_changes"
    #: The columns that say whose change it is (each a UUID, most rows set one).
    SCOPES = ("event_id", "branch_id", "promoter_id", "user_id")
    # One index per scope, holding only the rows of that scope, in change order.
    __table_args__ = tuple(
        Index(
            f"ix_sync_changes_{scope}",
            scope,
            "change_no",
            postgresql_where=text(f"{scope} IS NOT NULL"),
            sqlite_where=text(f"{scope} IS NOT NULL"),
        )
        for scope in SCOPES
    )

    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    change_no: Mapped[int] = mapped_column(BigInteger(), unique=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    branch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    deleted: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
    changed_at: Mapped[datetime] = created_at()
