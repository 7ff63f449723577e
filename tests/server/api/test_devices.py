"""Pairing codes, pairing, revocation and token rolls."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.api import devices as devices_api
from server.db.models import PairingCode
from server.db.session import unit_of_work
from server.domain.devices import CODE_ALPHABET
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

CODES = "/api/v1/devices/pairing-codes"
PAIR = "/api/v1/devices/pair"
CODE_SHAPE = re.compile(f"^[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}$")


def _code(client: TestClient, world: World, who: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(CODES, json=body, headers=world.auth(who))
    assert response.status_code == 201, response.text
    return response.json()


def _door_code(client: TestClient, world: World) -> str:
    body = {"role": "DOOR", "event_id": str(world.event_a_id)}
    code: str = _code(client, world, "hq", body)["code"]
    return code


def _pair(client: TestClient, code: str) -> Any:
    return client.post(PAIR, json={"code": code, "name": "Gate B"})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_pairing_code_is_short_hashed_and_carries_a_qr(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    before = datetime.now(UTC)
    made = _code(client, world, "promoter_a", {"role": "DOOR", "event_id": str(world.event_a_id)})
    assert CODE_SHAPE.match(made["code"])
    expires = datetime.fromisoformat(made["expires_at"])
    assert before + timedelta(minutes=10) <= expires <= datetime.now(UTC) + timedelta(minutes=10)
    assert made["qr"] == f"socapassport://pair?server=http%3A%2F%2Ftestserver&code={made['code']}"
    with unit_of_work(factory) as session:
        mine = PairingCode.created_by_user_id == world.promoter_a_user_id
        row = session.scalars(select(PairingCode).where(mine)).one()
        stored = [str(value) for value in row.__dict__.values()]
    canonical = made["code"].replace("-", "")
    assert row.code_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert not any(canonical in value or made["code"] in value for value in stored)


def test_a_code_pairs_once_and_the_device_gets_its_scope(client: TestClient, world: World) -> None:
    code = _door_code(client, world)
    paired = _pair(client, code.lower().replace("-", " "))
    assert paired.status_code == 201, paired.text
    body = paired.json()
    assert body["role"] == "DOOR"
    assert body["scope"] == {
        "event_id": str(world.event_a_id),
        "branch_id": None,
        "promoter_id": None,
    }
    assert len(body["token"]) >= 32
    again = _pair(client, code)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_pairing_code"


def test_an_expired_code_is_refused_like_an_unknown_one(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _door_code(client, world)
    later = datetime.now(UTC) + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(devices_api, "utcnow", lambda: later)
    expired = _pair(client, code)
    unknown = _pair(client, "ZZZZ-ZZZZ")
    assert expired.status_code == unknown.status_code == 400
    assert expired.json() == unknown.json()


def test_revoked_device_gets_401_on_every_call(client: TestClient, world: World) -> None:
    paired = _pair(client, _door_code(client, world)).json()
    device = f"/api/v1/devices/{paired['device_id']}"
    revoked = client.delete(device, headers=world.auth("promoter_a"))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    headers = _bearer(paired["token"])
    for method, path in [
        ("GET", "/api/v1/sync/pull"),
        ("POST", f"{device}/roll-token"),
        ("GET", "/health"),
        ("GET", "/api/passport/landing-info"),
    ]:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (path, response.text)
    assert client.delete(device, headers=world.auth("hq")).status_code == 200


def test_rolling_a_token_kills_the_old_one(client: TestClient, world: World) -> None:
    paired = _pair(client, _door_code(client, world)).json()
    roll = f"/api/v1/devices/{paired['device_id']}/roll-token"
    rolled = client.post(roll, headers=_bearer(paired["token"]))
    assert rolled.status_code == 200, rolled.text
    new_token = rolled.json()["token"]
    assert new_token != paired["token"]
    assert client.post(roll, headers=_bearer(paired["token"])).status_code == 401
    by_hq = client.post(roll, headers=world.auth("hq"))
    assert by_hq.status_code == 200
    assert client.post(roll, headers=_bearer(new_token)).status_code == 401
    assert client.post(roll, headers=_bearer(by_hq.json()["token"])).status_code == 200


def test_a_device_cannot_roll_another_and_hq_cannot_roll_a_revoked_one(
    client: TestClient, world: World
) -> None:
    other = world.device_ids["branch"]
    response = client.post(f"/api/v1/devices/{other}/roll-token", headers=world.auth("door"))
    assert response.status_code == 404
    revoked = world.device_ids["revoked"]
    response = client.post(f"/api/v1/devices/{revoked}/roll-token", headers=world.auth("hq"))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "device_revoked")


def assert_same_404(missing: Any, foreign: Any, missing_id: object, foreign_id: object) -> None:
    """A foreign object answers exactly like a missing one (ids aside)."""
    assert missing.status_code == foreign.status_code == 404
    assert missing.text.replace(str(missing_id), "ID") == foreign.text.replace(
        str(foreign_id), "ID"
    )


def test_another_promoters_device_is_indistinguishable_from_a_missing_one(
    client: TestClient, world: World
) -> None:
    foreign_id, missing_id = world.device_ids["door"], uuid.uuid4()
    foreign = client.delete(f"/api/v1/devices/{foreign_id}", headers=world.auth("promoter_b"))
    missing = client.delete(f"/api/v1/devices/{missing_id}", headers=world.auth("promoter_b"))
    assert_same_404(missing, foreign, missing_id, foreign_id)


def test_promoter_pairs_only_into_its_own_scopes(client: TestClient, world: World) -> None:
    own = _code(client, world, "promoter_a", {"role": "PROMOTER"})
    paired = _pair(client, own["code"]).json()
    assert paired["scope"]["promoter_id"] == str(world.promoter_a_id)
    # Branches belong to businesses now: the owner of branch X pairs its tablets.
    branch = _code(
        client, world, "business_a", {"role": "BRANCH", "branch_id": str(world.branch_id)}
    )
    assert CODE_SHAPE.match(branch["code"])
    missing_id = uuid.uuid4()
    for field, foreign_id, role in [
        ("promoter_id", world.promoter_a_id, "PROMOTER"),
        ("event_id", world.event_a_id, "DOOR"),
        ("branch_id", world.branch_id, "BRANCH"),
    ]:
        foreign = client.post(
            CODES, json={"role": role, field: str(foreign_id)}, headers=world.auth("promoter_b")
        )
        missing = client.post(
            CODES, json={"role": role, field: str(missing_id)}, headers=world.auth("promoter_b")
        )
        assert_same_404(missing, foreign, missing_id, foreign_id)


def test_branch_manager_pairs_branch_devices_for_its_branch_only(
    client: TestClient, world: World
) -> None:
    made = _code(client, world, "manager", {"role": "BRANCH"})
    paired = _pair(client, made["code"]).json()
    assert paired["role"] == "BRANCH"
    assert paired["scope"]["branch_id"] == str(world.branch_id)
    door = client.post(
        CODES,
        json={"role": "DOOR", "event_id": str(world.event_a_id)},
        headers=world.auth("manager"),
    )
    assert door.status_code == 403
    other = client.post(
        CODES,
        json={"role": "BRANCH", "branch_id": str(uuid.uuid4())},
        headers=world.auth("manager"),
    )
    assert other.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"role": "DOOR"},
        {"role": "DOOR", "branch_id": str(uuid.uuid4())},
        {"role": "KIOSK", "event_id": str(uuid.uuid4())},
        {"role": "DOOR", "event_id": "not-a-uuid"},
    ],
)
@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_a_code_request_must_name_the_scope_its_role_takes(
    client: TestClient, world: World, body: dict[str, str]
) -> None:
    response = client.post(CODES, json=body, headers=world.auth("hq"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {"invalid_request", "invalid_input"}


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_failed_pairing_is_rate_limited_per_address(app: FastAPI, world: World) -> None:
    with TestClient(app, client=("10.9.9.9", 4000)) as guesser:
        code = _door_code(guesser, world)
        for _ in range(10):
            assert _pair(guesser, "ZZZZ-ZZZ2").status_code == 400
        refused = _pair(guesser, code)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 120  # a window, and the slide
        with TestClient(app, client=("10.9.9.10", 4000)) as kiosk:
            assert _pair(kiosk, code).status_code == 201
