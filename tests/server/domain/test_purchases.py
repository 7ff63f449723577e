"""Purchases (issue 18): the payment step, pay at the door, mark paid, bracelets as rows."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.purchases import door_collects_payment, door_may_activate
from core.reasons import Reason
from server.db.models import PackagePurchase, PurchaseBracelet
from server.db.models.enums import PaymentMethod, PurchaseStatus
from server.domain import payments, purchases
from server.errors import Conflict, InvalidInput, ReasonError
from tests.server.domain._world_packages import (
    DAY,
    HOUR,
    KEY,
    NOW,
    make_event,
    make_package,
    make_user,
)


def _buy_cash(session: Session) -> PackagePurchase:
    package = make_package(session, make_event(session))
    return purchases.purchase(
        session,
        package_id=package.id,
        user_id=make_user(session).id,
        now=NOW,
        signing_key=KEY,
        provider=payments.provider("cash"),
    )


def test_pay_at_the_door_leaves_the_purchase_pending_with_instructions(session: Session) -> None:
    bought = _buy_cash(session)
    assert (bought.status, bought.payment_method, bought.paid_at) == (
        PurchaseStatus.PENDING,
        PaymentMethod.CASH,
        None,
    )
    step = payments.provider("cash").start(purchase_id=bought.id, amount=Decimal("80.00"))
    assert step.status == PurchaseStatus.PENDING
    assert "€80.00 in cash at the door" in step.instructions


def test_an_unknown_provider_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput, match="cash"):
        payments.provider("bitcoin")


def test_without_a_provider_the_purchase_is_paid_at_once(session: Session) -> None:
    package = make_package(session, make_event(session))
    bought = purchases.purchase(
        session, package_id=package.id, user_id=make_user(session).id, now=NOW, signing_key=KEY
    )
    assert (bought.status, bought.paid_at) == (PurchaseStatus.PAID, NOW)


def test_the_door_takes_the_cash_and_activates_a_pending_purchase(session: Session) -> None:
    bought = _buy_cash(session)
    activated = purchases.activate(session, purchase_id=bought.id, now=NOW + DAY)
    assert (activated.status, activated.paid_at, activated.activated_at) == (
        PurchaseStatus.PAID,
        NOW + DAY,
        NOW + DAY,
    )
    with pytest.raises(ReasonError) as excinfo:
        purchases.activate(session, purchase_id=bought.id, now=NOW + DAY + HOUR)
    assert excinfo.value.reason is Reason.ALREADY_ACTIVATED


def test_a_pending_card_purchase_is_not_activated_at_the_door(session: Session) -> None:
    bought = _buy_cash(session)
    bought.payment_method = PaymentMethod.CARD
    session.flush()
    with pytest.raises(ReasonError) as excinfo:
        purchases.activate(session, purchase_id=bought.id, now=NOW)
    assert excinfo.value.reason is Reason.PURCHASE_NOT_PAID


def test_mark_paid_settles_a_pending_purchase_once(session: Session) -> None:
    bought = _buy_cash(session)
    paid = purchases.mark_paid(session, purchase_id=bought.id, now=NOW + HOUR)
    assert (paid.status, paid.paid_at) == (PurchaseStatus.PAID, NOW + HOUR)
    again = purchases.mark_paid(session, purchase_id=bought.id, now=NOW + DAY)
    assert again.paid_at == NOW + HOUR
    bought.status = PurchaseStatus.CANCELLED
    session.flush()
    with pytest.raises(Conflict):
        purchases.mark_paid(session, purchase_id=bought.id, now=NOW + DAY)
    with pytest.raises(ReasonError) as excinfo:
        purchases.mark_paid(session, purchase_id=uuid.uuid4(), now=NOW)
    assert excinfo.value.reason is Reason.UNKNOWN_PURCHASE


def test_each_bracelet_of_a_purchase_is_a_row_naming_its_wearer(session: Session) -> None:
    bought = _buy_cash(session)
    found = session.scalars(
        select(PurchaseBracelet).where(PurchaseBracelet.purchase_id == bought.id)
    ).all()
    assert sorted(row.bracelet_id for row in found) == sorted(bought.django_bracelet_ids)
    assert len(found) == 2
    assert {(row.user_id, row.event_id) for row in found} == {(bought.user_id, bought.event_id)}


def test_lists_name_the_package_and_event(session: Session) -> None:
    bought = _buy_cash(session)
    mine = purchases.list_for_user(session, user_id=bought.user_id)
    assert [(line.purchase.id, line.package.id) for line in mine] == [
        (bought.id, bought.package_id)
    ]
    assert purchases.list_for_event(session, event_id=bought.event_id, status="PAID") == []
    assert len(purchases.list_for_event(session, event_id=bought.event_id)) == 1


@pytest.mark.parametrize(
    ("status", "method", "collects", "may"),
    [
        ("PAID", None, False, True),
        ("PAID", "CASH", False, True),
        ("PENDING", "CASH", True, True),
        ("PENDING", "CARD", False, False),
        ("PENDING", None, False, False),
        ("CANCELLED", "CASH", False, False),
    ],
)
def test_the_door_rule(status: str, method: str | None, collects: bool, may: bool) -> None:
    assert door_collects_payment(status, method) is collects
    assert door_may_activate(status, method) is may
