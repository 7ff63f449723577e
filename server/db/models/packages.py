"""Seed 003: pre-event packages, their items and purchases."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, one_of, updated_at, uuid_pk
from server.db.models.enums import PackageItemType, PackageStatus, PaymentMethod, PurchaseStatus
from server.db.types import JsonDocument, UTCDateTime

Money = Numeric(10, 2)


class Package(Base):
    """A product sold before the event: entry, bracelets, merchandise, services."""

    __tablename__ = "packages"
    __table_args__ = (
        one_of("status", PackageStatus),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("sold_quantity >= 0", name="sold_not_negative"),
        CheckConstraint(
            "max_quantity IS NULL OR sold_quantity <= max_quantity", name="not_oversold"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.PACKAGE_NAME.max_length))
    description: Mapped[str | None] = mapped_column(Text())
    status: Mapped[str] = mapped_column(
        String(20), default=PackageStatus.DRAFT, server_default=text("'DRAFT'")
    )
    price: Mapped[Decimal] = mapped_column(Money)
    original_price: Mapped[Decimal | None] = mapped_column(Money)
    max_quantity: Mapped[int | None] = mapped_column(Integer())
    sold_quantity: Mapped[int] = mapped_column(Integer(), default=0, server_default=text("0"))
    # The seed defaults this to 1; the services pass it, so an explicit None means "no limit".
    max_per_user: Mapped[int | None] = mapped_column(Integer())
    sale_start_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sale_end_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class PackageItem(Base):
    """One line of a package."""

    __tablename__ = "package_items"
    __table_args__ = (
        one_of("type", PackageItemType),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    package_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(limits.PACKAGE_ITEM_NAME.max_length))
    description: Mapped[str | None] = mapped_column(Text())
    type: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer(), default=1, server_default=text("1"))
    bracelet_amount: Mapped[Decimal | None] = mapped_column(Money)


class PackagePurchase(Base):
    """A user's purchase of a package; its bracelets are activated at the door."""

    __tablename__ = "package_purchases"
    __table_args__ = (
        one_of("status", PurchaseStatus),
        CheckConstraint(
            f"payment_method IS NULL OR payment_method IN "
            f"({', '.join(repr(m.value) for m in PaymentMethod)})",
            name="payment_method_allowed",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promoters.id"))
    status: Mapped[str] = mapped_column(
        String(20), default=PurchaseStatus.PENDING, server_default=text("'PENDING'")
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    final_amount: Mapped[Decimal] = mapped_column(Money)
    discount_amount: Mapped[Decimal | None] = mapped_column(Money)
    payment_method: Mapped[str | None] = mapped_column(String(20))
    django_bracelet_ids: Mapped[list[Any]] = mapped_column(
        JsonDocument, default=list, server_default=text("'[]'")
    )
    qr_token: Mapped[str | None] = mapped_column(Text())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_by_device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    created_at: Mapped[datetime] = created_at()
