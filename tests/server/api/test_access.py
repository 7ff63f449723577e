"""Tokens that end: web sessions are no API tokens, API tokens expire and can be revoked
(logout, HQ), HQ suspends and reinstates promoters, and attendees log in to their own data."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.wire import DeviceRole, DeviceScope
from server.app import create_app
from server.db.models import ApiToken, Promoter, User, utcnow
from server.db.models.enums import PromoterStatus, TokenKind, UserRole
from server.db.session import unit_of_work
from server.domain import accounts, devices, passport
from server.settings import ServerSettings
from tests.server.api.conftest import TestClient
from tests.server.api.world import PASSWORD, World, pair_device, password_hash, tag


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(client: TestClient, email: str, password: str = PASSWORD) -> tuple[int, dict]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json()


def _age(factory: sessionmaker[Session], token: str, days: float) -> None:
    with unit_of_work(factory) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == accounts.hash_token(token))
            .values(created_at=utcnow() - timedelta(days=days))
        )


def _attendee(
    factory: sessionmaker[Session], *, with_passport: bool = True
) -> tuple[uuid.UUID, str]:
    """An attendee who can log in: (user id, email)."""
    with unit_of_work(factory) as session:
        name = f"fan_{tag()}"
        user = accounts.create_user(
            session, username=name, display_name="Kesha Baptiste", email=f"{name}@example.com"
        )
        user.password_hash = password_hash()
        if with_passport:
            passport.get_or_create_profile(session, user_id=user.id)
        return user.id, f"{name}@example.com"


# ------------------------------------------------------------------------------ tokens


def test_a_web_session_cookie_is_no_api_token(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        cookie = accounts.issue_api_token(
            session, user_id=world.promoter_a_user_id, kind=TokenKind.WEB
        )
    _age(factory, cookie, 30)  # the 30-day-old session of the report, and a fresh one
    with unit_of_work(factory) as session:
        fresh = accounts.issue_api_token(
            session, user_id=world.promoter_a_user_id, kind=TokenKind.WEB
        )
    for token in (cookie, fresh):
        assert client.get("/api/v1/events", headers=_bearer(token)).status_code == 401
        code = client.post(
            "/api/v1/devices/pairing-codes",
            json={"role": "DOOR", "event_id": str(world.event_a_id)},
            headers=_bearer(token),
        )
        assert code.status_code == 401
        assert code.json()["error"]["message"] == "The bearer token is unknown, expired or revoked."


def test_api_tokens_expire_after_the_configured_days(
    api_engine: Engine, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        old, young = (
            accounts.issue_api_token(session, user_id=world.promoter_a_user_id) for _ in range(2)
        )
    _age(factory, old, 400)
    _age(factory, young, 29)
    url = api_engine.url.render_as_string(hide_password=False)
    for days, young_status in ((30, 200), (7, 401)):
        settings = ServerSettings(database_url=url, api_token_days=days)
        with TestClient(create_app(settings, engine=api_engine)) as client:
            expired = client.get("/api/v1/events", headers=_bearer(old))
            assert expired.status_code == 401
            assert expired.json()["error"]["message"].startswith("This token expired at ")
            assert "log in again" in expired.json()["error"]["message"]
            assert client.get("/api/v1/events", headers=_bearer(young)).status_code == young_status


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_logout_revokes_only_the_token_it_carries(client: TestClient, world: World) -> None:
    first = _login(client, world.promoter_a_email)[1]["token"]
    second = _login(client, world.promoter_a_email)[1]["token"]
    out = client.post("/api/v1/auth/logout", headers=_bearer(first))
    assert out.json() == {"revoked": True}
    refused = client.get("/api/v1/events", headers=_bearer(first))
    assert refused.status_code == 401
    assert refused.json()["error"]["message"].startswith("This token has been revoked")
    assert client.post("/api/v1/auth/logout", headers=_bearer(first)).status_code == 401
    assert client.get("/api/v1/events", headers=_bearer(second)).status_code == 200


def test_hq_signs_a_user_out_everywhere(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    token = _login(client, world.promoter_a_email)[1]["token"]
    with unit_of_work(factory) as session:
        cookie = accounts.issue_api_token(
            session, user_id=world.promoter_a_user_id, kind=TokenKind.WEB
        )
    client.cookies.set("soca_session", cookie)
    assert client.get("/promoter", follow_redirects=False).status_code == 200
    done = client.post(
        f"/api/v1/users/{world.promoter_a_user_id}/revoke-tokens", headers=world.auth("hq")
    )
    # The world's own token, the login's, and the web session.
    assert done.json() == {
        "user_id": str(world.promoter_a_user_id),
        "api_tokens_revoked": 2,
        "web_sessions_revoked": 1,
    }
    assert client.get("/api/v1/events", headers=_bearer(token)).status_code == 401
    assert client.get("/promoter", follow_redirects=False).status_code == 303  # to the login
    client.cookies.clear()
    again = _login(client, world.promoter_a_email)
    assert again[0] == 200  # the password still works
    missing = client.post(f"/api/v1/users/{uuid.uuid4()}/revoke-tokens", headers=world.auth("hq"))
    assert missing.status_code == 404


# -------------------------------------------------------------------------- suspension


@pytest.fixture
def suspended_world(world: World, factory: sessionmaker[Session]) -> dict[str, str]:
    """Promoter A's credentials of every kind, and an unused door code for its event."""
    with unit_of_work(factory) as session:
        cookie = accounts.issue_api_token(
            session, user_id=world.promoter_a_user_id, kind=TokenKind.WEB
        )
        _id, branch_token = pair_device(
            session, DeviceRole.BRANCH, DeviceScope(branch_id=world.branch_id)
        )
        code = devices.create_pairing_code(
            session,
            role=DeviceRole.DOOR,
            scope=DeviceScope(event_id=world.event_a_id),
            now=utcnow(),
        ).code
    return {"cookie": cookie, "branch": branch_token, "code": code}


