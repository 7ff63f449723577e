"""The body guard: every request body capped in size, and JSON nested past the limit refused
before any parser recurses into it (a push of 100k `[` once ended in RecursionError, a 500)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import limits
from server.api.bodyguard import check_body
from server.db.models import Base, Promoter, SyncOp
from server.db.session import unit_of_work
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

SQLITE = pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)


def _count(factory: sessionmaker[Session], model: type[Base]) -> int:
    with unit_of_work(factory) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@SQLITE
def test_a_push_nested_100k_deep_is_bad_json_and_records_nothing(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    body = '{"device_time": "2026-02-14T21:00:00Z", "ops": ' + "[" * 100_000
    response = client.post(
        "/api/v1/sync/push",
        content=body,
        headers=world.auth("door") | {"content-type": "application/json"},
    )
    assert _error(response, 400)["code"] == "bad_json"
    assert _count(factory, SyncOp) == 0


@SQLITE
@pytest.mark.parametrize(
    ("path", "who", "field"),
    [
        ("/api/v1/promoters", "anonymous", "event_types"),
        ("/api/v1/tiers", "hq", "tiers"),
        ("/api/v1/memberships", "hq", "metadata"),
        ("/api/v1/packages", "promoter_a", "items"),
    ],
)
def test_json_nested_past_the_limit_is_refused_on_every_route(
    client: TestClient, world: World, path: str, who: str, field: str
) -> None:
    method = client.put if path == "/api/v1/tiers" else client.post
    too_deep = '{"%s": %s}' % (field, _nested(limits.JSON_DEPTH))  # noqa: UP031 (JSON text)
    refused = method(path, content=too_deep, headers=world.auth(who))
    assert _error(refused, 400)["code"] == "bad_json"
    at_the_limit = '{"%s": %s}' % (field, _nested(limits.JSON_DEPTH - 1))  # noqa: UP031
    judged = method(path, content=at_the_limit, headers=world.auth(who))
    assert _error(judged, 422)["code"] != "bad_json"  # the route's own model judged it


@SQLITE
def test_a_body_over_the_size_limit_is_413(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    huge = json.dumps({"name": "x" * limits.JSON_BODY_BYTES, "email": "k@fetes.example"})
    assert _error(client.post("/api/v1/promoters", content=huge), 413)["code"] == "body_too_large"
    assert _count(factory, Promoter) == 0


@SQLITE
def test_nul_in_a_json_body_names_every_field_that_holds_it(client: TestClient) -> None:
    body = {"name": "K\x00", "email": "k@fetes.example", "event_types": ["ok", "b\x00d"]}
    error = _error(client.post("/api/v1/promoters", json=body), 422)
    assert set(error["fields"]) == {"body.name", "body.event_types.1"}


@SQLITE
def test_a_form_body_is_capped_too(client: TestClient) -> None:
    big = {"csrf_token": "x", "name": "x" * limits.JSON_BODY_BYTES}
    response = client.post("/passport-promoters", data=big)
    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]  # a page path answers with a page


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b'{"qr": "[[[[[[[["}', b'"\\u0000"', b"not json at all"],
)
def test_check_body_lets_ordinary_bodies_through(body: bytes) -> None:
    check_body(body, nul_allowed=body.startswith(b'"'))
