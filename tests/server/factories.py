"""Small builders for test worlds: rows made directly with the models."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.db.models import Branch, Event, Offer, User

_counter = itertools.count(1)
T0 = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)


def make_user(session: Session, username: str | None = None, **fields: Any) -> User:
    """An attendee with a unique username."""
    number = next(_counter)
    user = User(
        username=username or f"fan{number}",
        display_name=fields.pop("display_name", f"Fan {number}"),
        **fields,
    )
    session.add(user)
    session.flush()
    return user


def make_event(
    session: Session,
    *,
    enabled: bool = True,
    country: str | None = "TT",
    circuit: str | None = "Trinidad Carnival",
    points: int = 50,
    **fields: Any,
) -> Event:
    """A passport-enabled event (unless told otherwise)."""
    event = Event(
        name=fields.pop("name", f"Fête {next(_counter)}"),
        starts_at=fields.pop("starts_at", T0),
        is_soca_passport_enabled=enabled,
        country_code=country,
        carnival_circuit=circuit,
        stamp_points_default=points,
        **fields,
    )
    session.add(event)
    session.flush()
    return event


def make_offer(
    session: Session, *, max_stamps: int = 5, loyalty_tiers: dict[str, Any] | None = None
) -> Offer:
    """A branch with one active stamp-card offer."""
    branch = Branch(name=f"Rum Shop {next(_counter)}", country_code="TT")
    session.add(branch)
    session.flush()
    offer = Offer(
        id=uuid.uuid4(),
        branch_id=branch.id,
        name="Fifth drink free",
        max_stamps=max_stamps,
        loyalty_tiers=loyalty_tiers,
    )
    session.add(offer)
    session.flush()
    return offer
