"""Purchases over HTTP (issue 18): buy with the login token, list own, the promoter settles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.tokens import TokenKind, verify_token
from server.db.session import unit_of_work
from server.domain import accounts, keys, packages
from server.domain.packages import ItemSpec
from tests.server.api.conftest import TestClient
from tests.server.api.world import PASSWORD, World


def _package(factory: sessionmaker[Session], world: World, **fields: Any) -> uuid.UUID:
    values: dict[str, Any] = {
        "name": "Early Bird VIP",
        "price": Decimal("95.00"),
        "original_price": Decimal("105.00"),
        "status": "ACTIVE",
        "items": [ItemSpec("Bar bracelet", "BRACELET", quantity=2)],
        **fields,
    }
    with unit_of_work(factory) as session:
        return packages.create(session, event_id=world.event_a_id, **values).id


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]["code"]
    return code


def test_an_attendee_logs_in_buys_pays_at_the_door_and_sees_it(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    package_id = _package(factory, world)
    email = f"fan-{uuid.uuid4().hex[:8]}@example.com"
    with unit_of_work(factory) as session:
        fan = accounts.create_user(session, username=email[:12], display_name="Fan", email=email)
        fan.password_hash = accounts.hash_password(PASSWORD)
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    me = {"Authorization": f"Bearer {login.json()['token']}"}
    bought = client.post(f"/api/v1/packages/{package_id}/purchases", json={}, headers=me)
    assert bought.status_code == 201, bought.text
    body = bought.json()
    assert (body["status"], body["paymentMethod"], body["finalAmount"]) == (
        "PENDING",
        "CASH",
        "95.00",
    )
    assert body["discountAmount"] == "10.00"
    assert len(body["djangoBraceletIds"]) == 2
    assert "€95.00 in cash at the door" in body["instructions"]
    with unit_of_work(factory) as session:
        claims = verify_token(body["qr"], keys.public_keys(session), TokenKind.PURCHASE).claims
    assert claims is not None and str(claims.subject_id) == body["id"]
    mine = client.get("/api/v1/purchases", headers=me).json()
    assert [row["id"] for row in mine] == [body["id"]]
    listed = client.get(
        f"/api/v1/events/{world.event_a_id}/purchases?status=PENDING",
        headers=world.auth("promoter_a"),
    ).json()
    assert [row["id"] for row in listed] == [body["id"]]
    paid = client.post(f"/api/v1/purchases/{body['id']}/paid", headers=world.auth("promoter_a"))
    assert (paid.status_code, paid.json()["status"], paid.json()["instructions"]) == (
        200,
        "PAID",
        None,
    )
    again = client.post(f"/api/v1/purchases/{body['id']}/paid", headers=world.auth("hq"))
    assert again.json()["paidAt"] == paid.json()["paidAt"]
    hidden = client.post(f"/api/v1/purchases/{body['id']}/paid", headers=world.auth("promoter_b"))
    assert _error(hidden, 404) == "unknown_purchase"


def test_every_refusal_carries_the_seeds_code(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    me = world.auth("attendee")
    now = datetime.now(UTC)
    cases = [
        (_package(factory, world, status="DRAFT"), "PACKAGE_INACTIVE"),
        (_package(factory, world, sale_start_date=now + timedelta(days=2)), "PACKAGE_EXPIRED"),
        (uuid.uuid4(), "PACKAGE_NOT_FOUND"),
    ]
    for package_id, code in cases:
        response = client.post(f"/api/v1/packages/{package_id}/purchases", headers=me)
        assert response.status_code in (404, 409), response.text
        assert response.json()["error"]["code"] == code
    one = _package(factory, world, max_quantity=1, max_per_user=1)
    assert client.post(f"/api/v1/packages/{one}/purchases", headers=me).status_code == 201
    limited = client.post(f"/api/v1/packages/{one}/purchases", headers=me)
    assert limited.json()["error"]["code"] == "PACKAGE_SOLD_OUT"
    two = _package(factory, world, max_quantity=5, max_per_user=1)
    assert client.post(f"/api/v1/packages/{two}/purchases", headers=me).status_code == 201
    again = client.post(f"/api/v1/packages/{two}/purchases", headers=me)
    assert _error(again, 409) == "PACKAGE_MAX_PER_USER_EXCEEDED"
    assert "maximum" in again.json()["error"]["message"]
    unknown = client.post(f"/api/v1/packages/{two}/purchases", json={"payment": "gold"}, headers=me)
    assert _error(unknown, 422) == "invalid_request"
