"""The bar and bracelet systems over HTTP (issue 18): credentials, spend, applying rewards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import SpendTransaction
from server.db.session import unit_of_work
from server.domain import event_rewards, keys, packages, purchases
from server.domain.packages import ItemSpec
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

SPEND = "/api/v1/integrations/spend"
PENDING = "/api/v1/integrations/redemptions?status=pending"


def _reward(factory: sessionmaker[Session], world: World, **fields: Any) -> None:
    values: dict[str, Any] = {
        "name": "Spend 150, get 10",
        "trigger_type": "MINIMUM_SPEND",
        "minimum_spend": Decimal("150.00"),
        "reward_type": "RECHARGE",
        "reward_amount": Decimal("10.00"),
        "status": "ACTIVE",
        **fields,
    }
    with unit_of_work(factory) as session:
        event_rewards.create(session, event_id=world.event_a_id, **values)


def _credential(client: TestClient, world: World) -> dict[str, str]:
    made = client.post(
        f"/api/v1/events/{world.event_a_id}/integrations",
        json={"name": "Main bar POS"},
        headers=world.auth("promoter_a"),
    )
    assert made.status_code == 201, made.text
    assert made.json()["currency"] == "EUR"
    return {"Authorization": f"Bearer {made.json()['token']}", "id": made.json()["id"]}


def _tx(external_id: str, amount: str, **customer: str) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "amount": amount,
        "currency": "EUR",
        "occurred_at": "2026-02-14T23:00:00Z",
        **customer,
    }


def test_spend_earns_rewards_and_the_bracelet_system_applies_them(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    _reward(factory, world)
    bar = _credential(client, world)
    auth = {"Authorization": bar["Authorization"]}
    user = str(world.attendee_id)
    batch = {"transactions": [_tx("t1", "100.00", user_id=user), _tx("t2", "60", user_id=user)]}
    first = client.post(SPEND, json=batch, headers=auth)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["recorded"], body["duplicates"], body["rejected"]) == (2, 0, 0)
    earned = [r for result in body["results"] for r in result["redemptions"]]
    assert [(r["reward_amount"], r["reward_type"], r["applied_at"]) for r in earned] == [
        ("10.00", "RECHARGE", None)
    ]
    replay = client.post(SPEND, json=batch, headers=auth).json()
    assert [r["status"] for r in replay["results"]] == ["duplicate", "duplicate"]
    assert [r["redemptions"] for r in replay["results"]] == [
        r["redemptions"] for r in body["results"]
    ]
    pending = client.get(PENDING, headers=auth).json()
    assert [r["id"] for r in pending] == [earned[0]["id"]]
    path = f"/api/v1/integrations/redemptions/{earned[0]['id']}/applied"
    applied = client.post(path, json={"bracelet_id": "BR-77"}, headers=auth)
    assert applied.status_code == 200, applied.text
    assert applied.json()["bracelet_id"] == "BR-77"
    assert client.post(path, headers=auth).json()["applied_at"] == applied.json()["applied_at"]
    assert client.get(PENDING, headers=auth).json() == []


def test_each_bad_transaction_gets_its_own_4xx_and_writes_nothing(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    bar = {"Authorization": _credential(client, world)["Authorization"]}
    user = str(world.attendee_id)
    batch = {
        "transactions": [
            _tx("ok", "5.00", user_id=user),
            _tx("neg", "-5.00", user_id=user),
            _tx("huge", "1000000000", user_id=user),
            _tx("usd", "5.00", user_id=user) | {"currency": "USD"},
            _tx("ghost", "5.00", user_id=str(uuid.uuid4())),
            _tx("nobody", "5.00", bracelet_id="BR-NOPE"),
            {
                "external_id": "naive",
                "amount": "1",
                "currency": "EUR",
                "user_id": user,
                "occurred_at": "2026-02-14T23:00:00",
            },
            "not an object",
        ]
    }
    response = client.post(SPEND, json=batch, headers=bar)
    assert response.status_code == 422, response.text  # a string is not a transaction object
    batch["transactions"] = batch["transactions"][:-1]
    response = client.post(SPEND, json=batch, headers=bar)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["status"], r["http_status"]) for r in results] == [
        ("recorded", 201),
        ("rejected", 422),
        ("rejected", 422),
        ("rejected", 422),
        ("rejected", 404),
        ("rejected", 404),
        ("rejected", 422),
    ]
    assert [r["error"]["code"] for r in results[1:]] == [
        "invalid_transaction",
        "invalid_transaction",
        "wrong_currency",
        "unknown_user",
        "unknown_bracelet",
        "invalid_transaction",
    ]
    assert results[1]["external_id"] == "neg"
    assert "amount" in results[1]["error"]["fields"]
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 1
    # NUL is refused by the body guard before any transaction is read: the whole batch, 422.
    nul = {"transactions": [_tx("n1", "1.00", user_id=user), _tx("n\x00", "1.00", user_id=user)]}
    assert client.post(SPEND, json=nul, headers=bar).status_code == 422
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 1


def test_a_spend_by_purchased_bracelet_reaches_its_wearer(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    _reward(factory, world)
    with unit_of_work(factory) as session:
        package = packages.create(
            session,
            event_id=world.event_a_id,
            name="VIP",
            price=Decimal("50"),
            status="ACTIVE",
            items=[ItemSpec("Bracelet", "BRACELET")],
        )
        bought = purchases.purchase(
            session,
            package_id=package.id,
            user_id=world.attendee_id,
            now=datetime.now(UTC),
            signing_key=keys.current_signing_key(session),
        )
        bracelet = bought.django_bracelet_ids[0]
    bar = {"Authorization": _credential(client, world)["Authorization"]}
    response = client.post(
        SPEND, json={"transactions": [_tx("b", "150", bracelet_id=bracelet)]}, headers=bar
    )
    (result,) = response.json()["results"]
    assert result["user_id"] == str(world.attendee_id)
    assert [r["bracelet_id"] for r in result["redemptions"]] == [bracelet]


def test_a_revoked_credential_and_other_tokens_are_refused(
    client: TestClient, world: World
) -> None:
    bar = _credential(client, world)
    auth = {"Authorization": bar["Authorization"]}
    assert client.get(PENDING, headers=auth).status_code == 200
    other = client.delete(f"/api/v1/integrations/{bar['id']}", headers=world.auth("promoter_b"))
    assert other.status_code == 404
    gone = client.delete(f"/api/v1/integrations/{bar['id']}", headers=world.auth("promoter_a"))
    assert gone.status_code == 204
    refused = client.get(PENDING, headers=auth)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    assert client.get(PENDING, headers=world.auth("promoter_a")).status_code == 403
    too_many = {
        "transactions": [_tx(f"x{i}", "1", user_id=str(world.attendee_id)) for i in range(1001)]
    }
    fresh = {"Authorization": _credential(client, world)["Authorization"]}
    assert client.post(SPEND, json=too_many, headers=fresh).status_code == 422


HOSTILE = [
    ("amount", "1e308"),
    ("amount", "NaN"),
    ("amount", 2**70),
    ("amount", "-0.001"),
    ("amount", None),
    ("external_id", "x" * 10_000),
    ("external_id", "pos\x01"),
    ("external_id", ""),
    ("currency", "EURO"),
    ("occurred_at", "0001-01-01T00:00:00Z"),
    ("occurred_at", "yesterday"),
    ("user_id", "not-a-uuid"),
    ("bracelet_id", ["BR"]),
]


def test_hostile_values_are_a_4xx_for_that_transaction_alone(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    bar = {"Authorization": _credential(client, world)["Authorization"]}
    user = str(world.attendee_id)
    transactions = [
        _tx(f"h{index}", "1.00", user_id=user) | {name: value}
        for index, (name, value) in enumerate(HOSTILE)
    ]
    transactions.append(_tx("fine", "1.00", user_id=user))
    response = client.post(SPEND, json={"transactions": transactions}, headers=bar)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * len(HOSTILE) + ["recorded"]
    assert all(400 <= r["http_status"] < 500 for r in results[:-1])
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 1
    # NUL is refused by the body guard before any transaction is read: the whole batch, 422.
    nul = {"transactions": [_tx("n1", "1.00", user_id=user), _tx("n\x00", "1.00", user_id=user)]}
    assert client.post(SPEND, json=nul, headers=bar).status_code == 422
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 1
