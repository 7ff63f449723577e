"""Write bodies refuse fields the API does not take: 422, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import Event, EventReward, Package, PassportMembership, Promoter
from server.db.session import unit_of_work
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

EVENT = {"name": "Jouvert", "starts_at": "2026-03-01T04:00:00Z", "country_code": "TT"}


def _count(factory: sessionmaker[Session], model: type[Any]) -> int:
    with unit_of_work(factory) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _refused(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize("extra", [{"total_points": 5000}, {"current_tier": "ELITE"}])
def test_event_create_refuses_derived_fields(
    client: TestClient, world: World, factory: sessionmaker[Session], extra: dict[str, Any]
) -> None:
    before = _count(factory, Event)
    _refused(client.post("/api/v1/events", json=EVENT | extra, headers=world.auth("hq")))
    assert _count(factory, Event) == before


def test_a_promoter_cannot_create_for_another_tenant(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    before = _count(factory, Event)
    body = EVENT | {"promoter_id": str(world.promoter_b_id)}
    error = _refused(client.post("/api/v1/events", json=body, headers=world.auth("promoter_a")))
    assert set(error["fields"]) == {"promoter_id"}
    assert _count(factory, Event) == before
    own = EVENT | {"promoter_id": str(world.promoter_a_id)}
    created = client.post("/api/v1/events", json=own, headers=world.auth("promoter_a"))
    assert created.status_code == 201
    assert created.json()["promoter_id"] == str(world.promoter_a_id)


@pytest.mark.parametrize(
    "extra",
    [{"promoterId": "B"}, {"promoter_id": "B"}, {"tenantId": "B"}, {"soldQuantity": 0}],
)
def test_package_writes_refuse_tenant_and_system_fields(
    client: TestClient, world: World, factory: sessionmaker[Session], extra: dict[str, Any]
) -> None:
    extra = {
        key: str(world.promoter_b_id) if value == "B" else value for key, value in extra.items()
    }
    before = _count(factory, Package)
    body = {"eventId": str(world.event_a_id), "name": "Early", "price": "5.00"} | extra
    _refused(client.post("/api/v1/packages", json=body, headers=world.auth("promoter_a")))
    assert _count(factory, Package) == before
    path = f"/api/v1/packages/{world.package_id}"
    _refused(client.put(path, json={"name": "Moved"} | extra, headers=world.auth("promoter_a")))
    assert client.get(path, headers=world.auth("hq")).json()["name"] == "VIP"


def test_a_package_cannot_move_to_another_event_or_lose_its_price(
    client: TestClient, world: World
) -> None:
    path = f"/api/v1/packages/{world.package_id}"
    moved = {"eventId": str(world.event_b_id)}
    _refused(client.put(path, json=moved, headers=world.auth("promoter_a")))
    _refused(client.put(path, json={"price": None}, headers=world.auth("promoter_a")))
    after = client.get(path, headers=world.auth("hq")).json()
    assert (after["eventId"], after["price"]) == (str(world.event_a_id), "10.00")


def test_reward_and_membership_and_promoter_writes_refuse_unknown_fields(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    counts = {
        model: _count(factory, model) for model in (EventReward, PassportMembership, Promoter)
    }
    reward = {
        "eventId": str(world.event_a_id),
        "name": "Spend",
        "triggerType": "TRANSACTION_COUNT",
        "minimumTransactions": 3,
        "rewardType": "RECHARGE",
        "rewardAmount": "5.00",
        "currentRedemptions": 0,
    }
    _refused(client.post("/api/v1/rewards", json=reward, headers=world.auth("promoter_a")))
    membership = {"user_id": str(world.attendee_id), "tier": "GOLD", "status": "ACTIVE"}
    _refused(client.post("/api/v1/memberships", json=membership, headers=world.auth("hq")))
    for extra in ({"user_id": str(world.manager_user_id)}, {"status": "APPROVED"}):
        sign_up = {"name": "Kerry", "email": "k@fetes.example"} | extra
        _refused(client.post("/api/v1/promoters", json=sign_up))
    assert {model: _count(factory, model) for model in counts} == counts
