"""Manage Event: the Packages and Rewards tabs, their forms, and tenancy (404 for others')."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import EventReward, Package
from server.db.session import unit_of_work
from server.domain import event_rewards, packages
from tests.server.web.conftest import login, post_form, token_of
from tests.server.web.world import WebWorld


def test_packages_tab_creates_and_puts_on_sale(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    manage = f"/promoter/events/{world.event_a_id}/manage"
    page = client.get(manage)
    assert "Pre-event (Packages)" in page.text and "Event (Rewards)" in page.text
    bad = post_form(
        client,
        manage,
        f"/promoter/events/{world.event_a_id}/packages",
        {"name": "VIP", "price": "lots"},
    )
    assert bad.status_code == 422 and 'id="manage-error"' in bad.text
    made = post_form(
        client,
        manage,
        f"/promoter/events/{world.event_a_id}/packages",
        {"name": "VIP Wristband", "price": "45.00", "max_quantity": "100", "status": "DRAFT"},
    )
    assert made.status_code == 303
    with unit_of_work(factory) as session:
        package = session.scalars(select(Package)).one()
        assert (package.name, package.price, package.max_quantity) == (
            "VIP Wristband",
            Decimal("45.00"),
            100,
        )
    on_sale = post_form(
        client, manage, f"/promoter/packages/{package.id}/status", {"status": "ACTIVE"}
    )
    assert on_sale.status_code == 303
    assert "ACTIVE" in client.get(manage).text


def test_rewards_tab_creates_a_reward_and_shows_domain_refusals(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    tab = f"/promoter/events/{world.event_a_id}/manage?tab=rewards"
    action = f"/promoter/events/{world.event_a_id}/rewards"
    refused = post_form(
        client,
        tab,
        action,
        {
            "name": "No threshold",
            "trigger_type": "MINIMUM_SPEND",
            "reward_type": "RECHARGE",
            "reward_amount": "10",
        },
    )
    assert refused.status_code == 422 and 'id="manage-error"' in refused.text
    made = post_form(
        client,
        tab,
        action,
        {
            "name": "Spend 150",
            "trigger_type": "MINIMUM_SPEND",
            "minimum_spend": "150",
            "reward_type": "RECHARGE",
            "reward_amount": "10",
            "status": "ACTIVE",
        },
    )
    assert made.status_code == 303
    assert "Spend 150" in client.get(tab).text
    with unit_of_work(factory) as session:
        assert session.scalars(select(EventReward)).one().status == "ACTIVE"


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
    assert client.get(f"/promoter/events/{other}/manage").status_code == 404
    assert client.get(f"/promoter/events/{other}/manage?tab=rewards").status_code == 404
    for path, data in (
        (f"/promoter/events/{other}/packages", {"name": "X", "price": "1"}),
        (f"/promoter/events/{other}/rewards", {"name": "X"}),
        (f"/promoter/packages/{theirs_package}/status", {"status": "INACTIVE"}),
        (f"/promoter/rewards/{theirs_reward}/status", {"status": "INACTIVE"}),
        ("/promoter/packages/not-an-id/status", {"status": "INACTIVE"}),
    ):
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 404, path
        assert "Theirs" not in response.text
    with unit_of_work(factory) as session:
        assert session.get(Package, theirs_package).status == "DRAFT"  # type: ignore[union-attr]
        assert session.get(EventReward, theirs_reward).status == "DRAFT"  # type: ignore[union-attr]
