"""Seed 002: branches, stamp-card offers, customers' perpetual passes and their ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, updated_at, uuid_pk
from server.db.models.enums import OfferStatus, PassEntryKind, PassStatus
from server.db.types import JsonDocument, UTCDateTime


class Branch(Base):
    """A bar, shop or stand of a business, where its stamp cards are scanned."""

    __tablename__ = "branches"

    id: Mapped[uuid.UUID] = uuid_pk()
    business_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    #: Branches made before businesses existed hung off a promoter; new ones have a business.
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"), index=True)
    manager_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(limits.BRANCH_NAME.max_length))
    city: Mapped[str | None] = mapped_column(String(limits.CITY.max_length))
    country_code: Mapped[str | None] = mapped_column(String(limits.COUNTRY_CODE.max_length))
    created_at: Mapped[datetime] = created_at()


class Offer(Base):
    """A perpetual stamp-card offer: `max_stamps` per card, optional custom loyalty tiers."""

    __tablename__ = "offers"
    __table_args__ = (one_of("status", OfferStatus),)

    id: Mapped[uuid.UUID] = uuid_pk()
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branches.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.OFFER_NAME.max_length))
    description: Mapped[str | None] = mapped_column(Text())
    prize: Mapped[str] = mapped_column(String(limits.PRIZE.max_length), default="")
    max_stamps: Mapped[int] = mapped_column(Integer(), default=5, server_default=text("5"))
    loyalty_tiers: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(
        String(20), default=OfferStatus.ACTIVE, server_default=text("'ACTIVE'")
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class LoyaltyPass(Base):
    """One customer's perpetual pass for one offer; progress is derived from `pass_entries`."""

    __tablename__ = "loyalty_passes"
    __table_args__ = (UniqueConstraint("offer_id", "user_id"), one_of("status", PassStatus))

    id: Mapped[uuid.UUID] = uuid_pk()
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offers.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    current_stamps: Mapped[int] = mapped_column(Integer(), default=0, server_default=text("0"))
    rewards_claimed: Mapped[int] = mapped_column(Integer(), default=0, server_default=text("0"))
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(
        String(20), default=PassStatus.ACTIVE, server_default=text("'ACTIVE'")
    )
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class PassEntry(Base):
    """The pass ledger: every applied stamp and prize claim, in door time."""

    __tablename__ = "pass_entries"
    __table_args__ = (
        one_of("kind", PassEntryKind),
        Index("ix_pass_entries_pass_id_occurred_at", "pass_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    pass_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_passes.id"))
    kind: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    op_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), unique=True)
    seq: Mapped[int | None] = mapped_column(BigInteger())
    created_at: Mapped[datetime] = created_at()


class PassExpiry(Base):
    """A pass the inactivity job expired: part of the card's history beside its entries."""

    __tablename__ = "pass_expiries"

    id: Mapped[uuid.UUID] = uuid_pk()
    pass_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("loyalty_passes.id"), index=True)
    expired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inactivity_days: Mapped[int] = mapped_column(Integer())
