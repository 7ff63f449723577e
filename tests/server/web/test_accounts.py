"""Accounts on the web: sign-up, login, logout, session cookies and their flags."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import ApiToken, PassportProfile, User
from server.db.session import unit_of_work
from server.domain import accounts
from server.web.auth import SESSION_COOKIE, SESSION_LABEL
from tests.server.web.conftest import post_form, register
from tests.server.web.world import PASSWORD, WebWorld


def test_register_signs_in_creates_a_passport_and_goes_to_passport(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    response = register(client, "road_queen")
    assert response.status_code == 303
    assert response.headers["location"] == "/passport"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP here; Secure only over TLS
    page = client.get("/passport")
    assert page.status_code == 200
    assert "road_queen" in page.text
    with unit_of_work(factory) as session:
        user = session.scalars(select(User).where(User.username == "road_queen")).one()
        assert user.password_hash is not None and user.password_hash.startswith("$argon2")
        assert session.scalar(select(PassportProfile).where(PassportProfile.user_id == user.id))
        token = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
        assert token.label == SESSION_LABEL
        assert token.token_hash == accounts.hash_token(client.cookies[SESSION_COOKIE])


def test_register_shows_field_errors(client: TestClient) -> None:
    response = post_form(
        client, "/register", "/register", {"username": "x", "email": "nope", "password": "short"}
    )
    assert response.status_code == 422
    assert 'id="username-error"' in response.text
    assert 'id="email-error"' in response.text
    assert 'id="password-error"' in response.text
    assert SESSION_COOKIE not in client.cookies


def test_register_twice_is_a_friendly_error(client: TestClient) -> None:
    register(client, "twice")
    client.cookies.clear()
    again = register(client, "twice")
    assert again.status_code == 422
    assert "already registered" in again.text


def test_login_wrong_password_then_right_then_logout(client: TestClient) -> None:
    register(client, "jouvert")
    client.cookies.clear()
    wrong = post_form(
        client, "/login", "/login", {"email": "jouvert@example.com", "password": "nope"}
    )
    assert wrong.status_code == 401
    assert "Wrong email or password" in wrong.text
    right = post_form(
        client,
        "/login?next=/profile",
        "/login",
        {"email": "jouvert@example.com", "password": "wine-n-grind", "next": "/profile"},
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/profile"
    profile = client.get("/profile")
    assert profile.status_code == 200
    assert 'href="/passport"' in profile.text  # the Passport tab
    out = post_form(client, "/profile", "/logout", {})
    assert out.status_code == 303
    assert client.get("/profile").status_code == 303  # signed out: back to the login form


def test_login_never_redirects_off_site(client: TestClient) -> None:
    register(client, "offsite")
    client.cookies.clear()
    response = post_form(
        client,
        "/login",
        "/login",
        {"email": "offsite@example.com", "password": "wine-n-grind", "next": "//evil.example"},
    )
    assert response.headers["location"] == "/passport"


def test_protected_page_sends_signed_out_visitor_to_login(client: TestClient) -> None:
    response = client.get("/passport")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/passport"


def test_a_revoked_or_api_token_in_the_cookie_signs_nobody_in(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        user = accounts.create_user(
            session, username="api_only", display_name="Api", email="a@example.com"
        )
        api_token = accounts.issue_api_token(session, user_id=user.id, label="login")
    client.cookies.set(SESSION_COOKIE, api_token)
    assert client.get("/passport").status_code == 303


def test_session_cookie_is_secure_over_https(client: TestClient) -> None:
    client.base_url = client.base_url.copy_with(scheme="https")
    response = register(client, "tls_fan")
    assert "Secure" in response.headers["set-cookie"]


def test_logging_in_again_ends_the_previous_session(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    register(client, "two_logins")
    first = client.cookies[SESSION_COOKIE]
    post_form(
        client, "/login", "/login", {"email": "two_logins@example.com", "password": "wine-n-grind"}
    )
    assert client.cookies[SESSION_COOKIE] != first
    with unit_of_work(factory) as session:
        old = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == accounts.hash_token(first))
        ).one()
        assert old.revoked_at is not None


@pytest.mark.parametrize(
    ("who", "lands"),
    [
        ("hq", "/hq"),
        ("promoter_a", "/promoter"),
        ("owner", "/business"),
        ("manager", "/business"),
        ("attendee", "/passport"),
    ],
)
def test_a_login_without_next_lands_where_the_account_works(
    client: TestClient, world: WebWorld, who: str, lands: str
) -> None:
    done = post_form(client, "/login", "/login", {"email": world.emails[who], "password": PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == lands