def test_suspending_a_promoter_ends_its_access_at_once_until_reinstated(
    client: TestClient,
    world: World,
    factory: sessionmaker[Session],
    suspended_world: dict[str, str],
) -> None:
    suspend = f"/api/v1/promoters/{world.promoter_a_id}/suspend"
    done = client.post(suspend, headers=world.auth("hq"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["suspended_at"] is not None) == ("APPROVED", True)
    # The world's token and the web session; its door and laptop (the world's revoked door
    # was revoked already). Branches belong to businesses: their tablets keep working.
    assert (body["api_tokens_revoked"], body["web_sessions_revoked"]) == (1, 1)
    assert body["devices_revoked"] == 2
    for who in ("promoter_a", "door", "promoter_device"):
        assert client.get("/api/v1/sync/pull", headers=world.auth(who)).status_code == 401, who
    assert client.get("/api/v1/sync/pull", headers=world.auth("branch")).status_code == 200
    assert (
        client.get("/api/v1/sync/pull", headers=_bearer(suspended_world["branch"])).status_code
        == 200
    )
    client.cookies.set("soca_session", suspended_world["cookie"])
    assert client.get("/promoter", follow_redirects=False).status_code == 303
    client.cookies.clear()
    status, refused = _login(client, world.promoter_a_email)
    assert (status, refused["error"]["code"]) == (403, "promoter_suspended")
    unused = client.post(
        "/api/v1/devices/pair", json={"code": suspended_world["code"], "name": "G"}
    )
    assert unused.status_code == 400  # expired by the suspension
    new_code = client.post(
        "/api/v1/devices/pairing-codes",
        json={"role": "DOOR", "event_id": str(world.event_a_id)},
        headers=world.auth("hq"),
    ).json()["code"]
    paired = client.post("/api/v1/devices/pair", json={"code": new_code, "name": "G"})
    assert (paired.status_code, paired.json()["error"]["code"]) == (403, "promoter_suspended")
    assert client.get("/api/v1/events", headers=world.auth("promoter_b")).status_code == 200
    again = client.post(suspend, headers=world.auth("hq")).json()
    assert (again["api_tokens_revoked"], again["devices_revoked"]) == (0, 0)

    back = client.post(
        f"/api/v1/promoters/{world.promoter_a_id}/reinstate", headers=world.auth("hq")
    )
    assert (back.json()["status"], back.json()["suspended_at"]) == ("APPROVED", None)
    status, fresh = _login(client, world.promoter_a_email)
    assert (status, fresh["role"]) == (200, "PROMOTER")
    assert client.get("/api/v1/events", headers=_bearer(fresh["token"])).status_code == 200
    assert client.get("/api/v1/sync/pull", headers=world.auth("door")).status_code == 401
    with unit_of_work(factory) as session:
        row = session.get(Promoter, world.promoter_a_id)
        assert row is not None and row.status == PromoterStatus.APPROVED


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_only_an_approved_promoter_can_be_suspended(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    created = client.post("/api/v1/promoters", json={"name": "Soon", "email": "s@fetes.example"})
    pending = created.json()["id"]
    refused = client.post(f"/api/v1/promoters/{pending}/suspend", headers=world.auth("hq"))
    assert refused.status_code == 409
    assert "only an APPROVED promoter" in refused.json()["error"]["message"]
    with unit_of_work(factory) as session:
        suspended = session.scalars(select(Promoter).where(Promoter.suspended_at.is_not(None)))
        assert list(suspended) == []


# --------------------------------------------------------------------------- attendees


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_an_attendee_logs_in_and_reads_only_their_own_data(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    user_id, email = _attendee(factory)
    status, body = _login(client, email.upper())
    assert (status, body["role"], body["user_id"]) == (200, "ATTENDEE", str(user_id))
    me = client.get("/api/v1/me", headers=_bearer(body["token"])).json()
    assert (me["user_id"], me["role"], me["display_name"]) == (
        str(user_id),
        "ATTENDEE",
        "Kesha Baptiste",
    )
    assert me["passport"]["current_tier"] == "BRONZE"
    assert me["passport"]["handle"].startswith("fan_")
    own = client.get(f"/api/v1/passports/{user_id}", headers=_bearer(body["token"]))
    assert own.status_code == 200
    other = client.get(f"/api/v1/passports/{world.attendee_id}", headers=_bearer(body["token"]))
    missing = client.get(f"/api/v1/passports/{uuid.uuid4()}", headers=_bearer(body["token"]))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert client.get("/api/v1/events", headers=_bearer(body["token"])).status_code == 403


@pytest.mark.parametrize("api_engine", ["sqlite"], indirect=True)
def test_a_pending_applicant_acts_as_an_attendee(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    user_id, email = _attendee(factory, with_passport=False)
    with unit_of_work(factory) as session:
        user = session.get(User, user_id)
        assert user is not None
        user.role = UserRole.PROMOTER
    token = _login(client, email)[1]["token"]
    client.post("/api/v1/promoters", json={"name": "Crew", "email": email}, headers=_bearer(token))
    me = client.get("/api/v1/me", headers=_bearer(token)).json()
    assert (me["role"], me["passport"]) == ("ATTENDEE", None)
    assert client.get("/api/v1/events", headers=_bearer(token)).status_code == 403
