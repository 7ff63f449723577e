"""HQ tier configuration: validated as a whole, replaces the set, felt by the next award."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.tiers import PointTier
from server.domain import passport, tiers
from server.errors import InvalidInput
from tests.server.factories import make_event, make_user


def test_seeded_defaults_are_in_force(session: Session) -> None:
    assert [(t.name, t.min_points) for t in tiers.list_tiers(session)] == [
        ("BRONZE", 0),
        ("SILVER", 300),
        ("GOLD", 800),
        ("ELITE", 1500),
    ]


def test_replacing_tiers_changes_the_next_award(session: Session) -> None:
    user, event = make_user(session), make_event(session, points=100)
    passport.load_point_tiers(session)  # warm the session cache first
    tiers.replace_tiers(
        session, tiers=[PointTier("BRONZE", 0), PointTier("PLATINUM", 100, {"vip_line": True})]
    )
    result = passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    assert result.tier == "PLATINUM" and result.tier_changed
    assert [r.reward_type for r in result.new_rewards] == ["VIP_LINE"]
    assert [t.name for t in tiers.list_tiers(session)] == ["BRONZE", "PLATINUM"]


def test_invalid_tier_set_is_refused_and_nothing_changes(session: Session) -> None:
    with pytest.raises(InvalidInput, match="'SILVER' and 'GOLD'") as refused:
        tiers.replace_tiers(
            session,
            tiers=[PointTier("BRONZE", 0), PointTier("SILVER", 300), PointTier("GOLD", 300)],
        )
    assert refused.value.code == "tier_config"
    assert len(tiers.list_tiers(session)) == 4
