"""Perpetual stamp cards (seed 002): stamps, prize confirmation, tiers, late entries, expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from core.cards import CardState, EntryKind
from core.reasons import Reason
from server.db.models.enums import PassStatus
from server.domain import cards
from server.errors import ReasonError
from tests.server.factories import T0, make_offer, make_user


def _stamps(
    session: Session, offer_id: uuid.UUID, user_id: uuid.UUID, count: int, start: int = 0
) -> cards.CardResult:
    result = None
    for minute in range(start, start + count):
        result = cards.add_stamp(
            session, offer_id=offer_id, user_id=user_id, occurred_at=T0 + timedelta(minutes=minute)
        )
    assert result is not None
    return result


def test_stamps_count_up_to_a_full_card(session: Session) -> None:
    offer, user = make_offer(session), make_user(session)
    result = _stamps(session, offer.id, user.id, 5)
    assert (result.card.current_stamps, result.card.rewards_claimed) == (5, 0)
    assert result.card.last_activity_at == T0 + timedelta(minutes=4)


def test_stamp_on_full_card_is_refused_with_card_full(session: Session) -> None:
    offer, user = make_offer(session), make_user(session)
    _stamps(session, offer.id, user.id, 5)
    with pytest.raises(ReasonError) as refused:
        cards.add_stamp(
            session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(hours=1)
        )
    assert refused.value.reason is Reason.CARD_FULL
    assert "5 of 5" in refused.value.message
    assert cards.get_pass(session, offer_id=offer.id, user_id=user.id).current_stamps == 5  # type: ignore[union-attr]


def test_prize_needs_a_full_card(session: Session) -> None:
    offer, user = make_offer(session), make_user(session)
    _stamps(session, offer.id, user.id, 4)
    with pytest.raises(ReasonError) as refused:
        cards.confirm_prize(
            session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(hours=1)
        )
    assert refused.value.reason is Reason.NOT_ENOUGH_STAMPS
    assert "4 of 5" in refused.value.message


def test_confirm_prize_resets_card_counts_completion_and_returns_seed_shape(
    session: Session,
) -> None:
    offer, user = make_offer(session), make_user(session)
    _stamps(session, offer.id, user.id, 5)
    result = cards.confirm_prize(
        session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(hours=1)
    )
    body = result.confirm_prize_body()
    assert body["success"] is True and body["newCycleStarted"] is True
    assert body["progress"] == {
        "currentStamps": 0,
        "maxStamps": 5,
        "rewardsClaimed": 1,
        "stampsEarned": 0,
        "stampsRequired": 5,
    }
    assert body["tier"]["currentTier"] == {"id": "bronze", "name": "Bronze Member", "icon": "🥉"}
    assert body["tier"]["nextTier"] == {"name": "Silver Member", "icon": "🥈"}
    assert body["tier"]["rewardsToNextTier"] == 2
    assert body["totalCompletions"] == 1
    assert result.tier_changed


def test_third_completion_moves_to_silver_and_stamping_starts_again(session: Session) -> None:
    offer, user = make_offer(session, max_stamps=2), make_user(session)
    minute = 0
    result = None
    for _cycle in range(3):
        _stamps(session, offer.id, user.id, 2, start=minute)
        minute += 2
        result = cards.confirm_prize(
            session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(minutes=minute)
        )
        minute += 1
    assert result is not None and result.tier is not None
    assert result.tier.id == "silver" and result.tier_changed
    again = _stamps(session, offer.id, user.id, 1, start=minute)
    assert (again.card.current_stamps, again.card.rewards_claimed) == (1, 3)
    assert not again.tier_changed


def test_custom_tiers_from_offer_config(session: Session) -> None:
    config = {
        "enabled": True,
        "tiers": [
            {
                "id": "lover",
                "name": "Coffee Lover",
                "nameAr": "محب القهوة",
                "minRewards": 1,
                "maxRewards": None,
                "icon": "☕",
                "color": "#6F4E37",
            }
        ],
    }
    offer, user = make_offer(session, max_stamps=1, loyalty_tiers=config), make_user(session)
    _stamps(session, offer.id, user.id, 1)
    result = cards.confirm_prize(
        session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(hours=1)
    )
    assert result.confirm_prize_body()["tier"]["currentTier"]["name"] == "Coffee Lover"
    assert result.confirm_prize_body()["tier"]["isTopTier"] is True


def test_late_stamp_lands_in_door_time_order_and_wins_over_later_ones(
    session: Session,
) -> None:
    offer, user = make_offer(session, max_stamps=2), make_user(session)
    cards.add_stamp(session, offer_id=offer.id, user_id=user.id, occurred_at=T0)
    cards.add_stamp(
        session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(minutes=2)
    )
    cards.confirm_prize(
        session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(minutes=3)
    )
    # An offline device's stamp from minute 1 arrives now. In door-time order it
    # filled the card, so the minute-2 stamp is the one that no longer counts.
    late = cards.add_stamp(
        session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(minutes=1)
    )
    assert (late.card.current_stamps, late.card.rewards_claimed) == (0, 1)


def test_late_stamp_refused_where_the_card_was_already_full(session: Session) -> None:
    offer, user = make_offer(session, max_stamps=1), make_user(session)
    cards.add_stamp(session, offer_id=offer.id, user_id=user.id, occurred_at=T0)
    cards.confirm_prize(
        session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(minutes=5)
    )
    with pytest.raises(ReasonError) as refused:
        cards.add_stamp(
            session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(minutes=2)
        )
    assert refused.value.reason is Reason.CARD_FULL
    card = cards.get_pass(session, offer_id=offer.id, user_id=user.id)
    assert card is not None and (card.current_stamps, card.rewards_claimed) == (0, 1)


def test_inactive_pass_expires_and_a_scan_brings_it_back_at_zero(session: Session) -> None:
    offer, user = make_offer(session), make_user(session)
    _stamps(session, offer.id, user.id, 3)
    assert (
        cards.expire_inactive_passes(session, now=T0 + timedelta(days=30), inactivity_days=90) == 0
    )
    assert (
        cards.expire_inactive_passes(session, now=T0 + timedelta(days=91), inactivity_days=90) == 1
    )
    card = cards.get_pass(session, offer_id=offer.id, user_id=user.id)
    assert card is not None and card.status == PassStatus.EXPIRED
    back = cards.add_stamp(
        session,
        offer_id=offer.id,
        user_id=user.id,
        occurred_at=T0 + timedelta(days=120),
        inactivity_days=90,
    )
    assert back.restarted and back.card.status == PassStatus.ACTIVE
    assert back.card.current_stamps == 1


def test_active_pass_with_recent_scan_is_not_expired(session: Session) -> None:
    offer, user = make_offer(session), make_user(session)
    _stamps(session, offer.id, user.id, 1)
    cards.add_stamp(
        session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(days=80)
    )
    assert (
        cards.expire_inactive_passes(session, now=T0 + timedelta(days=100), inactivity_days=90) == 0
    )


def test_pass_view_has_the_contract_shape(session: Session) -> None:
    offer, user = make_offer(session), make_user(session)
    _stamps(session, offer.id, user.id, 4)
    view = cards.pass_view(session, offer_id=offer.id, user_id=user.id)
    assert view["progress"]["currentStamps"] == 4 and view["progress"]["maxStamps"] == 5
    assert set(view["tier"]) >= {"currentTier", "rewardsToNextTier", "nextTier", "isTopTier"}


def test_unknown_offer_and_unknown_customer_are_refused(session: Session) -> None:
    offer = make_offer(session)
    with pytest.raises(ReasonError) as no_offer:
        cards.add_stamp(session, offer_id=uuid.uuid4(), user_id=uuid.uuid4(), occurred_at=T0)
    assert no_offer.value.reason is Reason.UNKNOWN_OFFER
    with pytest.raises(ReasonError) as no_user:
        cards.add_stamp(session, offer_id=offer.id, user_id=uuid.uuid4(), occurred_at=T0)
    assert no_user.value.reason is Reason.UNKNOWN_PASSPORT


def test_write_back_keeps_direct_entries_and_swaps_the_op_entries_counted(
    session: Session,
) -> None:
    offer, user = make_offer(session), make_user(session)
    _stamps(session, offer.id, user.id, 1)  # a direct entry (no op)
    card = cards.get_or_create_pass(session, offer_id=offer.id, user_id=user.id)
    one, two = uuid.uuid4(), uuid.uuid4()

    def entry(op_id: uuid.UUID, minute: int) -> cards.OpEntry:
        return cards.OpEntry(op_id, EntryKind.STAMP, T0 + timedelta(minutes=minute), None, 1)

    state = CardState(2, 0, T0 + timedelta(minutes=5))
    cards.write_back(
        session, card, state=state, entries=cards.ledger(session, card.id), counted=[entry(one, 5)]
    )
    cards.write_back(
        session, card, state=state, entries=cards.ledger(session, card.id), counted=[entry(two, 6)]
    )
    ledger = cards.ledger(session, card.id)
    assert [row.op_id for row in ledger] == [None, two]
    assert (card.current_stamps, card.rewards_claimed) == (2, 0)
