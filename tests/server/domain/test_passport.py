"""PassportService: profiles, idempotent stamps, totals, tiers and perks, on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from core.tokens import TokenKind, verify_token
from server.db.models import PassportReward, PassportStamp
from server.db.models.enums import PassportRewardStatus
from server.domain import keys, passport
from server.errors import Conflict, NotFound
from tests.server.factories import T0, make_event, make_user


def test_new_profile_is_bronze_with_zero_totals_and_a_passport_token(session: Session) -> None:
    user = make_user(session, username="Machel.Fan!")
    profile = passport.get_or_create_profile(session, user_id=user.id)
    assert (profile.total_points, profile.total_events, profile.total_countries) == (0, 0, 0)
    assert profile.current_tier == "BRONZE"
    assert profile.handle == "machel_fan"
    verified = verify_token(profile.qr_token, keys.public_keys(session), TokenKind.PASSPORT)
    assert verified.ok and verified.claims and verified.claims.subject_id == user.id


def test_get_or_create_returns_the_same_profile(session: Session) -> None:
    user = make_user(session)
    first = passport.get_or_create_profile(session, user_id=user.id)
    assert passport.get_or_create_profile(session, user_id=user.id).id == first.id


def test_taken_handle_gets_a_short_id_suffix(session: Session) -> None:
    first = make_user(session, username="soca_queen")
    second = make_user(session, username="Soca Queen")
    passport.get_or_create_profile(session, user_id=first.id)
    profile = passport.get_or_create_profile(session, user_id=second.id)
    assert (
        profile.handle.startswith("soca_queen_") and len(profile.handle) == len("soca_queen_") + 6
    )


def test_unknown_user_has_no_profile(session: Session) -> None:
    import uuid

    with pytest.raises(NotFound):
        passport.get_or_create_profile(session, user_id=uuid.uuid4())


def test_award_copies_event_country_circuit_and_points(session: Session) -> None:
    user = make_user(session)
    event = make_event(session, country="US", circuit="Miami Carnival", points=75)
    result = passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    assert result.created and result.stamp is not None
    assert (result.stamp.country_code, result.stamp.carnival_circuit) == ("US", "Miami Carnival")
    assert result.stamp.points_earned == 75 and result.stamp.source == "TICKET_SCAN"
    assert (result.profile.total_points, result.profile.total_events) == (75, 1)
    assert result.profile.total_countries == 1


def test_second_award_for_same_event_returns_first_stamp_and_adds_nothing(session: Session) -> None:
    user = make_user(session)
    event = make_event(session)
    first = passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    again = passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    assert not again.created and again.stamp is not None and first.stamp is not None
    assert again.stamp.id == first.stamp.id
    assert again.profile.total_points == 50 and again.profile.total_events == 1
    count = session.scalar(select(func.count()).select_from(PassportStamp))
    assert count == 1


def test_disabled_event_changes_nothing(session: Session) -> None:
    user = make_user(session)
    event = make_event(session, enabled=False)
    result = passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    assert result.stamp is None and not result.created
    assert result.profile.total_points == 0
    assert session.scalar(select(func.count()).select_from(PassportStamp)) == 0


def test_countries_count_distinct_countries(session: Session) -> None:
    user = make_user(session)
    for country in ("TT", "TT", "US", "GB"):
        event = make_event(session, country=country)
        passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    profile = passport.get_or_create_profile(session, user_id=user.id)
    assert (profile.total_events, profile.total_countries) == (4, 3)


def test_tier_up_unlocks_each_perk_once(session: Session) -> None:
    user = make_user(session)
    results = []
    for _ in range(4):  # 4 x 200 points: SILVER at 400, GOLD at 800
        event = make_event(session, points=200)
        results.append(
            passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id, now=T0)
        )
    assert [r.tier for r in results] == ["BRONZE", "SILVER", "SILVER", "GOLD"]
    assert [r.tier_changed for r in results] == [False, True, False, True]
    rewards = session.scalars(select(PassportReward).where(PassportReward.user_id == user.id)).all()
    kinds = sorted((r.source_tier, r.reward_type) for r in rewards)
    assert kinds == [("GOLD", "MERCH_DISCOUNT"), ("GOLD", "VIP_LINE"), ("SILVER", "MERCH_DISCOUNT")]
    gold_vip = next(r for r in rewards if r.reward_type == "VIP_LINE")
    assert gold_vip.expires_at == T0 + timedelta(days=365)
    assert next(r for r in rewards if r.source_tier == "SILVER").metadata_json["value"] == 5


def test_redeem_reward_once_and_not_after_expiry(session: Session) -> None:
    user = make_user(session)
    for _ in range(4):
        event = make_event(session, points=200)
        passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id, now=T0)
    rewards = session.scalars(select(PassportReward).order_by(PassportReward.reward_type)).all()
    redeemed = passport.redeem_reward(session, reward_id=rewards[0].id, user_id=user.id, now=T0)
    assert redeemed.status == PassportRewardStatus.REDEEMED
    with pytest.raises(Conflict, match="redeemed"):
        passport.redeem_reward(session, reward_id=rewards[0].id, user_id=user.id, now=T0)
    vip = next(r for r in rewards if r.reward_type == "VIP_LINE")
    with pytest.raises(Conflict, match="expired"):
        passport.redeem_reward(
            session, reward_id=vip.id, user_id=user.id, now=T0 + timedelta(days=400)
        )


def test_expire_rewards_flips_only_past_due(session: Session) -> None:
    user = make_user(session)
    for _ in range(4):
        event = make_event(session, points=200)
        passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id, now=T0)
    assert passport.expire_rewards(session, now=T0 + timedelta(days=10)) == 0
    assert passport.expire_rewards(session, now=T0 + timedelta(days=366)) == 2  # GOLD's two
    statuses = session.scalars(select(PassportReward.status)).all()
    assert sorted(statuses) == ["AVAILABLE", "EXPIRED", "EXPIRED"]


def test_passport_summary_has_the_contract_shape(session: Session) -> None:
    user = make_user(session)
    event = make_event(session, name="Soca Brainwash")
    passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id)
    body = passport.passport_summary(session, user_id=user.id)
    assert set(body) == {
        "user_id",
        "handle",
        "total_points",
        "current_tier",
        "total_events",
        "total_countries",
        "stamps",
    }
    assert body["stamps"][0]["event_name"] == "Soca Brainwash"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(list(range(6))), repeats=st.lists(st.integers(0, 5), max_size=6))
def test_awarding_is_idempotent_in_any_order(
    session: Session, order: list[int], repeats: list[int]
) -> None:
    with session.begin_nested() as outer:
        user = make_user(session)
        events = [
            make_event(session, country=c, points=p)
            for c, p in zip("AABBCD", (100, 50, 300, 25, 75, 400), strict=True)
        ]
        for index in order + repeats:
            passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=events[index].id)
        profile = passport.get_or_create_profile(session, user_id=user.id)
        assert profile.total_points == 950
        assert profile.total_events == 6
        assert profile.total_countries == 4
        assert profile.current_tier == "GOLD"
        outer.rollback()


def test_a_stamp_takes_the_earliest_time_asked_for_it(session: Session) -> None:
    user = make_user(session)
    event = make_event(session)
    later = passport.award_stamp_for_event_scan(
        session, user_id=user.id, event_id=event.id, now=T0 + timedelta(hours=2)
    )
    earlier = passport.award_stamp_for_event_scan(
        session, user_id=user.id, event_id=event.id, now=T0
    )
    assert not earlier.created and earlier.stamp is not None and later.stamp is not None
    assert earlier.stamp.id == later.stamp.id and earlier.stamp.created_at == T0
    again = passport.award_stamp_for_event_scan(
        session, user_id=user.id, event_id=event.id, now=T0 + timedelta(hours=5)
    )
    assert again.stamp is not None and again.stamp.created_at == T0
    stored = session.scalar(
        select(PassportStamp.created_at).where(PassportStamp.user_id == user.id)
    )
    assert stored == T0
    profile = passport.get_profile(session, user_id=user.id)
    assert profile is not None and profile.total_events == 1


def test_points_beyond_the_int32_range_add_up_and_saturate_at_the_cap(session: Session) -> None:
    user = make_user(session)
    events = [make_event(session, points=2_147_483_647) for _ in range(2)]
    for event in events:
        passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=event.id, now=T0)
    profile = passport.get_profile(session, user_id=user.id)
    assert profile is not None
    session.refresh(profile)
    assert profile.total_points == 2 * 2_147_483_647
    profile.total_points = limits.PASSPORT_POINTS.maximum - 1
    session.flush()
    third = make_event(session, points=2_147_483_647)
    passport.award_stamp_for_event_scan(session, user_id=user.id, event_id=third.id, now=T0)
    session.refresh(profile)
    assert profile.total_points == limits.PASSPORT_POINTS.maximum
