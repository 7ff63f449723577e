"""Builders for the promoter, billing, membership and landing tests: rows made with the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from server.db.models import Event, PassportProfile, PassportStamp, Promoter, User
from server.domain import promoters

#: A fixed "now" for tests that pass the clock in.
NOW = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def make_user(session: Session, *, name: str = "Fan") -> User:
    """A user with a unique username."""
    tag = _tag()
    user = User(username=f"user_{tag}", display_name=f"{name} {tag}")
    session.add(user)
    session.flush()
    return user


def make_promoter(
    session: Session, *, approved: bool = True, user_id: uuid.UUID | None = None
) -> Promoter:
    """A promoter signed up through the service, APPROVED unless told otherwise."""
    promoter = promoters.register(
        session,
        name="Machel Fêtes",
        email=f"bookings+{_tag()}@fetes.example",
        location_country="tt",
        user_id=user_id,
    )
    if approved:
        promoters.approve(session, promoter_id=promoter.id)
    return promoter


def make_event(
    session: Session, *, country_code: str | None = "TT", promoter_id: uuid.UUID | None = None
) -> Event:
    """An event row made directly (passport off)."""
    event = Event(
        name=f"Soca Brunch {_tag()}",
        starts_at=NOW,
        country_code=country_code,
        promoter_id=promoter_id,
    )
    session.add(event)
    session.flush()
    return event


def make_profile(session: Session, user: User) -> PassportProfile:
    """A passport profile for the user."""
    profile = PassportProfile(user_id=user.id, handle=f"h_{_tag()}")
    session.add(profile)
    session.flush()
    return profile


def make_stamp(session: Session, user: User, event: Event, *, points: int = 50) -> PassportStamp:
    """A stamp of `event` on the user's passport."""
    stamp = PassportStamp(
        user_id=user.id,
        event_id=event.id,
        country_code=event.country_code or "TT",
        carnival_circuit=event.carnival_circuit,
        points_earned=points,
    )
    session.add(stamp)
    session.flush()
    return stamp
