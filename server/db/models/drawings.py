"""The QR drawings of the tokens people carry, drawn once when each token is issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, created_at


class QrDrawing(Base):
    """A token's QR code as inline SVG, keyed by the token's SHA-256 (hex).

    A token's drawing never changes (tokens are never reissued), so a row is
    written once, by whoever issues the token, and only read after that.
    """

    __tablename__ = "qr_drawings"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    svg: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = created_at()
