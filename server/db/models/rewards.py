"""Seed 003: event-time rewards, their redemptions, and the spend that triggers them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, updated_at, uuid_pk
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.db.types import UTCDateTime

Money = Numeric(10, 2)


class EventReward(Base):
    """An automatic promotion earned during an event ("spend 150 → 10 free recharge")."""

    __tablename__ = "rewards"
    __table_args__ = (
        one_of("status", RewardStatus),
        one_of("trigger_type", RewardTriggerType),
        one_of("reward_type", RewardType),
        CheckConstraint(
            "max_total_redemptions IS NULL OR current_redemptions <= max_total_redemptions",
            name="not_over_redeemed",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.REWARD_NAME.max_length))
    description: Mapped[str | None] = mapped_column(Text())
    status: Mapped[str] = mapped_column(
        String(20), default=RewardStatus.DRAFT, server_default=text("'DRAFT'")
    )
    trigger_type: Mapped[str] = mapped_column(String(30))
    minimum_spend: Mapped[Decimal | None] = mapped_column(Money)
    minimum_transactions: Mapped[int | None] = mapped_column(Integer())
    reward_type: Mapped[str] = mapped_column(String(30))
    reward_amount: Mapped[Decimal | None] = mapped_column(Money)
    # The seed defaults this to 1; the services pass it, so an explicit None means "no limit".
    max_redemptions_per_user: Mapped[int | None] = mapped_column(Integer())
    max_total_redemptions: Mapped[int | None] = mapped_column(Integer())
    current_redemptions: Mapped[int] = mapped_column(Integer(), default=0, server_default=text("0"))
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class RewardRedemption(Base):
    """A reward a user qualified for; `applied_at` when the bracelet system applied it."""

    __tablename__ = "reward_redemptions"

    id: Mapped[uuid.UUID] = uuid_pk()
    reward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"))
    trigger_amount: Mapped[Decimal | None] = mapped_column(Money)
    trigger_transactions: Mapped[int | None] = mapped_column(Integer())
    reward_amount: Mapped[Decimal] = mapped_column(Money)
    django_bracelet_id: Mapped[str | None] = mapped_column(String(limits.BRACELET_ID.max_length))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    qualified_at: Mapped[datetime] = created_at()
    # The spend whose recording created this redemption (a replay answers with it again).
    # (no foreign key: SQLite cannot add one to an existing table in place).
    spend_transaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)


class SpendTransaction(Base):
    """A purchase at the bar or on a bracelet, reported by the payment system."""

    __tablename__ = "spend_transactions"
    __table_args__ = (
        Index("ix_spend_transactions_event_id_user_id", "event_id", "user_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    external_id: Mapped[str | None] = mapped_column(
        String(limits.EXTERNAL_ID.max_length), unique=True
    )
    django_bracelet_id: Mapped[str | None] = mapped_column(String(limits.BRACELET_ID.max_length))
    description: Mapped[str | None] = mapped_column(Text())
    currency: Mapped[str | None] = mapped_column(String(limits.CURRENCY.max_length))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()
