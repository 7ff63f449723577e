"""Seed 003's packages and rewards over HTTP: camelCase, the seed's codes, tenancy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from server.db.session import unit_of_work
from server.domain import keys, packages, purchases
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

PACKAGES = "/api/v1/packages"
REWARDS = "/api/v1/rewards"


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]["code"]
    return code


def _package(world: World, **fields: Any) -> dict[str, Any]:
    return {"eventId": str(world.event_a_id), "name": "Early Bird VIP", "price": "8.00"} | fields


def test_package_lifecycle_in_the_seeds_names(client: TestClient, world: World) -> None:
    a = world.auth("promoter_a")
    body = _package(
        world,
        originalPrice=10,
        maxQuantity=100,
        status="ACTIVE",
        items=[{"name": "Bracelet", "type": "BRACELET", "quantity": 2, "braceletAmount": "50"}],
    )
    created = client.post(PACKAGES, json=body, headers=a)
    assert created.status_code == 201, created.text
    package = created.json()
    assert package["price"] == "8.00" and package["originalPrice"] == "10.00"
    assert package["promoterId"] == str(world.promoter_a_id)
    assert package["soldQuantity"] == 0
    assert package["items"][0]["braceletAmount"] == "50.00"
    path = f"{PACKAGES}/{package['id']}"
    assert client.get(path, headers=a).json() == package
    updated = client.put(path, json={"price": "7.50", "items": []}, headers=a).json()
    assert (updated["price"], updated["items"], updated["name"]) == ("7.50", [], "Early Bird VIP")
    active = client.get(f"{PACKAGES}?eventId={world.event_a_id}&status=ACTIVE", headers=a).json()
    assert [row["id"] for row in active] == [package["id"]]
    assert client.delete(path, headers=a).status_code == 204
    assert _error(client.get(path, headers=a), 404) == "PACKAGE_NOT_FOUND"


def test_package_errors_carry_the_seeds_codes(client: TestClient, world: World) -> None:
    a = world.auth("promoter_a")
    for fields, code in [
        ({"price": "-1"}, "PACKAGE_INVALID_PRICE"),
        ({"originalPrice": "5.00"}, "PACKAGE_INVALID_PRICE"),
        ({"maxQuantity": 0}, "PACKAGE_INVALID_QUANTITY"),
        ({"maxPerUser": 0}, "PACKAGE_INVALID_QUANTITY"),
        ({"status": "SOLD_OUT"}, "invalid_input"),
    ]:
        assert _error(client.post(PACKAGES, json=_package(world, **fields), headers=a), 422) == code
    bad_status = client.get(f"{PACKAGES}?status=GONE", headers=a)
    assert _error(bad_status, 422) == "invalid_request"


def test_another_promoters_package_answers_like_a_missing_one(
    client: TestClient, world: World
) -> None:
    b = world.auth("promoter_b")
    foreign = client.get(f"{PACKAGES}/{world.package_id}", headers=b)
    missing = client.get(f"{PACKAGES}/{uuid.uuid4()}", headers=b)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    for method, body in [("PUT", {"price": "1.00"}), ("DELETE", None)]:
        response = client.request(method, f"{PACKAGES}/{world.package_id}", json=body, headers=b)
        assert response.json() == missing.json()


def test_package_lists_cover_the_callers_events(client: TestClient, world: World) -> None:
    b = world.auth("promoter_b")
    made = client.post(PACKAGES, json=_package(world, eventId=str(world.event_b_id)), headers=b)
    assert made.status_code == 201
    own = client.get(PACKAGES, headers=b).json()
    assert [row["id"] for row in own] == [made.json()["id"]]
    assert {row["eventId"] for row in client.get(PACKAGES, headers=world.auth("hq")).json()} == {
        str(world.event_a_id),
        str(world.event_b_id),
    }
    assert client.get(f"{PACKAGES}?eventId={world.event_a_id}", headers=b).status_code == 404


def test_a_sold_package_cannot_be_deleted(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        packages.update(session, package_id=world.package_id, status="ACTIVE")
        purchases.purchase(
            session,
            package_id=world.package_id,
            user_id=world.attendee_id,
            now=datetime.now(UTC),
            signing_key=keys.current_signing_key(session),
        )
    response = client.delete(f"{PACKAGES}/{world.package_id}", headers=world.auth("promoter_a"))
    assert _error(response, 409) == "package_has_purchases"


def _reward(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "eventId": str(world.event_a_id),
        "name": "Ten drinks, five free",
        "triggerType": "TRANSACTION_COUNT",
        "minimumTransactions": 10,
        "rewardType": "RECHARGE",
        "rewardAmount": "5.00",
    } | fields


def test_reward_lifecycle_and_codes(client: TestClient, world: World) -> None:
    a = world.auth("promoter_a")
    created = client.post(REWARDS, json=_reward(world, maxTotalRedemptions=50), headers=a)
    assert created.status_code == 201, created.text
    reward = created.json()
    assert (reward["status"], reward["currentRedemptions"]) == ("DRAFT", 0)
    path = f"{REWARDS}/{reward['id']}"
    paused = client.put(path, json={"status": "ACTIVE"}, headers=a).json()
    assert paused["status"] == "ACTIVE"
    listed = client.get(f"{REWARDS}?eventId={world.event_a_id}&status=ACTIVE", headers=a).json()
    assert [row["id"] for row in listed] == [reward["id"]]
    invalid = client.post(REWARDS, json=_reward(world, rewardAmount="0"), headers=a)
    assert _error(invalid, 422) == "REWARD_INVALID_AMOUNT"
    b = world.auth("promoter_b")
    foreign = client.get(path, headers=b)
    missing = client.get(f"{REWARDS}/{uuid.uuid4()}", headers=b)
    assert _error(foreign, 404) == "REWARD_NOT_FOUND"
    assert foreign.json() == missing.json()
    assert client.delete(path, headers=a).status_code == 204
    assert _error(client.get(path, headers=a), 404) == "REWARD_NOT_FOUND"
