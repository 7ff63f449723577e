"""Rewards (seed 003, event-based): validation, qualification from spend, limits, claims, races."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.reasons import Reason
from server.db.models import Event, EventReward, RewardRedemption, SpendTransaction
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.domain import event_rewards
from server.domain import spend as spend_feed
from server.errors import Conflict, InvalidInput, NotFound, ReasonError
from tests.conftest import _Databases
from tests.server.domain._world_packages import (
    HOUR,
    NOW,
    committed_sessions,
    make_event,
    make_user,
    race,
)

EUR = Decimal


def _reward(session: Session, event: Event, **fields: Any) -> EventReward:
    """An ACTIVE "spend 150 → 10 recharge" reward unless told otherwise."""
    values: dict[str, Any] = {
        "name": "Spend 150, get 10",
        "trigger_type": RewardTriggerType.MINIMUM_SPEND,
        "minimum_spend": EUR("150.00"),
        "reward_type": RewardType.RECHARGE,
        "reward_amount": EUR("10.00"),
        "status": RewardStatus.ACTIVE,
    }
    values.update(fields)
    return event_rewards.create(session, event_id=event.id, **values)


def _spend(
    session: Session,
    event: Event,
    user_id: uuid.UUID,
    amount: str,
    *,
    at: datetime = NOW,
    external_id: str | None = None,
    bracelet: str | None = None,
) -> spend_feed.SpendResult:
    return spend_feed.record_spend(
        session,
        event_id=event.id,
        user_id=user_id,
        amount=EUR(amount),
        occurred_at=at,
        external_id=external_id,
        django_bracelet_id=bracelet,
    )


def _code(excinfo: pytest.ExceptionInfo[ReasonError]) -> Reason:
    return excinfo.value.reason


# ---------------------------------------------------------------- catalogue and validation


def test_create_get_list_and_update_a_reward(session: Session) -> None:
    event = make_event(session)
    reward = _reward(session, event, status=RewardStatus.DRAFT)
    assert reward.promoter_id == event.promoter_id
    assert reward.max_redemptions_per_user == 1
    assert event_rewards.get(session, reward_id=reward.id) is reward
    updated = event_rewards.update(
        session, reward_id=reward.id, status=RewardStatus.ACTIVE, max_redemptions_per_user=None
    )
    assert (updated.status, updated.max_redemptions_per_user) == (RewardStatus.ACTIVE, None)
    assert updated.minimum_spend == EUR("150.00")  # not given, not changed
    listed = event_rewards.list_(session, event_id=event.id, status=RewardStatus.ACTIVE)
    assert [r.id for r in listed] == [reward.id]
    assert event_rewards.list_(session, event_id=event.id, status=RewardStatus.DRAFT) == []


def test_unlimited_per_user_is_stored_as_null(session: Session) -> None:
    reward = _reward(session, make_event(session), max_redemptions_per_user=None)
    session.expire_all()
    assert event_rewards.get(session, reward_id=reward.id).max_redemptions_per_user is None


def test_unknown_reward_is_reward_not_found(session: Session) -> None:
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.get(session, reward_id=uuid.uuid4())
    assert _code(excinfo) is Reason.REWARD_NOT_FOUND
    assert excinfo.value.status == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"reward_amount": EUR("0.00")},
        {"reward_amount": EUR("-5.00")},
        {"reward_amount": None},
        {"reward_type": RewardType.DISCOUNT_PERCENTAGE, "reward_amount": EUR("100.01")},
        {"minimum_spend": None},
        {"minimum_spend": EUR("0.00")},
        {"trigger_type": RewardTriggerType.TRANSACTION_COUNT, "minimum_spend": None},
        {"trigger_type": RewardTriggerType.TRANSACTION_COUNT, "minimum_transactions": 0},
    ],
)
def test_bad_amounts_are_reward_invalid_amount(session: Session, fields: dict[str, Any]) -> None:
    event = make_event(session)
    with pytest.raises(ReasonError) as excinfo:
        _reward(session, event, **fields)
    assert _code(excinfo) is Reason.REWARD_INVALID_AMOUNT
    assert excinfo.value.status == 422


def test_a_full_percentage_discount_is_allowed(session: Session) -> None:
    reward = _reward(
        session,
        make_event(session),
        reward_type=RewardType.DISCOUNT_PERCENTAGE,
        reward_amount=EUR("100"),
    )
    assert reward.reward_amount == EUR("100.00")


@pytest.mark.parametrize(
    "fields",
    [
        {"trigger_type": RewardTriggerType.SPECIFIC_ITEMS},
        {"reward_type": "HUG"},
        {"max_redemptions_per_user": 0},
        {"max_total_redemptions": 0},
        {"status": RewardStatus.DEPLETED},
        {"active_from": NOW, "active_until": NOW - HOUR},
        {"active_from": NOW.replace(tzinfo=None)},
    ],
)
def test_other_bad_fields_are_invalid_input(session: Session, fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        _reward(session, make_event(session), **fields)


def test_refused_update_leaves_the_reward_unchanged(session: Session) -> None:
    reward = _reward(session, make_event(session))
    with pytest.raises(ReasonError):
        event_rewards.update(session, reward_id=reward.id, name="Free", reward_amount=EUR("0"))
    reread = event_rewards.get(session, reward_id=reward.id)
    assert (reread.name, reread.reward_amount) == ("Spend 150, get 10", EUR("10.00"))


def test_delete_removes_an_unearned_reward_and_refuses_an_earned_one(session: Session) -> None:
    event = make_event(session)
    unearned, earned = _reward(session, event), _reward(session, event, minimum_spend=EUR("5"))
    _spend(session, event, make_user(session).id, "5.00")
    with pytest.raises(Conflict):
        event_rewards.delete(session, reward_id=earned.id)
    event_rewards.delete(session, reward_id=unearned.id)
    assert session.get(EventReward, unearned.id) is None
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.delete(session, reward_id=unearned.id)
    assert _code(excinfo) is Reason.REWARD_NOT_FOUND


# ---------------------------------------------------------------- qualification by spend


def test_spend_crossing_the_minimum_earns_one_redemption_from_that_spend(session: Session) -> None:
    event = make_event(session)
    reward = _reward(session, event)
    user = make_user(session)
    first = _spend(session, event, user.id, "100.00", at=NOW, bracelet="BR-1")
    assert first.redemptions == ()
    second = _spend(session, event, user.id, "60.00", at=NOW + HOUR, bracelet="BR-2")
    assert second.transaction.amount == EUR("60.00")
    assert len(second.redemptions) == 1
    redemption = second.redemptions[0]
    assert (redemption.reward_id, redemption.user_id, redemption.event_id) == (
        reward.id,
        user.id,
        event.id,
    )
    assert (redemption.trigger_amount, redemption.trigger_transactions) == (EUR("160.00"), 2)
    assert (redemption.reward_amount, redemption.django_bracelet_id) == (EUR("10.00"), "BR-2")
    assert redemption.qualified_at == NOW + HOUR
    assert redemption.applied_at is None
    session.expire_all()
    assert event_rewards.get(session, reward_id=reward.id).current_redemptions == 1


def test_user_earns_again_per_multiple_of_the_minimum_up_to_the_per_user_cap(
    session: Session,
) -> None:
    event = make_event(session)
    _reward(session, event, minimum_spend=EUR("100.00"), max_redemptions_per_user=2)
    user = make_user(session)
    assert len(_spend(session, event, user.id, "100.00").redemptions) == 1
    assert len(_spend(session, event, user.id, "50.00").redemptions) == 0
    assert len(_spend(session, event, user.id, "60.00").redemptions) == 1  # 210: second
    assert len(_spend(session, event, user.id, "500.00").redemptions) == 0  # capped at 2


def test_one_big_spend_earns_every_multiple_it_crosses(session: Session) -> None:
    event = make_event(session)
    _reward(session, event, minimum_spend=EUR("50.00"), max_redemptions_per_user=None)
    result = _spend(session, event, make_user(session).id, "175.00")
    assert [r.trigger_amount for r in result.redemptions] == [EUR("175.00")] * 3


def test_transaction_count_qualifies_every_nth_transaction(session: Session) -> None:
    event = make_event(session)
    _reward(
        session,
        event,
        trigger_type=RewardTriggerType.TRANSACTION_COUNT,
        minimum_spend=None,
        minimum_transactions=3,
        reward_amount=EUR("5.00"),
        max_redemptions_per_user=None,
    )
    user = make_user(session)
    earned = [len(_spend(session, event, user.id, "1.00").redemptions) for _ in range(7)]
    assert earned == [0, 0, 1, 0, 0, 1, 0]
    redemptions = event_rewards.list_redemptions(session, user_id=user.id)
    assert sorted(r.trigger_transactions or 0 for r in redemptions) == [3, 6]


def test_spend_outside_the_active_window_does_not_count(session: Session) -> None:
    event = make_event(session)
    _reward(session, event, active_from=NOW, active_until=NOW + 2 * HOUR)
    user = make_user(session)
    assert _spend(session, event, user.id, "140.00", at=NOW - HOUR).redemptions == ()
    assert _spend(session, event, user.id, "140.00", at=NOW + 2 * HOUR).redemptions == ()
    assert _spend(session, event, user.id, "140.00", at=NOW).redemptions == ()
    late_but_inside = _spend(session, event, user.id, "10.00", at=NOW + HOUR)  # synced late
    assert len(late_but_inside.redemptions) == 1
    assert late_but_inside.redemptions[0].trigger_amount == EUR("150.00")


def test_only_active_rewards_of_the_spends_event_are_evaluated(session: Session) -> None:
    event, other = make_event(session), make_event(session)
    active = _reward(session, event)
    _reward(session, event, status=RewardStatus.DRAFT)
    _reward(session, event, status=RewardStatus.INACTIVE)
    _reward(session, other)
    result = _spend(session, event, make_user(session).id, "150.00")
    assert [r.reward_id for r in result.redemptions] == [active.id]


def test_spends_of_other_users_and_events_do_not_add_up(session: Session) -> None:
    event, other = make_event(session), make_event(session)
    _reward(session, event)
    user, friend = make_user(session), make_user(session)
    _spend(session, other, user.id, "100.00")
    _spend(session, event, friend.id, "100.00")
    assert _spend(session, event, user.id, "100.00").redemptions == ()


def test_same_external_id_returns_the_first_result_without_earning_twice(
    session: Session,
) -> None:
    event = make_event(session)
    _reward(session, event, max_redemptions_per_user=None, minimum_spend=EUR("100"))
    user = make_user(session)
    first = _spend(session, event, user.id, "100.00", external_id="pos-42")
    again = _spend(session, event, user.id, "100.00", external_id="pos-42")
    assert (first.duplicate, len(first.redemptions)) == (False, 1)
    assert (again.duplicate, again.redemptions) == (True, first.redemptions)  # the first result
    assert again.transaction.id == first.transaction.id
    spends = session.scalar(select(func.count()).select_from(SpendTransaction))
    assert spends == 1


def test_reused_external_id_for_another_spend_is_a_conflict(session: Session) -> None:
    event = make_event(session)
    user = make_user(session)
    _spend(session, event, user.id, "10.00", external_id="pos-7")
    with pytest.raises(Conflict):
        _spend(session, event, user.id, "99.00", external_id="pos-7")


def test_bad_spends_are_refused(session: Session) -> None:
    event = make_event(session)
    user = make_user(session)
    with pytest.raises(InvalidInput):
        _spend(session, event, user.id, "-1.00")
    with pytest.raises(InvalidInput):
        _spend(session, event, user.id, "1.001")
    with pytest.raises(InvalidInput):
        _spend(session, event, user.id, "1.00", at=NOW.replace(tzinfo=None))
    with pytest.raises(NotFound):
        _spend(session, event, uuid.uuid4(), "1.00")


# ---------------------------------------------------------------- global cap


def test_the_redemption_that_reaches_the_global_cap_sets_depleted(session: Session) -> None:
    event = make_event(session)
    reward = _reward(session, event, max_total_redemptions=2)
    users = [make_user(session) for _ in range(3)]
    assert len(_spend(session, event, users[0].id, "150.00").redemptions) == 1
    assert event_rewards.get(session, reward_id=reward.id).status == RewardStatus.ACTIVE
    assert len(_spend(session, event, users[1].id, "150.00").redemptions) == 1
    assert event_rewards.get(session, reward_id=reward.id).status == RewardStatus.DEPLETED
    assert _spend(session, event, users[2].id, "150.00").redemptions == ()
    session.expire_all()
    reread = event_rewards.get(session, reward_id=reward.id)
    assert (reread.current_redemptions, reread.status) == (2, RewardStatus.DEPLETED)


def test_raising_the_global_cap_reopens_a_depleted_reward_and_redeem_catches_up(
    session: Session,
) -> None:
    event = make_event(session)
    reward = _reward(session, event, max_total_redemptions=1)
    winner, late = make_user(session), make_user(session)
    _spend(session, event, winner.id, "150.00")
    _spend(session, event, late.id, "150.00")
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=reward.id, user_id=late.id, now=NOW)
    assert _code(excinfo) is Reason.REWARD_DEPLETED
    with pytest.raises(InvalidInput):
        event_rewards.update(session, reward_id=reward.id, max_total_redemptions=0)
    reopened = event_rewards.update(session, reward_id=reward.id, max_total_redemptions=3)
    assert reopened.status == RewardStatus.ACTIVE
    claimed = event_rewards.redeem(session, reward_id=reward.id, user_id=late.id, now=NOW)
    assert (claimed.user_id, claimed.trigger_amount) == (late.id, EUR("150.00"))


# ---------------------------------------------------------------- explicit claims


def test_redeem_claims_a_qualification_earned_before_the_reward_was_active(
    session: Session,
) -> None:
    event = make_event(session)
    reward = _reward(session, event, status=RewardStatus.DRAFT)
    user = make_user(session)
    _spend(session, event, user.id, "200.00", at=NOW - HOUR, bracelet="BR-9")
    event_rewards.update(session, reward_id=reward.id, status=RewardStatus.ACTIVE)
    claimed = event_rewards.redeem(session, reward_id=reward.id, user_id=user.id, now=NOW)
    assert (claimed.reward_amount, claimed.django_bracelet_id) == (EUR("10.00"), "BR-9")
    assert claimed.qualified_at == NOW - HOUR
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=reward.id, user_id=user.id, now=NOW)
    assert _code(excinfo) is Reason.REWARD_MAX_REDEMPTIONS_EXCEEDED


def test_redeem_of_unknown_reward_is_reward_not_found(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=uuid.uuid4(), user_id=user.id, now=NOW)
    assert _code(excinfo) is Reason.REWARD_NOT_FOUND
    assert excinfo.value.status == 404


@pytest.mark.parametrize("status", [RewardStatus.DRAFT, RewardStatus.INACTIVE])
def test_redeem_of_a_reward_not_active_is_reward_inactive(session: Session, status: str) -> None:
    event = make_event(session)
    reward = _reward(session, event, status=status)
    user = make_user(session)
    _spend(session, event, user.id, "150.00")
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=reward.id, user_id=user.id, now=NOW)
    assert _code(excinfo) is Reason.REWARD_INACTIVE


@pytest.mark.parametrize("now", [NOW - HOUR, NOW + 2 * HOUR])
def test_redeem_outside_the_active_window_is_reward_expired(
    session: Session, now: datetime
) -> None:
    event = make_event(session)
    reward = _reward(session, event, active_from=NOW, active_until=NOW + 2 * HOUR)
    user = make_user(session)
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=reward.id, user_id=user.id, now=now)
    assert _code(excinfo) is Reason.REWARD_EXPIRED


def test_redeem_of_a_depleted_reward_is_reward_depleted(session: Session) -> None:
    event = make_event(session)
    reward = _reward(session, event, max_total_redemptions=1)
    _spend(session, event, make_user(session).id, "150.00")
    other = make_user(session)
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=reward.id, user_id=other.id, now=NOW)
    assert _code(excinfo) is Reason.REWARD_DEPLETED


def test_redeem_after_the_automatic_redemption_is_max_redemptions_exceeded(
    session: Session,
) -> None:
    event = make_event(session)
    reward = _reward(session, event)
    user = make_user(session)
    _spend(session, event, user.id, "150.00")
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=reward.id, user_id=user.id, now=NOW)
    assert _code(excinfo) is Reason.REWARD_MAX_REDEMPTIONS_EXCEEDED
    assert excinfo.value.context == {"redeemed": 1, "max": 1}


def test_redeem_below_the_threshold_is_reward_user_not_qualified(session: Session) -> None:
    event = make_event(session)
    reward = _reward(session, event)
    user = make_user(session)
    _spend(session, event, user.id, "149.99")
    with pytest.raises(ReasonError) as excinfo:
        event_rewards.redeem(session, reward_id=reward.id, user_id=user.id, now=NOW)
    assert _code(excinfo) is Reason.REWARD_USER_NOT_QUALIFIED
    assert event_rewards.get(session, reward_id=reward.id).current_redemptions == 0


# ---------------------------------------------------------------- applying


def test_mark_applied_sets_applied_at_once_and_again_changes_nothing(session: Session) -> None:
    event = make_event(session)
    _reward(session, event)
    result = _spend(session, event, make_user(session).id, "150.00", bracelet="BR-1")
    redemption = result.redemptions[0]
    assert event_rewards.list_redemptions(session, event_id=event.id, unapplied_only=True) == [
        redemption
    ]
    applied = event_rewards.mark_applied(
        session, redemption_id=redemption.id, now=NOW + HOUR, django_bracelet_id="BR-2"
    )
    assert (applied.applied_at, applied.django_bracelet_id) == (NOW + HOUR, "BR-2")
    again = event_rewards.mark_applied(session, redemption_id=redemption.id, now=NOW + 2 * HOUR)
    assert (again.applied_at, again.django_bracelet_id) == (NOW + HOUR, "BR-2")
    assert event_rewards.list_redemptions(session, event_id=event.id, unapplied_only=True) == []
    with pytest.raises(NotFound):
        event_rewards.mark_applied(session, redemption_id=uuid.uuid4(), now=NOW)


# ---------------------------------------------------------------- races


@pytest.fixture(params=["postgresql"])
def postgres_factory(
    request: pytest.FixtureRequest, databases: _Databases
) -> Iterator[sessionmaker[Session]]:
    """Committing sessions on PostgreSQL only, where row locks decide the race."""
    with committed_sessions(databases.engine(request.param)) as factory:
        yield factory


@pytest.fixture(params=["sqlite"])
def sqlite_factory(
    request: pytest.FixtureRequest, databases: _Databases
) -> Iterator[sessionmaker[Session]]:
    """Committing sessions on SQLite, where BEGIN IMMEDIATE serialises the race."""
    with committed_sessions(databases.engine(request.param)) as factory:
        yield factory


def _twenty_users_race_for_five_rewards(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        event = make_event(session)
        reward = _reward(session, event, max_total_redemptions=5)
        users = [make_user(session).id for _ in range(20)]
        event_id, reward_id = event.id, reward.id

    def spend(session: Session, index: int) -> tuple[RewardRedemption, ...]:
        return spend_feed.record_spend(
            session,
            event_id=event_id,
            user_id=users[index],
            amount=EUR("150.00"),
            occurred_at=NOW,
            external_id=f"pos-{index}",
        ).redemptions

    outcomes = race(factory, 20, spend)

    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert sorted(len(o) for o in outcomes if isinstance(o, tuple)) == [0] * 15 + [1] * 5
    with factory() as session:
        reward = event_rewards.get(session, reward_id=reward_id)
        assert (reward.current_redemptions, reward.status) == (5, RewardStatus.DEPLETED)
        redemptions = event_rewards.list_redemptions(session, reward_id=reward_id)
        assert len(redemptions) == 5
        assert len({r.user_id for r in redemptions}) == 5
        assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 20


def test_global_cap_of_five_holds_for_twenty_concurrent_users_on_postgresql(
    postgres_factory: sessionmaker[Session],
) -> None:
    _twenty_users_race_for_five_rewards(postgres_factory)


def test_global_cap_of_five_holds_for_twenty_concurrent_users_on_sqlite(
    sqlite_factory: sessionmaker[Session],
) -> None:
    _twenty_users_race_for_five_rewards(sqlite_factory)


def _one_user_sends_the_same_and_different_spends_at_once(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        event = make_event(session)
        reward = _reward(session, event, minimum_spend=EUR("100"), max_redemptions_per_user=3)
        user_id, event_id, reward_id = make_user(session).id, event.id, reward.id

    def spend(session: Session, index: int) -> spend_feed.SpendResult:
        return spend_feed.record_spend(
            session,
            event_id=event_id,
            user_id=user_id,
            amount=EUR("100.00"),
            occurred_at=NOW,
            external_id=f"pos-{index % 5}",  # five distinct spends, each sent four times
        )

    outcomes = race(factory, 20, spend)

    results = [o for o in outcomes if isinstance(o, spend_feed.SpendResult)]
    assert len(results) == 20, outcomes
    assert sum(not r.duplicate for r in results) == 5
    earned = sum(len(r.redemptions) for r in results if not r.duplicate)
    assert earned == 3  # 500 spent, capped at 3 per user
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 5
        redemptions = event_rewards.list_redemptions(session, reward_id=reward_id)
        assert len(redemptions) == 3


def test_per_user_cap_and_idempotency_hold_under_concurrent_spends_on_postgresql(
    postgres_factory: sessionmaker[Session],
) -> None:
    _one_user_sends_the_same_and_different_spends_at_once(postgres_factory)


def test_per_user_cap_and_idempotency_hold_under_concurrent_spends_on_sqlite(
    sqlite_factory: sessionmaker[Session],
) -> None:
    _one_user_sends_the_same_and_different_spends_at_once(sqlite_factory)
