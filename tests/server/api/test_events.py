"""Events, their passport billing and their tickets over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.tokens import TokenKind, verify_token
from server.db.models import Ticket, User
from server.db.session import unit_of_work
from server.domain import accounts, keys
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

EVENTS = "/api/v1/events"
NEW = {
    "name": "Crop Over Breakfast",
    "starts_at": "2026-08-01T06:00:00-04:00",
    "country_code": "bb",
    "carnival_circuit": "Crop Over",
}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_promoter_creates_enables_and_reads_its_bill(client: TestClient, world: World) -> None:
    a = world.auth("promoter_a")
    event = _ok(client.post(EVENTS, json=NEW, headers=a), 201)
    assert (event["promoter_id"], event["country_code"]) == (str(world.promoter_a_id), "BB")
    assert event["is_soca_passport_enabled"] is False
    path = f"{EVENTS}/{event['id']}"
    assert client.get(f"{path}/billing", headers=a).status_code == 404
    bill = _ok(client.post(f"{path}/enable-passport", headers=a))
    assert (bill["status"], bill["event_id"], bill["fee_amount_cents"]) == (
        "DRAFT",
        event["id"],
        None,
    )
    assert _ok(client.post(f"{path}/enable-passport", json={}, headers=a))["id"] == bill["id"]
    assert _ok(client.get(path, headers=a))["is_soca_passport_enabled"] is True
    assert _ok(client.get(f"{path}/billing", headers=a)) == bill
    own = [row["id"] for row in _ok(client.get(EVENTS, headers=a))]
    assert own == [str(world.event_a_id), event["id"]]


def test_only_hq_sets_the_fee_and_moves_the_bill(client: TestClient, world: World) -> None:
    path = f"{EVENTS}/{world.event_a_id}/enable-passport"
    priced = {"fee_amount_cents": 1999}
    assert client.post(path, json=priced, headers=world.auth("promoter_a")).status_code == 403
    bill = _ok(client.post(path, json=priced, headers=world.auth("hq")))
    assert bill["fee_amount_cents"] == 1999
    status = f"/api/v1/billing/{bill['id']}/status"
    hq = world.auth("hq")
    assert _ok(client.post(status, json={"status": "PENDING_PAYMENT"}, headers=hq))["status"] == (
        "PENDING_PAYMENT"
    )
    paid = _ok(client.post(status, json={"status": "PAID", "notes": "wire 42"}, headers=hq))
    assert (paid["status"], paid["notes"]) == ("PAID", "wire 42")
    refused = client.post(status, json={"status": "WAIVED"}, headers=hq)
    assert refused.status_code == 409
    assert "PAID" in refused.json()["error"]["message"]
    assert client.post(status, json={"status": "LATER"}, headers=hq).status_code == 422
    missing = client.post(
        f"/api/v1/billing/{uuid.uuid4()}/status", json={"status": "PAID"}, headers=hq
    )
    assert missing.status_code == 404


def test_hq_creates_house_events_and_events_for_a_promoter(
    client: TestClient, world: World
) -> None:
    hq = world.auth("hq")
    house = _ok(client.post(EVENTS, json=NEW, headers=hq), 201)
    assert house["promoter_id"] is None
    for_b = _ok(
        client.post(EVENTS, json=NEW | {"promoter_id": str(world.promoter_b_id)}, headers=hq), 201
    )
    assert for_b["promoter_id"] == str(world.promoter_b_id)
    assert len(_ok(client.get(EVENTS, headers=hq))) == 4
    bad = client.post(EVENTS, json=NEW | {"country_code": "Trinidad"}, headers=hq)
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"body.country_code"}  # over its declared limit


def test_issued_ticket_carries_a_verifiable_qr_and_can_be_revoked(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    a = world.auth("promoter_a")
    body = {"email": "Buyer.One@Example.com", "holder_name": "Kesha B"}
    ticket = _ok(client.post(f"{EVENTS}/{world.event_a_id}/tickets", json=body, headers=a), 201)
    assert (ticket["holder_name"], ticket["status"]) == ("Kesha B", "VALID")
    assert ticket["email"] == "buyer.one@example.com"
    assert "user_id" not in ticket
    with unit_of_work(factory) as session:
        public = keys.public_keys(session)
    verified = verify_token(ticket["qr"], public, TokenKind.TICKET)
    assert verified.ok and verified.claims is not None
    assert str(verified.claims.subject_id) == ticket["id"]
    revoke = f"/api/v1/tickets/{ticket['id']}/revoke"
    assert client.post(revoke, headers=world.auth("promoter_b")).status_code == 404
    revoked = _ok(client.post(revoke, headers=a))
    assert revoked["status"] == "REVOKED" and revoked["revoked_at"] is not None
    foreign = client.post(f"{EVENTS}/{world.event_b_id}/tickets", json=body, headers=a)
    assert foreign.status_code == 404


def test_a_ticket_to_an_email_reveals_neither_the_account_nor_its_name(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        owner = accounts.create_user(
            session,
            username="real_fan",
            display_name="Real Name Hidden",
            email="real.fan@example.com",
            password="wine-n-grind",
        )
        owner_id = owner.id
    a = world.auth("promoter_a")
    url = f"{EVENTS}/{world.event_a_id}/tickets"
    known = _ok(client.post(url, json={"email": "REAL.FAN@example.com"}, headers=a), 201)
    unknown = _ok(client.post(url, json={"email": "nobody.yet@example.com"}, headers=a), 201)
    assert set(known) == set(unknown)
    assert (known["holder_name"], unknown["holder_name"]) == (
        "real.fan@example.com",
        "nobody.yet@example.com",
    )
    assert "Real Name Hidden" not in str(known)
    with unit_of_work(factory) as session:
        assert session.get(Ticket, uuid.UUID(known["id"])).user_id == owner_id  # type: ignore[union-attr]
        held = session.get(Ticket, uuid.UUID(unknown["id"]))
        assert held is not None
        assert session.get(User, held.user_id).placeholder is True  # type: ignore[union-attr]


def test_a_ticket_needs_an_email_not_a_user_id(client: TestClient, world: World) -> None:
    a = world.auth("promoter_a")
    url = f"{EVENTS}/{world.event_a_id}/tickets"
    bare = client.post(url, json={"user_id": str(world.attendee_id)}, headers=a)
    assert bare.status_code == 422
    bad = client.post(url, json={"email": "not-an-email"}, headers=a)
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"email"}
    nul = client.post(url, json={"email": "a@b.example", "holder_name": "x\u0000y"}, headers=a)
    assert nul.status_code == 422


def test_an_event_keeps_its_venues_time_zone(client: TestClient, world: World) -> None:
    a = world.auth("promoter_a")
    zoned = _ok(client.post(EVENTS, json=NEW | {"time_zone": "America/Barbados"}, headers=a), 201)
    assert zoned["time_zone"] == "America/Barbados"
    bad = client.post(EVENTS, json=NEW | {"time_zone": "Atlantis/Deep"}, headers=a)
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"time_zone"}
