"""People and their credentials."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, false, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, uuid_pk
from server.db.models.enums import TokenKind, UserRole
from server.db.types import UTCDateTime


class User(Base):
    """Anyone with an account: attendees, promoters, branch managers, HQ."""

    __tablename__ = "users"
    # Handles and emails are unique whatever their case: `KES_FAN` and `kes_fan` cannot coexist.
    __table_args__ = (
        one_of("role", UserRole),
        Index("uq_users_lower_username", func.lower(text("username")), unique=True),
        Index("uq_users_lower_email", func.lower(text("email")), unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(limits.USERNAME.max_length), unique=True)
    email: Mapped[str | None] = mapped_column(String(limits.EMAIL.max_length), unique=True)
    display_name: Mapped[str] = mapped_column(String(limits.DISPLAY_NAME.max_length))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=UserRole.ATTENDEE)
    home_country: Mapped[str | None] = mapped_column(String(limits.COUNTRY_CODE.max_length))
    #: A passwordless account holding tickets issued to this email until someone registers
    #: with it (see `server.domain.accounts.register`); never true again once claimed.
    placeholder: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
    created_at: Mapped[datetime] = created_at()


class ApiToken(Base):
    """A user's credential, stored hashed: an API bearer token or a web session (`kind`).

    The two kinds never stand in for each other: the API resolves only `API`
    rows and the web only `WEB` rows.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (one_of("kind", TokenKind),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(
        String(10), default=TokenKind.API, server_default=text("'API'")
    )
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateLimitCounter(Base):
    """Attempts counted against one rate-limit rule for one key in one fixed window.

    Every server process counts in this table, so `--workers N` and several
    hosts share one allowance. `key_hash` is the SHA-256 of the key (an
    address, or an address and an account), never the key itself. A row stops
    mattering once the window after its own has passed (`expires_at`, epoch
    seconds) and is deleted lazily.
    """

    __tablename__ = "rate_limit_counters"

    rule: Mapped[str] = mapped_column(String(30), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer())
    expires_at: Mapped[int] = mapped_column(BigInteger(), index=True)
