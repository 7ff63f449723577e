"""People and their credentials."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, uuid_pk
from server.db.models.enums import UserRole
from server.db.types import UTCDateTime


class User(Base):
    """Anyone with an account: attendees, promoters, branch managers, HQ."""

    __tablename__ = "users"
    __table_args__ = (one_of("role", UserRole),)

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(limits.USERNAME.max_length), unique=True)
    email: Mapped[str | None] = mapped_column(String(limits.EMAIL.max_length), unique=True)
    display_name: Mapped[str] = mapped_column(String(limits.DISPLAY_NAME.max_length))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=UserRole.ATTENDEE)
    home_country: Mapped[str | None] = mapped_column(String(limits.COUNTRY_CODE.max_length))
    created_at: Mapped[datetime] = created_at()


class ApiToken(Base):
    """A bearer token for a user (HQ admin tokens, promoter and manager sessions); stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
