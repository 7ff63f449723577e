"""Signing up as an attendee: the account (new, or a ticket placeholder claimed) and what waits
for its email (promoter applications made before the account existed)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.db.models import User
from server.domain import accounts, promoters


def sign_up(
    session: Session, *, username: str, email: str, password: str, display_name: str | None = None
) -> User:
    """Register (see `accounts.register`) and attach this email's earlier promoter applications."""
    user = accounts.register(
        session, username=username, email=email, password=password, display_name=display_name
    )
    promoters.link_applications(session, user=user)
    return user
