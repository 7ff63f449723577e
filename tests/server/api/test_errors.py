"""One error shape everywhere; no stack trace reaches a client; a failed commit is not a success."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from server.api.auth import public
from server.db.models import Promoter
from server.db.session import unit_of_work
from tests.server.api.conftest import TestClient
from tests.server.api.world import World

SIGN_UP = "/api/v1/promoters"


def _promoters(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return session.scalar(select(func.count()).select_from(Promoter)) or 0


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_unexpected_errors_are_500_without_a_trace_and_logged(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals at /srv/soca/thing.py")

    app.add_api_route("/api/v1/explode", explode, dependencies=[public()])
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/explode")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    logged = [record for record in caplog.records if record.name == "server.api"]
    assert logged and logged[0].exc_info is not None
    assert "secret internals" in str(logged[0].exc_info[1])


def test_a_failed_commit_is_an_error_not_a_success(
    app: FastAPI, factory: sessionmaker[Session]
) -> None:
    def refuse(_session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk full"))

    event.listen(app.state.session_factory, "before_commit", refuse)
    with TestClient(app) as client:
        response = client.post(SIGN_UP, json={"name": "Kerry", "email": "k@fetes.example"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert _promoters(factory) == 0


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_framework_errors_use_the_same_shape(client: TestClient) -> None:
    missing = client.get("/api/v1/nowhere")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    wrong_method = client.patch("/api/v1/promoters")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_field_errors_list_each_field(client: TestClient, factory: sessionmaker[Session]) -> None:
    # Each value fits its declared limit, so the domain's rules judge them all at once.
    response = client.post(SIGN_UP, json={"email": "nope", "location_country": "T1"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert set(error["fields"]) == {"name", "email", "location_country"}
    assert _promoters(factory) == 0


def test_validation_errors_name_the_fields(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/events", json={"name": "X", "starts_at": "soon"}, headers=world.auth("hq")
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith("body.starts_at:")
    assert "body.starts_at" in error["fields"]
