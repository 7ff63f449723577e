"""The sync routes' HTTP edge: who may call them, and how a push body is refused.

The sync services are replaced by recording fakes: their logic is tested
with them (tests/server/sync); here only the edge is.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from core.wire import MAX_OPS_PER_PUSH, PullResponse, PushRequest, PushResponse
from server.api import sync as sync_api
from server.sync import pull, push, views
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Fake sync services; each call's keyword arguments are recorded."""
    seen: list[dict[str, Any]] = []

    def fake_pull(_session: Any, **kwargs: Any) -> str:
        seen.append(kwargs)
        return PullResponse(
            cursor="c1", more=False, server_time=datetime.now(UTC)
        ).model_dump_json()

    def fake_push(_session: Any, **kwargs: Any) -> PushResponse:
        seen.append(kwargs)
        return PushResponse(server_time=datetime.now(UTC), results=[])

    def fake_get_op(_session: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(kwargs)
        return {"op_id": str(kwargs["op_id"])}

    monkeypatch.setattr(pull, "pull_json", fake_pull)
    monkeypatch.setattr(push, "push", fake_push)
    monkeypatch.setattr(views, "get_op", fake_get_op)
    return seen


def _op(seq: int) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "seq": seq,
        "type": "ticket.scan",
        "occurred_at": "2026-02-14T21:03:00Z",
        "device_clock": "2026-02-14T21:03:01Z",
        "payload": {"qr": "1234", "event_id": str(uuid.uuid4()), "gate": "A"},
    }


def test_push_of_1000_ops_reaches_the_service_with_the_device(
    client: TestClient, world: World, calls: list[dict[str, Any]]
) -> None:
    ops = [_op(seq) for seq in range(MAX_OPS_PER_PUSH)]
    body = {"device_time": "2026-02-14T21:05:00Z", "ops": ops}
    response = client.post(PUSH, json=body, headers=world.auth("door"))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"server_time", "results"}
    (call,) = calls
    assert isinstance(call["request"], PushRequest)
    assert len(call["request"].ops) == MAX_OPS_PER_PUSH
    assert call["device"].id == world.device_ids["door"]
    assert call["settings"] is client.app.state.settings  # type: ignore[attr-defined]


def test_push_over_1000_ops_is_413_before_validation(
    client: TestClient, world: World, calls: list[dict[str, Any]]
) -> None:
    body = {"device_time": "not even a time", "ops": [{}] * 1500}
    response = client.post(PUSH, json=body, headers=world.auth("branch"))
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "too_many_ops",
            "message": "a push holds at most 1000 ops; this one had 1500",
        }
    }
    assert calls == []


@pytest.mark.parametrize(
    "raw", [b'{"device_time": "2026-02-14T21:05:00Z", "ops": [', b"\xff\xfe", b"", b"ops=1"]
)
def test_push_that_is_not_json_is_400(
    client: TestClient, world: World, calls: list[dict[str, Any]], raw: bytes
) -> None:
    headers = world.auth("door") | {"Content-Type": "application/json"}
    response = client.post(PUSH, content=raw, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_json"
    assert calls == []


@pytest.mark.parametrize(
    "body",
    [
        {"ops": []},
        {"device_time": "2026-02-14T21:05:00", "ops": []},
        {"device_time": "2026-02-14T21:05:00Z", "ops": [{"op_id": "x"}]},
        {"device_time": "2026-02-14T21:05:00Z", "ops": [], "extra": 1},
        ["not", "an", "object"],
    ],
)
def test_push_with_a_malformed_envelope_is_422(
    client: TestClient, world: World, calls: list[dict[str, Any]], body: Any
) -> None:
    response = client.post(PUSH, json=body, headers=world.auth("door"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert all(where.startswith("body") for where in error["fields"])
    assert calls == []


def test_push_body_over_the_byte_limit_is_413(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_api, "MAX_PUSH_BYTES", 100)
    body = {"device_time": "2026-02-14T21:05:00Z", "ops": [_op(1)]}
    response = client.post(PUSH, json=body, headers=world.auth("door"))
    assert (response.status_code, response.json()["error"]["code"]) == (413, "body_too_large")


def test_only_devices_push_and_pull_and_auth_comes_before_the_body(
    client: TestClient, world: World, calls: list[dict[str, Any]]
) -> None:
    garbage = b"{not json"
    assert client.post(PUSH, content=garbage).status_code == 401
    assert client.post(PUSH, content=garbage, headers=world.auth("revoked")).status_code == 401
    for who in ("hq", "promoter_a", "manager"):
        assert client.post(PUSH, content=garbage, headers=world.auth(who)).status_code == 403
        assert client.get(PULL, headers=world.auth(who)).status_code == 403
    assert calls == []


def test_pull_passes_cursor_and_limit_for_the_calling_device(
    client: TestClient, world: World, calls: list[dict[str, Any]]
) -> None:
    response = client.get(f"{PULL}?cursor=c0&limit=50", headers=world.auth("promoter_device"))
    assert response.status_code == 200, response.text
    assert response.json()["cursor"] == "c1"
    fresh = client.get(PULL, headers=world.auth("promoter_device"))
    assert fresh.status_code == 200
    assert [(c["cursor"], c["limit"]) for c in calls] == [("c0", 50), (None, pull.DEFAULT_PAGE)]
    assert calls[0]["device"].id == world.device_ids["promoter_device"]


@pytest.mark.parametrize("query", ["limit=0", f"limit={pull.MAX_PAGE + 1}", "limit=many"])
def test_pull_limit_out_of_range_is_422(client: TestClient, world: World, query: str) -> None:
    response = client.get(f"{PULL}?{query}", headers=world.auth("door"))
    assert response.status_code == 422


def test_hq_reads_an_op_by_id(
    client: TestClient, world: World, calls: list[dict[str, Any]]
) -> None:
    op_id = uuid.uuid4()
    response = client.get(f"/api/v1/sync/ops/{op_id}", headers=world.auth("hq"))
    assert response.json() == {"op_id": str(op_id)}
    assert calls == [{"op_id": op_id}]
    assert client.get("/api/v1/sync/ops/nope", headers=world.auth("hq")).status_code == 422
    assert client.get(f"/api/v1/sync/ops/{op_id}", headers=world.auth("door")).status_code == 403
