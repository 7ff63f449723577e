"""Manage Event: the Packages and Rewards tabs, their forms (create, edit, on/off, delete), values
in words, a message after each change, and tenancy (404 for another promoter's)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import Event, EventReward, Package
from server.db.session import unit_of_work
from server.domain import event_rewards, keys, packages, purchases
from tests.server.web.conftest import login, post_form, token_of
from tests.server.web.world import WebWorld

PACKAGE = {
    "name": "Early Bird VIP",
    "description": "Entry and two bar bracelets",
    "price": "80.00",
    "original_price": "100.00",
    "max_quantity": "200",
    "max_per_user": "2",
    "sale_start_date": "2026-01-10T09:00",
    "sale_end_date": "2026-02-14T18:00",
    "status": "DRAFT",
    "item_type_0": "ENTRY",
    "item_name_0": "VIP entry",
    "item_quantity_0": "1",
    "item_type_1": "BRACELET",
    "item_name_1": "Bar bracelet",
    "item_quantity_1": "2",
    "item_amount_1": "50",
    "item_type_2": "MERCHANDISE",
    "item_name_2": "",
}


def _zone(factory: sessionmaker[Session], world: WebWorld, zone: str) -> None:
    with unit_of_work(factory) as session:
        event = session.get(Event, world.event_a_id)
        assert event is not None
        event.time_zone = zone


def test_a_package_is_created_with_items_shown_in_words_edited_and_taken_off_sale(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    _zone(factory, world, "America/Port_of_Spain")
    login(client, world.emails["promoter_a"])
    manage = f"/promoter/events/{world.event_a_id}/manage"
    form = f"/promoter/events/{world.event_a_id}/packages/new"
    assert "Pre-event (Packages)" in client.get(manage).text
    action = f"/promoter/events/{world.event_a_id}/packages"
    bad = post_form(client, form, action, {**PACKAGE, "price": "lots"})
    assert bad.status_code == 422 and 'data-field="price"' in bad.text
    assert 'value="Early Bird VIP"' in bad.text  # nothing typed is lost
    no_amount = post_form(client, form, action, {**PACKAGE, "item_amount_1": ""})
    assert no_amount.status_code == 422 and "how much each bracelet holds" in no_amount.text
    below = post_form(client, form, action, {**PACKAGE, "original_price": "50"})
    assert below.status_code == 422 and "original_price is below price" in below.text
    made = post_form(client, form, action, PACKAGE)
    assert made.status_code == 303
    shown = client.get(made.headers["location"]).text
    assert "Package “Early Bird VIP” created." in shown
    assert "2 × Bar bracelet, preloaded with 50.00 each" in shown
    assert "0 sold of 200" in shown and "2 per fan" in shown and "<s>100.00</s>" in shown
    assert "Draft (not on sale)" in shown and "BRACELET" not in shown
    with unit_of_work(factory) as session:
        package = session.scalars(select(Package)).one()
        assert (package.price, package.original_price, package.max_per_user) == (
            Decimal("80.00"),
            Decimal("100.00"),
            2,
        )
        # typed on the venue's clock (UTC-4), stored in UTC
        assert package.sale_end_date == datetime(2026, 2, 14, 22, 0, tzinfo=UTC)
        kinds = sorted(
            (i.type, i.quantity) for i in packages.list_items(session, package_id=package.id)
        )
        assert kinds == [("BRACELET", 2), ("ENTRY", 1)]
    edit = f"/promoter/packages/{package.id}/edit"
    filled = client.get(edit).text
    assert 'value="2026-02-14T18:00"' in filled and 'value="Bar bracelet"' in filled
    changed = {**PACKAGE, "name": "VIP", "item_name_0": "", "price": "75"}
    saved = post_form(client, edit, edit, changed)
    assert saved.status_code == 303
    assert "Package “VIP” saved." in client.get(manage).text
    with unit_of_work(factory) as session:
        assert session.get(Package, package.id).price == Decimal("75.00")  # type: ignore[union-attr]
        assert len(packages.list_items(session, package_id=package.id)) == 1
    status = f"/promoter/packages/{package.id}/status"
    assert post_form(client, manage, status, {"status": "ACTIVE"}).status_code == 303
    assert "“VIP” is on sale." in client.get(manage).text
    assert post_form(client, manage, status, {"status": "INACTIVE"}).status_code == 303
    page = client.get(manage).text
    assert "“VIP” is off sale." in page and "Off sale" in page


def test_a_package_is_deleted_after_a_confirmation_unless_someone_bought_it(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        spare = packages.create(session, event_id=world.event_a_id, name="Spare", price=Decimal(5))
        sold = packages.create(
            session, event_id=world.event_a_id, name="Sold", price=Decimal(5), status="ACTIVE"
        )
        purchases.purchase(
            session,
            package_id=sold.id,
            user_id=world.attendee_id,
            now=datetime.now(UTC),
            signing_key=keys.current_signing_key(session),
        )
    login(client, world.emails["promoter_a"])
    ask = client.get(f"/promoter/packages/{spare.id}/delete")
    assert ask.status_code == 200 and "Delete “Spare”?" in ask.text
    assert post_form(client, ask.url.path, ask.url.path, {}).status_code == 303
    refused = post_form(
        client, f"/promoter/packages/{sold.id}/delete", f"/promoter/packages/{sold.id}/delete", {}
    )
    assert refused.status_code == 303
    shown = client.get(refused.headers["location"]).text
    assert "“Sold” was not deleted: it has been bought." in shown
    with unit_of_work(factory) as session:
        assert session.get(Package, spare.id) is None
        assert session.get(Package, sold.id) is not None


def test_a_reward_is_created_in_words_edited_paused_and_deleted(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    form = f"/promoter/events/{world.event_a_id}/rewards/new"
    action = f"/promoter/events/{world.event_a_id}/rewards"
    reward = {
        "name": "Spend 150",
        "trigger_type": "MINIMUM_SPEND",
        "reward_type": "RECHARGE",
        "reward_amount": "10",
        "max_redemptions_per_user": "1",
        "status": "ACTIVE",
    }
    refused = post_form(client, form, action, reward)
    assert refused.status_code == 422 and "how much a fan must spend" in refused.text
    percent = post_form(
        client,
        form,
        action,
        {
            **reward,
            "reward_type": "DISCOUNT_PERCENTAGE",
            "minimum_spend": "150",
            "reward_amount": "150",
        },
    )
    assert percent.status_code == 422 and "cannot exceed 100" in percent.text
    made = post_form(client, form, action, {**reward, "minimum_spend": "150"})
    assert made.status_code == 303
    tab = client.get(made.headers["location"]).text
    assert "Reward “Spend 150” created." in tab
    assert "Spend 150.00 or more" in tab and "10.00 free recharge on the bracelet" in tab
    assert "MINIMUM_SPEND" not in tab.split("<main")[1] and "RECHARGE" not in tab.split("<main")[1]
    with unit_of_work(factory) as session:
        row = session.scalars(select(EventReward)).one()
    edit = f"/promoter/rewards/{row.id}/edit"
    changed = {**reward, "trigger_type": "TRANSACTION_COUNT", "minimum_transactions": "10",
               "reward_type": "DISCOUNT_PERCENTAGE", "reward_amount": "15"}  # fmt: skip
    assert post_form(client, edit, edit, changed).status_code == 303
    tab = client.get(f"/promoter/events/{world.event_a_id}/manage?tab=rewards").text
    assert "Make 10 purchases" in tab and "15% off the next purchase" in tab
    status = f"/promoter/rewards/{row.id}/status"
    assert post_form(client, edit, status, {"status": "INACTIVE"}).status_code == 303
    assert (
        "“Spend 150” is paused."
        in client.get(f"/promoter/events/{world.event_a_id}/manage?tab=rewards").text
    )
    delete = f"/promoter/rewards/{row.id}/delete"
    assert "Delete “Spend 150”?" in client.get(delete).text
    assert post_form(client, delete, delete, {}).status_code == 303
    with unit_of_work(factory) as session:
        assert session.get(EventReward, row.id) is None


def test_a_promoter_never_manages_another_promoters_event(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        theirs_package = packages.create(
            session, event_id=world.event_b_id, name="Theirs", price=Decimal("5")
        ).id
        theirs_reward = event_rewards.create(
            session,
            event_id=world.event_b_id,
            name="Theirs",
            trigger_type="MINIMUM_SPEND",
            minimum_spend=Decimal("50"),
            reward_type="RECHARGE",
            reward_amount=Decimal("5"),
        ).id
    login(client, world.emails["promoter_a"])
    token = token_of(client.get("/promoter").text)
    other = world.event_b_id
    for page in (
        f"/promoter/events/{other}/manage",
        f"/promoter/events/{other}/manage?tab=rewards",
        f"/promoter/events/{other}/packages/new",
        f"/promoter/events/{other}/rewards/new",
        f"/promoter/packages/{theirs_package}/edit",
        f"/promoter/packages/{theirs_package}/delete",
        f"/promoter/rewards/{theirs_reward}/edit",
        f"/promoter/rewards/{theirs_reward}/delete",
    ):
        shown = client.get(page)
        assert shown.status_code == 404, page
        assert "Theirs" not in shown.text
    for path, data in (
        (f"/promoter/events/{other}/packages", {"name": "X", "price": "1"}),
        (f"/promoter/events/{other}/rewards", {"name": "X"}),
        (f"/promoter/packages/{theirs_package}/status", {"status": "INACTIVE"}),
        (f"/promoter/packages/{theirs_package}/edit", {"name": "Mine", "price": "1"}),
        (f"/promoter/packages/{theirs_package}/delete", {}),
        (f"/promoter/rewards/{theirs_reward}/status", {"status": "INACTIVE"}),
        (f"/promoter/rewards/{theirs_reward}/edit", {"name": "Mine"}),
        (f"/promoter/rewards/{theirs_reward}/delete", {}),
        ("/promoter/packages/not-an-id/status", {"status": "INACTIVE"}),
    ):
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 404, path
        assert "Theirs" not in response.text
    with unit_of_work(factory) as session:
        assert session.get(Package, theirs_package).status == "DRAFT"  # type: ignore[union-attr]
        assert session.get(EventReward, theirs_reward).status == "DRAFT"  # type: ignore[union-attr]
