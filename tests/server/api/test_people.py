"""Promoter sign-up and approval, passports, stamp cards, tiers, memberships, landing figures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.tiers import confirm_prize_response
from server.db.models import Branch, PassEntry
from server.db.session import unit_of_work
from server.domain import accounts
from tests.server.api.conftest import TestClient
from tests.server.api.world import World, customer_with_full_card, tag


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# ------------------------------------------------------------------------- promoters


def test_sign_up_then_hq_approves_or_rejects(client: TestClient, world: World) -> None:
    form = {
        "name": " Kerry Baptiste ",
        "email": "kerry@fetes.example",
        "location_country": "tt",
        "event_types": ["fêtes", "brunches"],
    }
    signed = _ok(client.post("/api/v1/promoters", json=form), 201)
    assert (signed["name"], signed["status"], signed["user_id"]) == (
        "Kerry Baptiste",
        "PENDING",
        None,
    )
    assert (signed["location_country"], signed["event_types"]) == ("TT", "fêtes, brunches")
    hq = world.auth("hq")
    pending = _ok(client.get("/api/v1/promoters?status=PENDING", headers=hq))
    assert [row["id"] for row in pending] == [signed["id"]]
    approve = f"/api/v1/promoters/{signed['id']}/approve"
    assert _ok(client.post(approve, headers=hq))["status"] == "APPROVED"
    assert _ok(client.post(approve, headers=hq))["status"] == "APPROVED"
    refused = client.post(f"/api/v1/promoters/{signed['id']}/reject", headers=hq)
    assert refused.status_code == 409
    missing = client.post(f"/api/v1/promoters/{uuid.uuid4()}/approve", headers=hq)
    assert missing.status_code == 404


def test_a_signed_in_user_signing_up_is_linked(client: TestClient, world: World) -> None:
    form = {"name": "Shop Owner", "email": "owner@fetes.example"}
    signed = _ok(client.post("/api/v1/promoters", json=form, headers=world.auth("manager")), 201)
    assert signed["user_id"] == str(world.manager_user_id)
    other = {"name": "Shop Owner", "email": "other.owner@fetes.example"}
    by_hq = _ok(client.post("/api/v1/promoters", json=other, headers=world.auth("hq")), 201)
    assert by_hq["user_id"] is None


def test_a_second_application_from_the_same_email_is_refused(
    client: TestClient, world: World
) -> None:
    first = {"name": "First Try", "email": "twice@fetes.example"}
    _ok(client.post("/api/v1/promoters", json=first), 201)
    again = client.post("/api/v1/promoters", json={"name": "Again", "email": "TWICE@fetes.example"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "application_exists"
    listed = _ok(client.get("/api/v1/promoters", headers=world.auth("hq")))
    assert [row["email"].lower() for row in listed].count("twice@fetes.example") == 1


# ------------------------------------------------------------------------- passports


def test_passport_summary_for_hq_and_the_promoter_the_fan_attended(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    path = f"/api/v1/passports/{world.attendee_id}"
    summary = _ok(client.get(path, headers=world.auth("hq")))
    assert summary["user_id"] == str(world.attendee_id)
    assert (summary["total_events"], summary["current_tier"]) == (1, "BRONZE")
    assert [stamp["event_id"] for stamp in summary["stamps"]] == [str(world.event_a_id)]
    assert _ok(client.get(path, headers=world.auth("promoter_a"))) == summary
    with unit_of_work(factory) as session:
        stranger = accounts.create_user(session, username=f"s{tag()}", display_name="S").id
    foreign = client.get(path, headers=world.auth("promoter_b"))
    no_passport = client.get(f"/api/v1/passports/{stranger}", headers=world.auth("hq"))
    assert foreign.status_code == no_passport.status_code == 404
    assert foreign.json() == no_passport.json()


# ------------------------------------------------------------------------ stamp cards


def test_confirm_prize_returns_the_seed_response_and_resets_the_card(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        customer = customer_with_full_card(session, world.offer_id)
    path = f"/api/branch-manager/confirm-prize/{customer}/{world.offer_id}"
    body = _ok(client.post(path, headers=world.auth("branch")))
    assert body == confirm_prize_response(0, 5, 1)
    card = _ok(
        client.get(
            f"/api/v1/offers/{world.offer_id}/passes/{customer}", headers=world.auth("manager")
        )
    )
    assert card["progress"]["currentStamps"] == 0
    assert card["progress"]["rewardsClaimed"] == 1
    assert card["tier"]["currentTier"]["id"] == "bronze"
    with unit_of_work(factory) as session:
        claims = session.scalars(select(PassEntry).where(PassEntry.kind == "CLAIM")).all()
    assert [entry.device_id for entry in claims] == [world.device_ids["branch"]]
    again = client.post(path, headers=world.auth("manager"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_enough_stamps"


def test_confirm_prize_on_a_part_full_card_is_409(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        customer = customer_with_full_card(session, world.offer_id, stamps=3)
    path = f"/api/branch-manager/confirm-prize/{customer}/{world.offer_id}"
    response = client.post(path, headers=world.auth("manager"))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "not_enough_stamps"
    assert "3 of 5" in error["message"]


def test_another_branchs_manager_cannot_see_the_offer(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        other = accounts.create_user(
            session, username=f"m{tag()}", display_name="M", role="BRANCH_MANAGER"
        )
        session.add(Branch(name="Other bar", manager_user_id=other.id))
        token = accounts.issue_api_token(session, user_id=other.id)
        customer = customer_with_full_card(session, world.offer_id)
    headers = {"Authorization": f"Bearer {token}"}
    missing_offer = uuid.uuid4()
    foreign = client.post(
        f"/api/branch-manager/confirm-prize/{customer}/{world.offer_id}", headers=headers
    )
    missing = client.post(
        f"/api/branch-manager/confirm-prize/{customer}/{missing_offer}", headers=headers
    )
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    view = client.get(f"/api/v1/offers/{world.offer_id}/passes/{customer}", headers=headers)
    assert view.json() == missing.json()


def test_pass_view_of_a_customer_without_a_card_starts_at_zero(
    client: TestClient, world: World
) -> None:
    view = _ok(
        client.get(
            f"/api/v1/offers/{world.offer_id}/passes/{uuid.uuid4()}", headers=world.auth("hq")
        )
    )
    assert view["progress"] == {
        "currentStamps": 0,
        "maxStamps": 5,
        "rewardsClaimed": 0,
        "stampsEarned": 0,
        "stampsRequired": 5,
    }


# ----------------------------------------------------------------------------- tiers


@pytest.fixture
def restore_tiers(client: TestClient, world: World) -> Iterator[list[dict[str, Any]]]:
    """The tiers before the test; put back afterwards (they are reference data)."""
    before = _ok(client.get("/api/v1/tiers", headers=world.auth("hq")))["tiers"]
    yield before
    _ok(client.put("/api/v1/tiers", json={"tiers": before}, headers=world.auth("hq")))


def test_hq_replaces_the_tier_set(
    client: TestClient,
    world: World,
    factory: sessionmaker[Session],
    restore_tiers: list[dict[str, Any]],
) -> None:
    assert [tier["name"] for tier in restore_tiers] == ["BRONZE", "SILVER", "GOLD", "ELITE"]
    new = [
        {"name": "BRONZE", "min_points": 0, "perks": {}},
        {"name": "GOLD", "min_points": 500, "perks": {"vip_line": True}},
    ]
    hq = world.auth("hq")
    shown = client.app.state.point_tiers  # type: ignore[attr-defined]  # what pages show
    with unit_of_work(factory) as session:
        assert [tier.name for tier in shown.get(session)] == ["BRONZE", "SILVER", "GOLD", "ELITE"]
    assert _ok(client.put("/api/v1/tiers", json={"tiers": new}, headers=hq))["tiers"] == new
    assert _ok(client.get("/api/v1/tiers", headers=hq))["tiers"] == new
    with unit_of_work(factory) as session:  # the app's pages show the new set at once
        assert [tier.name for tier in shown.get(session)] == ["BRONZE", "GOLD"]


def test_a_bad_tier_set_is_422_naming_the_tiers(
    client: TestClient, world: World, restore_tiers: list[dict[str, Any]]
) -> None:
    bad = [
        {"name": "SILVER", "min_points": 300},
        {"name": "GOLD", "min_points": 300},
    ]
    response = client.put("/api/v1/tiers", json={"tiers": bad}, headers=world.auth("hq"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "tier_config"
    assert "'SILVER'" in error["message"] and "'GOLD'" in error["message"]
    unchanged = _ok(client.get("/api/v1/tiers", headers=world.auth("hq")))["tiers"]
    assert unchanged == restore_tiers


# ----------------------------------------------------------------------- memberships


def test_memberships_one_active_at_a_time(client: TestClient, world: World) -> None:
    hq = world.auth("hq")
    user = str(world.attendee_id)
    elite = _ok(
        client.post("/api/v1/memberships", json={"user_id": user, "tier": "ELITE"}, headers=hq), 201
    )
    rows = _ok(client.get(f"/api/v1/memberships?user_id={user}", headers=hq))
    assert {(row["tier"], row["status"]) for row in rows} == {
        ("GOLD", "CANCELLED"),
        ("ELITE", "ACTIVE"),
    }
    cancel = f"/api/v1/memberships/{elite['id']}/cancel"
    assert _ok(client.post(cancel, headers=hq))["status"] == "CANCELLED"
    assert _ok(client.post(cancel, headers=hq))["status"] == "CANCELLED"
    assert _ok(client.get("/api/v1/memberships?status=ACTIVE", headers=hq)) == []
    unknown = {"user_id": str(uuid.uuid4()), "tier": "GOLD"}
    assert client.post("/api/v1/memberships", json=unknown, headers=hq).status_code == 404
    free = {"user_id": user, "tier": "PLATINUM"}
    assert client.post("/api/v1/memberships", json=free, headers=hq).status_code == 422


# ---------------------------------------------------------------------------- landing


def test_landing_info_counts_passports_and_stamps(client: TestClient, world: World) -> None:
    assert _ok(client.get("/api/passport/landing-info")) == {
        "totalPassportUsers": 1,
        "totalStampsIssued": 1,
    }
