"""One-time pairing codes: HQ, a promoter or a branch manager hands one to a kiosk to pair it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, created_at, one_of, uuid_pk
from server.db.models.enums import DeviceRole
from server.db.types import UTCDateTime


class PairingCode(Base):
    """A short code (stored as SHA-256) that pairs one device with a role and scope, once."""

    __tablename__ = "pairing_codes"
    __table_args__ = (one_of("role", DeviceRole),)

    id: Mapped[uuid.UUID] = uuid_pk()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id"))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"))
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
