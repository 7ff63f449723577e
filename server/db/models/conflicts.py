"""HQ's review of sync conflicts: a conflict (an op in `sync_ops`) marked resolved, with a note."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, created_at


class ConflictResolution(Base):
    """One conflicting op that HQ looked at: who marked it resolved, when, and what they noted."""

    __tablename__ = "conflict_resolutions"

    op_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_ops.op_id"), primary_key=True)
    note: Mapped[str] = mapped_column(Text())
    resolved_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime] = created_at()
