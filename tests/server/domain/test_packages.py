"""Packages (seed 003, pre-event): catalogue, validation, purchases, activation, expiry, races."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.reasons import Reason
from core.tokens import TokenKind, verify_token
from server.db.models import Package, PackageItem, PackagePurchase
from server.db.models.enums import PackageItemType, PackageStatus, PurchaseStatus
from server.domain import packages, purchases
from server.errors import Conflict, InvalidInput, NotFound, ReasonError
from tests.conftest import _Databases
from tests.server.domain._world_packages import (
    DAY,
    HOUR,
    KEY,
    NOW,
    PUBLIC_KEYS,
    committed_sessions,
    make_event,
    make_package,
    make_user,
    race,
)


def _reason(excinfo: pytest.ExceptionInfo[ReasonError]) -> Reason:
    return excinfo.value.reason


def _buy(
    session: Session, package: Package, *, user_id: uuid.UUID | None = None
) -> PackagePurchase:
    return purchases.purchase(
        session,
        package_id=package.id,
        user_id=user_id or make_user(session).id,
        now=NOW,
        signing_key=KEY,
    )


# ---------------------------------------------------------------- catalogue


def test_create_stores_package_with_its_items_and_event_promoter(session: Session) -> None:
    event = make_event(session)
    package = make_package(session, event)
    assert package.status == PackageStatus.ACTIVE
    assert package.sold_quantity == 0
    assert package.promoter_id == event.promoter_id
    assert packages.get(session, package_id=package.id) is package
    items = {
        (i.type, i.quantity, i.bracelet_amount)
        for i in packages.list_items(session, package_id=package.id)
    }
    assert items == {
        ("ENTRY", 1, None),
        ("BRACELET", 2, Decimal("50.00")),
        ("MERCHANDISE", 1, None),
    }


def test_list_filters_by_event_and_status(session: Session) -> None:
    event, other = make_event(session), make_event(session)
    active = make_package(session, event)
    draft = make_package(session, event, status=PackageStatus.DRAFT)
    make_package(session, other)
    assert {p.id for p in packages.list_(session, event_id=event.id)} == {active.id, draft.id}
    listed = packages.list_(session, event_id=event.id, status=PackageStatus.DRAFT)
    assert [p.id for p in listed] == [draft.id]


def test_unknown_package_is_package_not_found(session: Session) -> None:
    with pytest.raises(ReasonError) as excinfo:
        packages.get(session, package_id=uuid.uuid4())
    assert _reason(excinfo) is Reason.PACKAGE_NOT_FOUND
    assert excinfo.value.status == 404


def test_package_for_unknown_event_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        packages.create(session, event_id=uuid.uuid4(), name="Ghost", price=Decimal("1.00"))


@pytest.mark.parametrize(
    ("price", "original_price"),
    [
        (Decimal("-0.01"), None),
        (Decimal("10.00"), Decimal("8.00")),
        (Decimal("10.001"), None),
        (Decimal("NaN"), None),
    ],
)
def test_bad_prices_are_invalid_price(
    session: Session, price: Decimal, original_price: Decimal | None
) -> None:
    event = make_event(session)
    with pytest.raises(ReasonError) as excinfo:
        make_package(session, event, price=price, original_price=original_price)
    assert _reason(excinfo) is Reason.PACKAGE_INVALID_PRICE
    assert excinfo.value.status == 422


@pytest.mark.parametrize(
    "fields",
    [{"max_per_user": 0}, {"max_quantity": 0}, {"max_per_user": -3}],
)
def test_bad_limits_are_invalid_quantity(session: Session, fields: dict[str, Any]) -> None:
    event = make_event(session)
    with pytest.raises(ReasonError) as excinfo:
        packages.create(session, event_id=event.id, name="Limits", price=Decimal("5.00"), **fields)
    assert _reason(excinfo) is Reason.PACKAGE_INVALID_QUANTITY
    assert excinfo.value.status == 422


def test_item_quantity_below_one_is_invalid_quantity(session: Session) -> None:
    event = make_event(session)
    item = packages.ItemSpec(name="Nothing", type=PackageItemType.ENTRY, quantity=0)
    with pytest.raises(ReasonError) as excinfo:
        packages.create(
            session, event_id=event.id, name="Empty", price=Decimal("5.00"), items=[item]
        )
    assert _reason(excinfo) is Reason.PACKAGE_INVALID_QUANTITY


def test_unknown_item_type_and_system_status_are_invalid_input(session: Session) -> None:
    event = make_event(session)
    item = packages.ItemSpec(name="Boat ride", type="BOAT")
    with pytest.raises(InvalidInput):
        packages.create(session, event_id=event.id, name="x", price=Decimal("1.00"), items=[item])
    with pytest.raises(InvalidInput):
        packages.create(
            session, event_id=event.id, name="x", price=Decimal("1.00"), status="SOLD_OUT"
        )


def test_max_quantity_below_sold_is_invalid_quantity_and_leaves_package_unchanged(
    session: Session,
) -> None:
    package = make_package(session, make_event(session), max_quantity=10)
    _buy(session, package)
    _buy(session, package)
    with pytest.raises(ReasonError) as excinfo:
        packages.update(session, package_id=package.id, max_quantity=1, name="Renamed")
    assert _reason(excinfo) is Reason.PACKAGE_INVALID_QUANTITY
    reread = packages.get(session, package_id=package.id)
    assert (reread.max_quantity, reread.name) == (10, "Early Bird VIP")


def test_update_changes_given_fields_and_replaces_items(session: Session) -> None:
    package = make_package(session, make_event(session))
    updated = packages.update(
        session,
        package_id=package.id,
        price=Decimal("90.00"),
        original_price=None,
        status=PackageStatus.INACTIVE,
        items=[packages.ItemSpec(name="Entry", type=PackageItemType.ENTRY)],
    )
    assert (updated.price, updated.original_price, updated.status) == (
        Decimal("90.00"),
        None,
        PackageStatus.INACTIVE,
    )
    assert updated.max_quantity == 100  # not given, not changed
    assert [i.type for i in packages.list_items(session, package_id=package.id)] == ["ENTRY"]


def test_delete_removes_an_unsold_package_and_its_items(session: Session) -> None:
    package = make_package(session, make_event(session))
    packages.delete(session, package_id=package.id)
    assert session.get(Package, package.id) is None
    items = session.scalars(select(PackageItem).where(PackageItem.package_id == package.id))
    assert list(items) == []


def test_delete_refuses_a_package_that_sold(session: Session) -> None:
    package = make_package(session, make_event(session))
    _buy(session, package)
    with pytest.raises(Conflict):
        packages.delete(session, package_id=package.id)
    assert packages.get(session, package_id=package.id).sold_quantity == 1


# ---------------------------------------------------------------- purchases


def test_purchase_records_amounts_bracelets_and_a_verifiable_token(session: Session) -> None:
    package = make_package(session, make_event(session))
    user = make_user(session)
    bought = purchases.purchase(
        session,
        package_id=package.id,
        user_id=user.id,
        now=NOW,
        signing_key=KEY,
        payment_method="CARD",
    )
    assert bought.status == PurchaseStatus.PAID
    assert bought.payment_method == "CARD"
    assert (bought.amount, bought.final_amount, bought.discount_amount) == (
        Decimal("100.00"),
        Decimal("80.00"),
        Decimal("20.00"),
    )
    assert (bought.event_id, bought.promoter_id) == (package.event_id, package.promoter_id)
    assert len(bought.django_bracelet_ids) == 2  # one BRACELET item of quantity 2
    assert len(set(bought.django_bracelet_ids)) == 2
    assert all(b.startswith("BR-") for b in bought.django_bracelet_ids)
    verified = verify_token(bought.qr_token, PUBLIC_KEYS, TokenKind.PURCHASE)
    assert verified.ok
    assert verified.claims is not None
    assert (verified.claims.subject_id, verified.claims.scope_id) == (bought.id, package.event_id)
    assert packages.get(session, package_id=package.id).sold_quantity == 1
    session.expire_all()
    assert session.get(PackagePurchase, bought.id) is not None


def test_purchase_without_original_price_has_no_discount(session: Session) -> None:
    package = make_package(session, make_event(session), original_price=None)
    bought = _buy(session, package)
    assert (bought.amount, bought.final_amount, bought.discount_amount) == (
        Decimal("80.00"),
        Decimal("80.00"),
        Decimal("0.00"),
    )


def test_purchase_of_unknown_package_is_package_not_found(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(ReasonError) as excinfo:
        purchases.purchase(
            session, package_id=uuid.uuid4(), user_id=user.id, now=NOW, signing_key=KEY
        )
    assert _reason(excinfo) is Reason.PACKAGE_NOT_FOUND
    assert excinfo.value.status == 404


@pytest.mark.parametrize("status", [PackageStatus.DRAFT, PackageStatus.INACTIVE])
def test_package_not_on_sale_is_package_inactive(session: Session, status: str) -> None:
    package = make_package(session, make_event(session), status=status)
    with pytest.raises(ReasonError) as excinfo:
        _buy(session, package)
    assert _reason(excinfo) is Reason.PACKAGE_INACTIVE
    assert excinfo.value.status == 409
    assert packages.get(session, package_id=package.id).sold_quantity == 0


def test_purchase_before_the_sale_opens_is_package_expired(session: Session) -> None:
    package = make_package(session, make_event(session), sale_start_date=NOW + HOUR)
    with pytest.raises(ReasonError) as excinfo:
        _buy(session, package)
    assert _reason(excinfo) is Reason.PACKAGE_EXPIRED
    assert excinfo.value.context["opens"] == (NOW + HOUR).isoformat()
    assert packages.get(session, package_id=package.id).status == PackageStatus.ACTIVE


def test_purchase_after_the_sale_ends_is_expired_and_flips_the_status(session: Session) -> None:
    package = make_package(session, make_event(session), sale_end_date=NOW)  # end is exclusive
    with pytest.raises(ReasonError) as excinfo:
        _buy(session, package)
    assert _reason(excinfo) is Reason.PACKAGE_EXPIRED
    session.expire_all()
    assert packages.get(session, package_id=package.id).status == PackageStatus.EXPIRED
    with pytest.raises(ReasonError) as again:
        _buy(session, package)
    assert _reason(again) is Reason.PACKAGE_EXPIRED


def test_last_unit_sells_once_and_marks_sold_out(session: Session) -> None:
    package = make_package(session, make_event(session), max_quantity=2)
    _buy(session, package)
    assert packages.get(session, package_id=package.id).status == PackageStatus.ACTIVE
    _buy(session, package)
    assert packages.get(session, package_id=package.id).status == PackageStatus.SOLD_OUT
    with pytest.raises(ReasonError) as excinfo:
        _buy(session, package)
    assert _reason(excinfo) is Reason.PACKAGE_SOLD_OUT
    assert excinfo.value.status == 409
    session.expire_all()
    reread = packages.get(session, package_id=package.id)
    assert (reread.sold_quantity, reread.status) == (2, PackageStatus.SOLD_OUT)


def test_raising_max_quantity_puts_a_sold_out_package_back_on_sale(session: Session) -> None:
    package = make_package(session, make_event(session), max_quantity=1)
    _buy(session, package)
    assert package.status == PackageStatus.SOLD_OUT
    assert packages.update(session, package_id=package.id, max_quantity=2).status == "ACTIVE"
    _buy(session, package)
    assert packages.get(session, package_id=package.id).status == PackageStatus.SOLD_OUT


def test_max_per_user_counts_paid_and_pending_but_not_cancelled(session: Session) -> None:
    package = make_package(session, make_event(session), max_per_user=2)
    user = make_user(session)
    first = _buy(session, package, user_id=user.id)
    second = _buy(session, package, user_id=user.id)
    second.status = PurchaseStatus.PENDING
    session.flush()
    with pytest.raises(ReasonError) as excinfo:
        _buy(session, package, user_id=user.id)
    assert _reason(excinfo) is Reason.PACKAGE_MAX_PER_USER_EXCEEDED
    first.status = PurchaseStatus.CANCELLED
    session.flush()
    assert _buy(session, package, user_id=user.id).status == PurchaseStatus.PAID
    assert _buy(session, package).status == PurchaseStatus.PAID  # another user is not limited


def test_no_limits_means_unlimited(session: Session) -> None:
    package = make_package(session, make_event(session), max_quantity=None, max_per_user=None)
    user = make_user(session)
    for _ in range(5):
        _buy(session, package, user_id=user.id)
    assert packages.get(session, package_id=package.id).sold_quantity == 5


def test_purchase_by_unknown_user_is_not_found(session: Session) -> None:
    package = make_package(session, make_event(session))
    with pytest.raises(NotFound):
        purchases.purchase(
            session, package_id=package.id, user_id=uuid.uuid4(), now=NOW, signing_key=KEY
        )


def test_naive_time_and_unknown_payment_method_are_invalid_input(session: Session) -> None:
    package = make_package(session, make_event(session))
    user = make_user(session)
    with pytest.raises(InvalidInput):
        purchases.purchase(
            session,
            package_id=package.id,
            user_id=user.id,
            now=NOW.replace(tzinfo=None),
            signing_key=KEY,
        )
    with pytest.raises(InvalidInput):
        purchases.purchase(
            session,
            package_id=package.id,
            user_id=user.id,
            now=NOW,
            signing_key=KEY,
            payment_method="SEASHELLS",
        )


# ---------------------------------------------------------------- activation and expiry


def test_activation_happens_once_and_the_second_says_when(session: Session) -> None:
    bought = _buy(session, make_package(session, make_event(session)))
    activated = purchases.activate(session, purchase_id=bought.id, now=NOW + DAY)
    assert activated.activated_at == NOW + DAY
    with pytest.raises(ReasonError) as excinfo:
        purchases.activate(session, purchase_id=bought.id, now=NOW + DAY + HOUR)
    assert _reason(excinfo) is Reason.ALREADY_ACTIVATED
    assert excinfo.value.context == {"when": (NOW + DAY).isoformat()}
    assert purchases.get_purchase(session, purchase_id=bought.id).activated_at == NOW + DAY


@pytest.mark.parametrize("status", [PurchaseStatus.PENDING, PurchaseStatus.REFUNDED])
def test_unpaid_purchase_is_not_activated(session: Session, status: str) -> None:
    bought = _buy(session, make_package(session, make_event(session)))
    bought.status = status
    session.flush()
    with pytest.raises(ReasonError) as excinfo:
        purchases.activate(session, purchase_id=bought.id, now=NOW)
    assert _reason(excinfo) is Reason.PURCHASE_NOT_PAID
    assert excinfo.value.context == {"status": status}


def test_activating_an_unknown_purchase_is_unknown_purchase(session: Session) -> None:
    with pytest.raises(ReasonError) as excinfo:
        purchases.activate(session, purchase_id=uuid.uuid4(), now=NOW)
    assert _reason(excinfo) is Reason.UNKNOWN_PURCHASE
    assert excinfo.value.status == 404


def test_expire_packages_flips_only_active_packages_past_their_sale_end(session: Session) -> None:
    event = make_event(session)
    ended = make_package(session, event, sale_end_date=NOW - HOUR)
    ending_now = make_package(session, event, sale_end_date=NOW)
    running = make_package(session, event, sale_end_date=NOW + HOUR)
    endless = make_package(session, event, sale_end_date=None)
    draft = make_package(session, event, sale_end_date=NOW - HOUR, status=PackageStatus.DRAFT)
    assert packages.expire_packages(session, now=NOW) == 2
    session.expire_all()
    statuses = {p.id: p.status for p in packages.list_(session, event_id=event.id)}
    assert statuses == {
        ended.id: PackageStatus.EXPIRED,
        ending_now.id: PackageStatus.EXPIRED,
        running.id: PackageStatus.ACTIVE,
        endless.id: PackageStatus.ACTIVE,
        draft.id: PackageStatus.DRAFT,
    }
    assert packages.expire_packages(session, now=NOW) == 0


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


def _twenty_buyers_race_for_the_last_unit(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        package = make_package(session, make_event(session), max_quantity=3, max_per_user=1)
        _buy(session, package)
        _buy(session, package)  # one unit left
        buyers = [make_user(session).id for _ in range(20)]
        package_id = package.id

    def buy(session: Session, index: int) -> PackagePurchase:
        return purchases.purchase(
            session, package_id=package_id, user_id=buyers[index], now=NOW, signing_key=KEY
        )

    outcomes = race(factory, 20, buy)

    sold = [o for o in outcomes if isinstance(o, PackagePurchase)]
    refused = [o for o in outcomes if not isinstance(o, PackagePurchase)]
    assert len(sold) == 1
    assert all(
        isinstance(o, ReasonError) and o.reason is Reason.PACKAGE_SOLD_OUT for o in refused
    ), refused
    assert len(refused) == 19
    with factory() as session:
        package = packages.get(session, package_id=package_id)
        assert (package.sold_quantity, package.status) == (3, PackageStatus.SOLD_OUT)
        rows = session.scalars(
            select(PackagePurchase).where(PackagePurchase.package_id == package_id)
        ).all()
        assert len(rows) == 3


def test_last_unit_sells_once_among_twenty_concurrent_buyers_on_postgresql(
    postgres_factory: sessionmaker[Session],
) -> None:
    _twenty_buyers_race_for_the_last_unit(postgres_factory)


def test_last_unit_sells_once_among_twenty_concurrent_buyers_on_sqlite(
    sqlite_factory: sessionmaker[Session],
) -> None:
    _twenty_buyers_race_for_the_last_unit(sqlite_factory)


def _one_user_races_for_their_only_allowance(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        package = make_package(session, make_event(session), max_quantity=50, max_per_user=1)
        user_id, package_id = make_user(session).id, package.id

    outcomes = race(
        factory,
        10,
        lambda session, _: purchases.purchase(
            session, package_id=package_id, user_id=user_id, now=NOW, signing_key=KEY
        ),
    )

    assert sum(isinstance(o, PackagePurchase) for o in outcomes) == 1
    refused = [o for o in outcomes if not isinstance(o, PackagePurchase)]
    assert all(
        isinstance(o, ReasonError) and o.reason is Reason.PACKAGE_MAX_PER_USER_EXCEEDED
        for o in refused
    ), refused
    with factory() as session:
        assert packages.get(session, package_id=package_id).sold_quantity == 1


def test_one_users_concurrent_purchases_respect_max_per_user_on_postgresql(
    postgres_factory: sessionmaker[Session],
) -> None:
    _one_user_races_for_their_only_allowance(postgres_factory)


def test_one_users_concurrent_purchases_respect_max_per_user_on_sqlite(
    sqlite_factory: sessionmaker[Session],
) -> None:
    _one_user_races_for_their_only_allowance(sqlite_factory)
