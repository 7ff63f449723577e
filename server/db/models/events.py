"""Events, their tickets and the door's scans."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Uuid, false, text
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, updated_at, uuid_pk
from server.db.models.enums import ScanMethod, ScanOutcome, TicketStatus
from server.db.types import UTCDateTime


class Event(Base):
    """A fête or carnival event; seed 000 adds the passport columns."""

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = uuid_pk()
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.EVENT_NAME.max_length))
    venue: Mapped[str | None] = mapped_column(String(limits.VENUE.max_length))
    city: Mapped[str | None] = mapped_column(String(limits.CITY.max_length))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_soca_passport_enabled: Mapped[bool] = mapped_column(
        Boolean(), default=False, server_default=false()
    )
    stamp_points_default: Mapped[int] = mapped_column(
        Integer(), default=50, server_default=text("50")
    )
    country_code: Mapped[str | None] = mapped_column(String(limits.COUNTRY_CODE.max_length))
    carnival_circuit: Mapped[str | None] = mapped_column(String(limits.CARNIVAL_CIRCUIT.max_length))
    #: The venue's IANA time zone (e.g. America/Port_of_Spain); times are stored in UTC.
    time_zone: Mapped[str | None] = mapped_column(String(limits.TIME_ZONE.max_length))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Ticket(Base):
    """An admission to one event, held by one user, carried as a signed QR token."""

    __tablename__ = "tickets"
    __table_args__ = (one_of("status", TicketStatus),)

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(limits.HOLDER_NAME.max_length))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    qr_token: Mapped[str] = mapped_column(Text())
    status: Mapped[str] = mapped_column(String(20), default=TicketStatus.VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()


class TicketScan(Base):
    """One scan at the door: admitted, re-entry or refused, with door time and receive time."""

    __tablename__ = "ticket_scans"
    __table_args__ = (
        one_of("outcome", ScanOutcome),
        one_of("method", ScanMethod),
        Index("ix_ticket_scans_event_id_scanned_at", "event_id", "scanned_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    op_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), unique=True)
    gate: Mapped[str | None] = mapped_column(String(limits.GATE.max_length))
    method: Mapped[str] = mapped_column(String(10), default=ScanMethod.QR)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text())
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = created_at()
    passport_stamp_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("passport_stamps.id"), index=True
    )
