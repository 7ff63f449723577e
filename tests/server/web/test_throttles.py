"""Sign-up, promoter applications and logins are throttled per address through the shared
limiter, a crowd behind one address keeps logging in, and new passwords pass the policy."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.app import create_app
from server.db.models import Promoter, User
from server.db.session import unit_of_work
from server.settings import ServerSettings
from tests.server.web.conftest import post_form, register
from tests.server.web.world import PASSWORD, WebWorld


def _app(engine: Engine, **limits: int) -> FastAPI:
    url = engine.url.render_as_string(hide_password=False)
    return create_app(ServerSettings(database_url=url, **limits), engine=engine)


def _visitor(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 40000))


@pytest.mark.parametrize("web_engine", ["sqlite"], indirect=True)  # the limiter: both engines
def test_sign_ups_are_limited_per_address(web_engine: Engine) -> None:
    app = _app(web_engine, signups_per_address=3)
    with _visitor(app, "198.51.100.7") as venue:
        assert register(venue, "carnival_1").status_code == 303
        venue.cookies.clear()
        assert register(venue, "x").status_code == 422  # a form error counts as an attempt
        assert register(venue, "carnival_2").status_code == 303
        venue.cookies.clear()
        refused = register(venue, "carnival_3")
        assert refused.status_code == 429
        assert "Too many sign-ups from your address" in refused.text
        assert int(refused.headers["retry-after"]) >= 1
    with _visitor(app, "198.51.100.8") as elsewhere:
        assert register(elsewhere, "carnival_3").status_code == 303


def test_promoter_applications_are_limited_on_the_page_and_the_api(
    web_engine: Engine, factory: sessionmaker[Session]
) -> None:
    app = _app(web_engine, promoter_applications_per_address=2)
    password = {
        "password": "violet-steelpan-mango-47",
        "password_confirmation": "violet-steelpan-mango-47",
    }

    def crew(n: int) -> dict[str, str]:
        return {"name": f"Crew {n}", "email": f"crew{n}@fetes.example"}

    with _visitor(app, "203.0.113.50") as flood:
        page = post_form(flood, "/passport-promoters", "/passport-promoters", crew(1) | password)
        assert (page.status_code, page.headers["location"]) == (303, "/promoter")  # signed in
        flood.cookies.clear()
        assert flood.post("/api/v1/promoters", json=crew(2)).status_code == 201
        refused_api = flood.post("/api/v1/promoters", json=crew(3))
        assert refused_api.status_code == 429
        assert refused_api.json()["error"]["code"] == "too_many_requests"
        refused_page = post_form(
            flood, "/passport-promoters", "/passport-promoters", crew(4) | password
        )
        assert refused_page.status_code == 429
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Promoter)) == 2


def _log_in(client: TestClient, email: str, password: str) -> int:
    response = post_form(client, "/login", "/login", {"email": email, "password": password})
    client.cookies.clear()
    return int(response.status_code)


@pytest.mark.parametrize("web_engine", ["postgresql"], indirect=True)  # the limiter: both engines
def test_a_crowd_behind_one_address_is_not_locked_out_by_one_persons_typos(
    web_engine: Engine, world: WebWorld
) -> None:
    app = _app(web_engine, login_failures_per_account=2, login_failures_per_address=5)
    attendee, promoter = world.emails["attendee"], world.emails["promoter_a"]
    with _visitor(app, "192.0.2.44") as venue:
        assert [_log_in(venue, attendee, "typo") for _ in range(2)] == [401, 401]
        assert _log_in(venue, attendee, PASSWORD) == 429  # that account, from this address
        assert [_log_in(venue, promoter, PASSWORD) for _ in range(3)] == [303] * 3  # free
        assert _log_in(venue, promoter, "typo") == 401
        assert _log_in(venue, "nobody@example.com", "typo") == 401
        assert _log_in(venue, "someone@example.com", "typo") == 401  # 5 failures here now
        assert _log_in(venue, world.emails["hq"], PASSWORD) == 429  # the address's ceiling
    with _visitor(app, "192.0.2.45") as home:
        assert _log_in(home, attendee, PASSWORD) == 303


@pytest.mark.parametrize("web_engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("password", ["12345678", "password", "kes_fan123"])
def test_common_or_personal_passwords_are_refused_at_sign_up(
    client: TestClient, password: str
) -> None:
    response = register(client, "kes_fan", password=password)
    assert response.status_code == 422
    assert 'id="password-error"' in response.text
    assert "too common or too easy to guess" in response.text
    assert register(client, "kes_fan", password="steelpan sunrise mango").status_code == 303


def test_handles_and_emails_are_unique_whatever_their_case(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    assert register(client, "KES_FAN").status_code == 303
    client.cookies.clear()
    again = register(client, "kes_fan", email="other@example.com")
    assert again.status_code == 422
    assert "already registered" in again.text
    same_email = register(client, "other_fan", email="KES_FAN@EXAMPLE.COM")
    assert same_email.status_code == 422
    with unit_of_work(factory) as session:
        stored = session.scalars(select(User.email).where(User.username == "KES_FAN")).one()
        assert stored == "kes_fan@example.com"
    with pytest.raises(IntegrityError), unit_of_work(factory) as session:  # the index holds
        session.add(User(username="Kes_Fan", display_name="K", email="k2@example.com"))
