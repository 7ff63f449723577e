"""Single-use account links: the token emailed for a password reset or an invitation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, created_at, one_of, uuid_pk
from server.db.models.enums import LinkPurpose
from server.db.types import UTCDateTime


class AccountLink(Base):
    """One emailed link for one account and purpose: stored as SHA-256, used at most once."""

    __tablename__ = "account_links"
    __table_args__ = (one_of("purpose", LinkPurpose),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
