"""Offers, businesses and branches over HTTP, on both engines: seed 002's tier JSON in and out,
422 naming the tiers at fault, re-tiering on PUT, applications and manager invitations."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import unit_of_work
from server.domain import accounts
from tests.server.api.conftest import TestClient
from tests.server.api.world import World, customer_with_full_card
from tests.server.domain.test_offers import COFFEE

#: Seed 002's checklist runs on both engines; the account flows (argon2) on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)


def _create(client: TestClient, world: World, **body: Any) -> Any:
    payload = {"branch_id": str(world.branch_id), "name": "Fifth coffee free", "prize": "Coffee"}
    return client.post("/api/v1/offers", json={**payload, **body}, headers=world.auth("business_a"))


def test_an_offer_with_default_tiers_shows_bronze_silver_gold(
    client: TestClient, world: World
) -> None:
    made = _create(client, world, max_stamps=5)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["loyalty_tiers"] is None
    assert [tier["name"] for tier in body["tiers"]] == [
        "Bronze Member",
        "Silver Member",
        "Gold Member",
    ]
    listed = client.get("/api/v1/offers", headers=world.auth("business_a")).json()
    assert {row["id"] for row in listed} == {body["id"], str(world.offer_id)}
    assert client.get("/api/v1/offers", headers=world.auth("business_b")).json()[0]["id"] == str(
        world.offer_b_id
    )


def test_custom_tiers_round_trip_in_the_seed_shape(client: TestClient, world: World) -> None:
    made = _create(client, world, loyalty_tiers=COFFEE).json()
    shown = client.get(f"/api/v1/offers/{made['id']}", headers=world.auth("manager")).json()
    assert shown["loyalty_tiers"] == COFFEE
    assert shown["tiers"][2]["nameAr"] == "أستاذ القهوة" and shown["tiers"][2]["icon"] == "👑"


def test_an_overlap_is_422_naming_both_tiers(client: TestClient, world: World) -> None:
    bad = copy.deepcopy(COFFEE)
    bad["tiers"][2]["minRewards"] = 8
    refused = _create(client, world, loyalty_tiers=bad)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "tier_config"
    assert "tiers 'expert' (4-9) and 'master' (8-∞) overlap" in error["message"]
    assert set(error["fields"]) == {"loyalty_tiers.expert", "loyalty_tiers.master"}


def test_a_gap_and_a_malformed_tier_are_422(client: TestClient, world: World) -> None:
    gap = copy.deepcopy(COFFEE)
    gap["tiers"][1]["minRewards"] = 5
    refused = client.put(
        f"/api/v1/offers/{world.offer_id}",
        json={"loyalty_tiers": gap},
        headers=world.auth("business_a"),
    )
    assert refused.status_code == 422
    assert (
        "gap between tiers 'lover' (1-3) and 'expert' (5-9)" in refused.json()["error"]["message"]
    )
    malformed = {"enabled": True, "tiers": [{"id": "vip", "name": "VIP", "minRewards": "lots"}]}
    refused = _create(client, world, loyalty_tiers=malformed)
    assert refused.status_code == 422
    assert "tier 'vip': 'minRewards' must be a whole number" in refused.json()["error"]["message"]


def test_put_of_new_tiers_re_tiers_a_customer_at_once(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        customer = customer_with_full_card(session, world.offer_id)
    url = f"/api/branch-manager/confirm-prize/{customer}/{world.offer_id}"
    confirmed = client.post(url, headers=world.auth("manager")).json()
    assert confirmed["tier"]["currentTier"]["name"] == "Bronze Member"
    changed = client.put(
        f"/api/v1/offers/{world.offer_id}",
        json={"loyalty_tiers": COFFEE, "prize": "Two punches"},
        headers=world.auth("business_a"),
    )
    assert changed.status_code == 200, changed.text
    view = client.get(
        f"/api/v1/offers/{world.offer_id}/passes/{customer}", headers=world.auth("branch")
    ).json()
    assert view["tier"]["currentTier"] == {"id": "lover", "name": "Coffee Lover", "icon": "☕"}
    restored = client.put(
        f"/api/v1/offers/{world.offer_id}",
        json={"loyalty_tiers": None},
        headers=world.auth("business_a"),
    )
    assert restored.json()["loyalty_tiers"] is None


@SQLITE_ONLY
def test_an_offer_cannot_move_to_another_business_branch(client: TestClient, world: World) -> None:
    moved = client.put(
        f"/api/v1/offers/{world.offer_id}",
        json={"branch_id": str(world.branch_b_id)},
        headers=world.auth("business_a"),
    )
    assert moved.status_code == 404
    assert client.get(f"/api/v1/offers/{world.offer_id}", headers=world.auth("hq")).json()[
        "branch_id"
    ] == str(world.branch_id)


@SQLITE_ONLY
def test_a_signed_out_applicant_applies_then_acts_once_hq_approves(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    body = {
        "name": "Bean There",
        "country_code": "TT",
        "owner": {"email": "ana@bean.example", "password": "wine-n-grind"},
    }
    applied = client.post("/api/v1/businesses", json=body)
    assert applied.status_code == 201, applied.text
    assert applied.json()["status"] == "PENDING"
    short = client.post(
        "/api/v1/businesses",
        json={**body, "owner": {"email": "b@bean.example", "password": "short"}},
    )
    assert short.status_code == 422 and "body.owner.password" in short.json()["error"]["fields"]
    with unit_of_work(factory) as session:  # API login for attendee accounts is another part's
        token = accounts.issue_api_token(
            session, user_id=uuid.UUID(applied.json()["owner_user_id"])
        )
    owner = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/branches", json={"name": "X"}, headers=owner).status_code == 403
    business_id = applied.json()["id"]
    approved = client.post(f"/api/v1/businesses/{business_id}/approve", headers=world.auth("hq"))
    assert approved.json()["status"] == "APPROVED"
    made = client.post("/api/v1/branches", json={"name": "X"}, headers=owner)
    assert made.status_code == 201 and made.json()["business_id"] == business_id


@SQLITE_ONLY
def test_hq_creates_a_business_and_its_owner_gets_a_set_password_link(
    client: TestClient, world: World
) -> None:
    made = client.post(
        "/api/v1/businesses",
        json={"name": "Merch Stand", "country_code": "BB", "owner_email": "sam@merch.example"},
        headers=world.auth("hq"),
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "APPROVED"
    assert "/welcome/" in made.json()["set_password_url"]


@SQLITE_ONLY
def test_an_owner_adds_a_branch_and_invites_its_manager(client: TestClient, world: World) -> None:
    owner = world.auth("business_a")
    branch = client.post(
        "/api/v1/branches", json={"name": "Stand 2", "country_code": "tt"}, headers=owner
    ).json()
    assert branch["business_id"] == str(world.business_a_id) and branch["country_code"] == "TT"
    invited = client.post(
        f"/api/v1/branches/{branch['id']}/manager",
        json={"email": "kay@shop.example"},
        headers=owner,
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["set_password_url"].startswith("http://testserver/welcome/")
    foreign = client.post(
        f"/api/v1/branches/{branch['id']}/manager",
        json={"email": "x@shop.example"},
        headers=world.auth("business_b"),
    )
    assert foreign.status_code == 404
