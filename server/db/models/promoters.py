"""Seed 001: external promoters and per-event billing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, updated_at, uuid_pk
from server.db.models.enums import BillingModel, BillingStatus, PromoterStatus
from server.db.types import UTCDateTime


class Promoter(Base):
    """An event creator who asked to use Soca Passport; PENDING until HQ approves."""

    __tablename__ = "promoters"
    __table_args__ = (one_of("status", PromoterStatus),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.PROMOTER_NAME.max_length))
    email: Mapped[str] = mapped_column(String(limits.EMAIL.max_length))
    organization: Mapped[str | None] = mapped_column(String(limits.ORGANIZATION.max_length))
    location_city: Mapped[str | None] = mapped_column(String(limits.CITY.max_length))
    location_country: Mapped[str | None] = mapped_column(String(limits.COUNTRY_CODE.max_length))
    website_or_social: Mapped[str | None] = mapped_column(
        String(limits.WEBSITE_OR_SOCIAL.max_length)
    )
    event_types: Mapped[str | None] = mapped_column(String(limits.EVENT_TYPES.max_length))
    status: Mapped[str] = mapped_column(
        String(20), default=PromoterStatus.PENDING, server_default=text("'PENDING'")
    )
    #: Set while HQ has suspended the promoter (its status, the seed's decision, is kept).
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class EventPassportBilling(Base):
    """The per-event fee for using Soca Passport; one row per event."""

    __tablename__ = "event_passport_billing"
    __table_args__ = (
        one_of("billing_model", BillingModel),
        one_of("status", BillingStatus),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), unique=True)
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"), index=True)
    billing_model: Mapped[str] = mapped_column(
        String(30), default=BillingModel.PER_EVENT, server_default=text("'PER_EVENT'")
    )
    fee_amount_cents: Mapped[int | None] = mapped_column(Integer())
    currency: Mapped[str] = mapped_column(
        String(limits.CURRENCY.max_length), default="USD", server_default=text("'USD'")
    )
    status: Mapped[str] = mapped_column(
        String(20), default=BillingStatus.DRAFT, server_default=text("'DRAFT'")
    )
    notes: Mapped[str | None] = mapped_column(Text())
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
