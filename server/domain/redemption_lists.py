"""Redemptions as people read them: an attendee's earned rewards, a promoter's live counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Event, EventReward, RewardRedemption, User


@dataclass(frozen=True)
class Earned:
    """One redemption with its reward and event."""

    redemption: RewardRedemption
    reward: EventReward
    event: Event


@dataclass(frozen=True)
class RewardTally:
    """How often one reward was earned and applied, and its latest redemptions."""

    given: int
    applied: int
    latest: list[tuple[RewardRedemption, User]]


def earned_by(session: Session, *, user_id: uuid.UUID) -> list[Earned]:
    """A user's redemptions, newest first."""
    query = (
        select(RewardRedemption, EventReward, Event)
        .join(EventReward, EventReward.id == RewardRedemption.reward_id)
        .join(Event, Event.id == RewardRedemption.event_id)
        .where(RewardRedemption.user_id == user_id)
        .order_by(RewardRedemption.qualified_at.desc(), RewardRedemption.id)
    )
    return [Earned(*row) for row in session.execute(query).all()]


def tallies(
    session: Session, *, event_id: uuid.UUID, latest: int = 10
) -> dict[uuid.UUID, RewardTally]:
    """Per reward of the event: redemptions given and applied, and the `latest` few."""
    counts = session.execute(
        select(
            RewardRedemption.reward_id,
            func.count(),
            func.count(RewardRedemption.applied_at),
        )
        .where(RewardRedemption.event_id == event_id)
        .group_by(RewardRedemption.reward_id)
    ).all()
    found: dict[uuid.UUID, RewardTally] = {}
    for reward_id, given, applied in counts:
        recent = session.execute(
            select(RewardRedemption, User)
            .join(User, User.id == RewardRedemption.user_id)
            .where(RewardRedemption.reward_id == reward_id)
            .order_by(RewardRedemption.qualified_at.desc(), RewardRedemption.id)
            .limit(latest)
        ).all()
        found[reward_id] = RewardTally(given, applied, [(r, u) for r, u in recent])
    return found
