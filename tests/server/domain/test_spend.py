"""Spend batches (issue 18): each transaction alone, bracelets, replays answer the first result."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Event, RewardRedemption, SpendTransaction
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.domain import event_rewards, purchases
from server.domain.spend import SpendIn, record_spends
from tests.server.domain._world_packages import (
    HOUR,
    KEY,
    NOW,
    make_event,
    make_package,
    make_user,
)


def _reward(session: Session, event: Event, **overrides: object) -> None:
    fields: dict[str, object] = {
        "name": "Spend 150, get 10",
        "trigger_type": RewardTriggerType.MINIMUM_SPEND,
        "minimum_spend": Decimal("150.00"),
        "reward_type": RewardType.RECHARGE,
        "reward_amount": Decimal("10.00"),
        "status": RewardStatus.ACTIVE,
        **overrides,
    }
    event_rewards.create(session, event_id=event.id, **fields)  # type: ignore[arg-type]


def _item(external_id: str, amount: str, **more: object) -> SpendIn:
    return SpendIn(
        amount=Decimal(amount), occurred_at=more.pop("at", NOW), external_id=external_id, **more
    )  # type: ignore[arg-type]


def test_a_bad_transaction_is_refused_alone_and_writes_nothing(session: Session) -> None:
    event = make_event(session)
    _reward(session, event)
    user = make_user(session)
    results = record_spends(
        session,
        event_id=event.id,
        items=[
            _item("a", "100.00", user_id=user.id),
            _item("b", "-5.00", user_id=user.id),
            _item("c", "10.00", user_id=uuid.uuid4()),
            _item("d", "10.00"),
            _item("e", "10.00", user_id=user.id, currency="USD"),
            _item("f", "60.00", user_id=user.id, currency="EUR", at=NOW + HOUR),
        ],
        currency="EUR",
    )
    assert [r.status for r in results] == [
        "recorded",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "recorded",
    ]
    errors = [(r.error.code, r.error.status) for r in results if r.error is not None]
    assert errors == [
        ("bad_amount", 422),
        ("unknown_user", 404),
        ("no_customer", 422),
        ("wrong_currency", 422),
    ]
    assert results[0].redemptions == ()
    assert [r.reward_amount for r in results[5].redemptions] == [Decimal("10.00")]
    assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 2


def test_a_replayed_batch_changes_nothing_and_answers_the_first_results(session: Session) -> None:
    event = make_event(session)
    _reward(session, event, max_redemptions_per_user=None)
    users = [make_user(session) for _ in range(3)]
    batch = [_item(f"pos-{i}", "150.00", user_id=u.id) for i, u in enumerate(users)]
    first = record_spends(session, event_id=event.id, items=batch)
    again = record_spends(session, event_id=event.id, items=batch)
    assert [r.status for r in again] == ["duplicate"] * 3
    assert [r.transaction.id for r in again if r.transaction] == [
        r.transaction.id for r in first if r.transaction
    ]
    assert [[x.id for x in r.redemptions] for r in again] == [
        [x.id for x in r.redemptions] for r in first
    ]
    assert session.scalar(select(func.count()).select_from(RewardRedemption)) == 3


def test_the_same_external_id_twice_in_one_batch_is_recorded_once(session: Session) -> None:
    event = make_event(session)
    _reward(session, event)
    user = make_user(session)
    results = record_spends(
        session,
        event_id=event.id,
        items=[
            _item("x", "150.00", user_id=user.id),
            _item("x", "150.00", user_id=user.id),
            _item("x", "99.00", user_id=user.id),
        ],
    )
    assert [r.status for r in results] == ["recorded", "duplicate", "rejected"]
    assert results[2].error is not None and results[2].error.code == "external_id_reused"
    assert [x.id for x in results[1].redemptions] == [x.id for x in results[0].redemptions]
    assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 1


def test_a_spend_by_bracelet_reaches_the_wearer(session: Session) -> None:
    event = make_event(session)
    _reward(session, event)
    package = make_package(session, event)
    buyer = make_user(session)
    bought = purchases.purchase(
        session, package_id=package.id, user_id=buyer.id, now=NOW, signing_key=KEY
    )
    bracelet = bought.django_bracelet_ids[0]
    stranger = make_user(session)
    results = record_spends(
        session,
        event_id=event.id,
        items=[
            _item("b1", "150.00", bracelet_id=bracelet, at=NOW + HOUR),
            _item("b2", "1.00", bracelet_id="BR-NOBODY"),
            _item("b3", "1.00", bracelet_id=bracelet, user_id=stranger.id),
        ],
    )
    assert [r.status for r in results] == ["recorded", "rejected", "rejected"]
    assert results[0].transaction is not None and results[0].transaction.user_id == buyer.id
    assert [x.django_bracelet_id for x in results[0].redemptions] == [bracelet]
    assert [r.error.code for r in results[1:] if r.error] == [
        "unknown_bracelet",
        "bracelet_mismatch",
    ]


def test_a_late_spend_is_answered_with_the_redemption_it_caused(session: Session) -> None:
    event = make_event(session)
    _reward(session, event)
    user = make_user(session)
    record_spends(session, event_id=event.id, items=[_item("l1", "100.00", user_id=user.id)])
    late = record_spends(
        session, event_id=event.id, items=[_item("l0", "60.00", user_id=user.id, at=NOW - HOUR)]
    )
    (redemption,) = late[0].redemptions
    assert late[0].transaction is not None
    assert redemption.spend_transaction_id == late[0].transaction.id
    assert redemption.qualified_at == NOW  # the crossing was the 100.00 at NOW


def test_a_repeat_of_a_refused_transaction_in_the_batch_is_refused_too(session: Session) -> None:
    event = make_event(session)
    ghost = uuid.uuid4()
    results = record_spends(
        session,
        event_id=event.id,
        items=[_item("g", "5.00", user_id=ghost), _item("g", "5.00", user_id=ghost)],
    )
    assert [(r.status, r.error.code if r.error else None) for r in results] == [
        ("rejected", "unknown_user"),
        ("rejected", "unknown_user"),
    ]
    assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 0
