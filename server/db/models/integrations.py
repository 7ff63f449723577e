"""Issue 18: credentials of the bar and bracelet systems, and the bracelets a purchase carries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core import limits
from server.db.models.base import Base, created_at, uuid_pk
from server.db.types import UTCDateTime


class IntegrationCredential(Base):
    """A bearer token one outside system (a bar, a bracelet system) uses for one event."""

    __tablename__ = "integration_credentials"

    id: Mapped[uuid.UUID] = uuid_pk()
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(limits.INTEGRATION_NAME.max_length))
    currency: Mapped[str] = mapped_column(
        String(limits.CURRENCY.max_length), default="EUR", server_default=text("'EUR'")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PurchaseBracelet(Base):
    """One bracelet of a package purchase: how a spend by bracelet id finds its wearer."""

    __tablename__ = "purchase_bracelets"

    bracelet_id: Mapped[str] = mapped_column(
        String(limits.BRACELET_ID.max_length), primary_key=True
    )
    purchase_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("package_purchases.id"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
