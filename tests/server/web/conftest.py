"""Web fixtures: the app over a real database (both engines where it matters), a browser-like
client, and helpers that read a page's CSRF token and fill its forms."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import make_session_factory
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import empty_tables, make_app
from tests.server.web.browser import CHROMIUM, CHROMIUM_ARGS
from tests.server.web.world import PASSWORD, WebWorld, build_web_world

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module", autouse=True)
def _leave_tables_empty(databases: _Databases) -> Iterator[None]:
    """Empty every engine this module touched once the module is done."""
    yield
    for engine in databases.engines.values():
        empty_tables(engine)


@pytest.fixture(params=ENGINES)
def web_engine(request: pytest.FixtureRequest, databases: _Databases) -> Engine:
    """A migrated engine with empty tables."""
    engine = databases.engine(request.param)
    empty_tables(engine)
    return engine


@pytest.fixture
def sqlite_engine(databases: _Databases) -> Engine:
    """The SQLite engine alone, for tests of rendering only."""
    engine = databases.engine("sqlite")
    empty_tables(engine)
    return engine


@pytest.fixture
def app(web_engine: Engine) -> FastAPI:
    """The app over the test engine."""
    return make_app(web_engine)


@pytest.fixture
def factory(web_engine: Engine) -> sessionmaker[Session]:
    """Sessions for arranging data."""
    return make_session_factory(web_engine)


def browser(app: FastAPI) -> TestClient:
    """A client that keeps cookies and does not follow redirects (tests check them)."""
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """One visitor's browser."""
    with browser(app) as test_client:
        yield test_client


def token_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _TOKEN.search(html)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Open `page`, then post `data` to `action` with the page's CSRF token."""
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(action, data={"csrf_token": token_of(shown.text), **data})


def register(client: TestClient, username: str = "mas_fan", **extra: str) -> Any:
    """Sign up through the form (which signs the visitor in)."""
    data = {"username": username, "email": f"{username}@example.com", "password": "wine-n-grind"}
    data.update(extra)
    return post_form(client, "/register", "/register", data)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> WebWorld:
    """HQ, two promoters with events, an attendee with a ticket, a door device."""
    return build_web_world(factory)


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign `client` in through the login form."""
    response = post_form(client, "/login", "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, one per test module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
