"""Bearer tokens only, login for every account, roles, and the login rate limits."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import User
from server.db.models.enums import UserRole
from server.db.session import unit_of_work
from server.domain import accounts, promoters
from tests.server.api.conftest import TestClient
from tests.server.api.world import PASSWORD, World, password_hash, tag

HQ_ROUTE = "/api/v1/promoters"
PROMOTER_ROUTE = "/api/v1/events"


def _login(client: TestClient, email: str, password: str = PASSWORD) -> tuple[int, dict]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json()


def _user_with_password(factory: sessionmaker[Session], role: UserRole) -> User:
    with unit_of_work(factory) as session:
        user = accounts.create_user(
            session, username=f"u{tag()}", display_name="U", email=f"{tag()}@x.example", role=role
        )
        user.password_hash = password_hash()
        return user


def test_login_gives_a_token_that_works(client: TestClient, world: World) -> None:
    status, body = _login(client, world.promoter_a_email.upper())
    assert status == 200, body
    assert body["role"] == "PROMOTER"
    assert body["user_id"] == str(world.promoter_a_user_id)
    assert len(body["token"]) >= 32
    events = client.get(PROMOTER_ROUTE, headers={"Authorization": f"Bearer {body['token']}"})
    assert [event["id"] for event in events.json()] == [str(world.event_a_id)]


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: TestClient, world: World
) -> None:
    wrong = client.post(
        "/api/v1/auth/login", json={"email": world.promoter_a_email, "password": "nope"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@x.example", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"error": {"code": "unauthorized", "message": "Wrong email or password."}}
    )
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("role", "acts_as"),
    [
        (UserRole.HQ, "HQ"),
        (UserRole.ATTENDEE, "ATTENDEE"),
        (UserRole.BRANCH_MANAGER, "BRANCH_MANAGER"),
    ],
)
def test_every_account_logs_in_and_acts_in_its_role(
    client: TestClient, factory: sessionmaker[Session], role: UserRole, acts_as: str
) -> None:
    user = _user_with_password(factory, role)
    assert user.email is not None
    status, body = _login(client, user.email)
    assert (status, body["role"]) == (200, acts_as)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["role"] == acts_as


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_failed_logins_are_limited_per_address_and_account(app: FastAPI, world: World) -> None:
    now = [6000.0]
    app.state.rate_limiter.clock = lambda: now[0]
    with TestClient(app, client=("10.0.0.1", 5000)) as attacker:
        for _ in range(5):
            assert _login(attacker, world.promoter_a_email, "guess")[0] == 401
        refused = attacker.post(
            "/api/v1/auth/login", json={"email": world.promoter_a_email, "password": PASSWORD}
        )
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 120
        # The same address may still try other accounts, and others this one.
        assert _login(attacker, "someone.else@x.example", "guess")[0] == 401
        with TestClient(app, client=("10.0.0.2", 5000)) as neighbour:
            assert _login(neighbour, world.promoter_a_email)[0] == 200
        now[0] += 120
        assert _login(attacker, world.promoter_a_email)[0] == 200


def test_tokens_are_read_from_the_authorization_header_only(
    client: TestClient, world: World
) -> None:
    token = world.tokens["hq"]
    assert client.get(HQ_ROUTE, headers=world.auth("hq")).status_code == 200
    assert client.get(f"{HQ_ROUTE}?token={token}").status_code == 401
    assert client.get(f"{HQ_ROUTE}?access_token={token}").status_code == 401
    client.cookies.set("token", token)
    assert client.get(HQ_ROUTE).status_code == 401
    client.cookies.clear()
    for header in (f"Basic {token}", "Bearer", f"Bearer {token} extra", token):
        response = client.get(HQ_ROUTE, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"] == "Bearer"
    lower = client.get(HQ_ROUTE, headers={"Authorization": f"bearer {token}"})
    assert lower.status_code == 200


def test_unknown_token_is_401_even_on_public_routes(client: TestClient) -> None:
    response = client.get("/api/passport/landing-info", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/passport/landing-info").status_code == 200


def test_users_without_an_api_role_are_forbidden(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        attendee = accounts.create_user(session, username=f"a{tag()}", display_name="A")
        pending_user = accounts.create_user(
            session, username=f"p{tag()}", display_name="P", role=UserRole.PROMOTER
        )
        promoters.register(session, name="Pending", email="p@x.example", user_id=pending_user.id)
        tokens = {
            "attendee": accounts.issue_api_token(session, user_id=attendee.id),
            "pending": accounts.issue_api_token(session, user_id=pending_user.id),
        }
    for token in tokens.values():
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(PROMOTER_ROUTE, headers=headers).status_code == 403
        assert client.get(HQ_ROUTE, headers=headers).status_code == 403


def test_a_promoter_acts_as_one_only_once_approved(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        user = accounts.create_user(
            session, username=f"r{tag()}", display_name="R", role=UserRole.PROMOTER
        )
        promoter = promoters.register(session, name="Soon", email="s@x.example", user_id=user.id)
        token = accounts.issue_api_token(session, user_id=user.id)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(PROMOTER_ROUTE, headers=headers).status_code == 403
    approved = client.post(f"/api/v1/promoters/{promoter.id}/approve", headers=world.auth("hq"))
    assert approved.json()["status"] == "APPROVED"
    assert client.get(PROMOTER_ROUTE, headers=headers).status_code == 200
