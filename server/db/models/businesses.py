"""Seed 002's stamp-card sellers: businesses (a coffee shop, a bar, a merch stand) and
the scheduled jobs' run log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, created_at, one_of, updated_at, uuid_pk
from server.db.models.enums import BusinessStatus
from server.db.types import UTCDateTime


class Business(Base):
    """A business that runs stamp cards at its branches; PENDING until HQ approves."""

    __tablename__ = "businesses"
    __table_args__ = (one_of("status", BusinessStatus),)

    id: Mapped[uuid.UUID] = uuid_pk()
    owner_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    country_code: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(
        String(20), default=BusinessStatus.PENDING, server_default=text("'PENDING'")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class JobRun(Base):
    """One run of a scheduled job for one slot of its schedule; the unique pair claims the slot.

    However many server processes wake for the same slot, one INSERT wins and
    the others see the row (or wait for it, on PostgreSQL) and skip.
    """

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "slot"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    job: Mapped[str] = mapped_column(String(60))
    slot: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = created_at()
    outcome: Mapped[str | None] = mapped_column(Text())
