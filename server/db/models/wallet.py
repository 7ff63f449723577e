"""Wallet passes handed out, the phones registered for them, and the queue of updates to send."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, utcnow, uuid_pk
from server.db.types import UTCDateTime

WALLET_PASS_KINDS = ("card", "passport", "ticket")


class WalletPass(Base):
    """A pass someone took into a wallet: its id is Apple's serial number and Google's object."""

    __tablename__ = "wallet_passes"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id"),
        one_of("kind", WALLET_PASS_KINDS),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(10))
    #: The card (loyalty_passes.id), the passport's user (users.id) or the ticket (tickets.id).
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    #: The pass's authentication token is HMAC(secret key, salt); only its SHA-256 is kept.
    auth_salt: Mapped[str] = mapped_column(String(32))
    auth_token_hash: Mapped[str] = mapped_column(String(64))
    #: The update tag: raised to max + 1 in the transaction that changes what the pass shows.
    tag: Mapped[int] = mapped_column(BigInteger(), default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set once the Google object exists (created before its save link is handed out).
    google_object: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
    created_at: Mapped[datetime] = created_at()


class WalletRegistration(Base):
    """A phone (Apple's device library id) asking for pushes about one pass."""

    __tablename__ = "wallet_registrations"
    __table_args__ = (UniqueConstraint("device_library_id", "wallet_pass_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    device_library_id: Mapped[str] = mapped_column(String(limits.WALLET_DEVICE_ID.max_length))
    push_token: Mapped[str] = mapped_column(String(limits.WALLET_PUSH_TOKEN.max_length))
    wallet_pass_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wallet_passes.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at()


class PassUpdate(Base):
    """The outbox: one change of one pass to announce, written with the change itself."""

    __tablename__ = "pass_updates"
    __table_args__ = (Index("ix_pass_updates_due", "sent_at", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    wallet_pass_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wallet_passes.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(20))
    #: Google notifies at most three times a pass a day: only prizes and tier changes ask to.
    notify: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer(), default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()
