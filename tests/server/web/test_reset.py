"""Forgot password → a mail through a real local SMTP server → the link sets a new password,
once; it never says which emails have accounts, is throttled, and works for every account kind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.app import create_app
from server.db.models import User, utcnow
from server.db.models.enums import LinkPurpose
from server.db.session import unit_of_work
from server.domain import account_links
from server.settings import ServerSettings
from tests.server.mailbox import Mailbox, local_smtp, reset_link
from tests.server.web.conftest import browser, login, post_form, token_of
from tests.server.web.world import WebWorld

NEW_PASSWORD = "violet-steelpan-mango-47"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    """One local SMTP server for the module."""
    with local_smtp() as box:
        yield box


@pytest.fixture
def web_engine(sqlite_engine: Engine) -> Engine:
    """Pages on SQLite only: the services under them are tested on both engines."""
    return sqlite_engine


@pytest.fixture
def app(web_engine: Engine, mailbox: Mailbox) -> FastAPI:
    """The app over the test engine, sending mail to the local SMTP server."""
    url = web_engine.url.render_as_string(hide_password=False)
    settings = ServerSettings(database_url=url, **mailbox.settings())
    return create_app(settings, engine=web_engine)


def _ask(client: TestClient, email: str) -> str:
    response = post_form(client, "/forgot-password", "/forgot-password", {"email": email})
    assert response.status_code == 200, response.text
    return str(response.text)


def _link_for(
    factory: sessionmaker[Session], email: str, *, minutes: int = 60, age: int = 0
) -> str:
    with unit_of_work(factory) as session:
        user = session.query(User).filter_by(email=email).one()
        token = account_links.issue(
            session,
            user=user,
            purpose=LinkPurpose.RESET,
            ttl=timedelta(minutes=minutes),
            now=utcnow() - timedelta(minutes=age),
        )
    return f"/reset/{token}"


def _set(client: TestClient, path: str, password: str, confirm: str | None = None) -> Any:
    data = {"password": password, "confirm": password if confirm is None else confirm}
    return post_form(client, path, path, data)


def test_forgot_mail_link_sets_the_password_once_ends_other_sessions_and_signs_in(
    app: FastAPI, client: TestClient, world: WebWorld, mailbox: Mailbox
) -> None:
    before = len(mailbox.messages)
    assert 'href="/forgot-password"' in client.get("/login").text
    page = _ask(client, world.emails["attendee"])
    assert "If an account exists for" in page
    mail = mailbox.wait_for(before + 1)[-1]
    assert mail["To"] == world.emails["attendee"]
    assert mail["Subject"] == "Set a new Soca Passport password"
    path = "/reset/" + reset_link(mail).rsplit("/reset/", 1)[1]
    form = client.get(path)
    assert form.status_code == 200 and world.emails["attendee"] in form.text
    assert form.headers["referrer-policy"] == "no-referrer"
    mismatch = _set(client, path, NEW_PASSWORD, "something-else")
    assert mismatch.status_code == 422 and "The two passwords differ." in mismatch.text
    weak = _set(client, path, "short")
    assert weak.status_code == 422 and "at least 8 characters" in weak.text
    with browser(app) as elsewhere:
        login(elsewhere, world.emails["attendee"])
        done = _set(client, path, NEW_PASSWORD)
        assert done.status_code == 303 and done.headers["location"] == "/passport"
        assert client.get("/passport").status_code == 200  # signed in here
        assert elsewhere.get("/passport").status_code == 303  # and out everywhere else
    again = client.get(path)
    assert again.status_code == 410 and "already used" in again.text
    assert 'href="/forgot-password"' in again.text


def test_unknown_emails_get_the_same_answer_and_no_mail(
    client: TestClient, world: WebWorld, mailbox: Mailbox
) -> None:
    before = len(mailbox.messages)
    unknown = _ask(client, "nobody@example.com")
    known = _ask(client, world.emails["attendee"])

    def normalised(page: str, email: str) -> str:
        page = page.replace(email, "EMAIL").replace(quote(email), "EMAIL")
        return re.sub(r'value="[^"]+"', "", page)  # the CSRF token differs

    assert normalised(unknown, "nobody@example.com") == normalised(known, world.emails["attendee"])
    arrived = mailbox.wait_for(before + 1)
    assert [mail["To"] for mail in arrived[before:]] == [world.emails["attendee"]]


def test_expired_and_unknown_links_offer_a_new_one(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    expired = _link_for(factory, world.emails["attendee"], minutes=60, age=61)
    page = client.get(expired)
    assert page.status_code == 410 and "This link has expired" in page.text
    assert 'id="new-link" href="/forgot-password"' in page.text
    shown = client.get("/forgot-password")
    posted = client.post(
        expired,
        data={
            "csrf_token": token_of(shown.text),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert posted.status_code == 410  # and the password is unchanged:
    login(client, world.emails["attendee"])
    unknown = client.get("/reset/not-a-real-token")
    assert unknown.status_code == 404 and 'id="new-link"' in unknown.text


def test_hq_resets_and_lands_on_its_home(
    app: FastAPI, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    # Attendees land on /passport (above); promoters on /promoter (the browser test).
    with browser(app) as client:
        done = _set(client, _link_for(factory, world.emails["hq"]), NEW_PASSWORD)
        assert done.headers["location"] == "/hq"
        assert client.get("/hq").status_code == 200


def test_reset_requests_are_throttled_per_address(client: TestClient, world: WebWorld) -> None:
    for _ in range(ServerSettings.model_fields["password_resets_per_address"].default):
        _ask(client, "nobody@example.com")
    shown = client.get("/forgot-password")
    refused = client.post(
        "/forgot-password",
        data={"csrf_token": token_of(shown.text), "email": world.emails["attendee"]},
    )
    assert refused.status_code == 429 and "Too many reset requests" in refused.text
    assert int(refused.headers["retry-after"]) > 0


def test_without_smtp_the_link_is_written_to_the_server_log(
    web_engine: Engine, world: WebWorld, caplog: pytest.LogCaptureFixture
) -> None:
    url = web_engine.url.render_as_string(hide_password=False)
    app = create_app(ServerSettings(database_url=url, smtp_host=""), engine=web_engine)
    with browser(app) as client:
        with caplog.at_level(logging.WARNING, logger="server.mail"):
            _ask(client, world.emails["attendee"])
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "no SMTP host configured" in logged and world.emails["attendee"] in logged
        found = re.search(r"http://testserver(/reset/\S+)", logged)
        assert found is not None
        assert client.get(found.group(1)).status_code == 200


@pytest.mark.parametrize(
    ("email", "problem"), [("nope", "Enter the email"), ("a@b.c\x00", "control character")]
)
def test_a_malformed_email_is_a_field_error(client: TestClient, email: str, problem: str) -> None:
    response = post_form(client, "/forgot-password", "/forgot-password", {"email": email})
    assert response.status_code == 422 and 'id="forgot-error"' in response.text
    assert problem in response.text
