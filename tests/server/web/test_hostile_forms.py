"""Forms typed badly on purpose (issue 13): each gets its page again with the problem beside the
field and the typed values kept, never a 500, and nothing changes.

Nothing here may change the world, so one world per engine (and one signed-in
browser per person) serves the module.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import EventPassportBilling, Package, PassportTier, Promoter, User
from server.db.session import make_session_factory, unit_of_work
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import empty_tables, make_app
from tests.server.web.conftest import browser, login, post_form
from tests.server.web.world import WebWorld, build_web_world


@pytest.fixture(scope="module", params=ENGINES)
def shared(
    request: pytest.FixtureRequest, databases: _Databases
) -> tuple[Any, WebWorld, sessionmaker[Session]]:
    """The app, its world and sessions, once per engine for the module."""
    engine = databases.engine(request.param)
    empty_tables(engine)
    factory = make_session_factory(engine)
    return make_app(engine), build_web_world(factory), factory


@pytest.fixture(scope="module")
def world(shared: tuple[Any, WebWorld, sessionmaker[Session]]) -> WebWorld:
    """The module's world."""
    return shared[1]


@pytest.fixture(scope="module")
def factory(shared: tuple[Any, WebWorld, sessionmaker[Session]]) -> sessionmaker[Session]:
    """Sessions on the module's engine."""
    return shared[2]


def _signed_in(
    shared: tuple[Any, WebWorld, sessionmaker[Session]], who: str
) -> Iterator[TestClient]:
    with browser(shared[0]) as person:
        login(person, shared[1].emails[who])
        yield person


@pytest.fixture(scope="module")
def hq(shared: tuple[Any, WebWorld, sessionmaker[Session]]) -> Iterator[TestClient]:
    """HQ's browser, signed in."""
    yield from _signed_in(shared, "hq")


@pytest.fixture(scope="module")
def promoter(shared: tuple[Any, WebWorld, sessionmaker[Session]]) -> Iterator[TestClient]:
    """Promoter A's browser, signed in."""
    yield from _signed_in(shared, "promoter_a")


def _rows(factory: sessionmaker[Session], model: Any) -> list[Any]:
    with unit_of_work(factory) as session:
        return [tuple(row) for row in session.execute(select(model.__table__)).all()]


def _count(factory: sessionmaker[Session], model: Any) -> int:
    with unit_of_work(factory) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("fee", ["inf", "-inf", "1e308", "NaN", "-1", "1.234", "9" * 5000])
def test_a_fee_that_is_not_an_amount_is_shown_beside_its_field(
    hq: TestClient, world: WebWorld, factory: sessionmaker[Session], fee: str
) -> None:
    before = _rows(factory, EventPassportBilling)
    page = post_form(hq, "/hq", f"/hq/billing/{world.billing_a_id}/fee", {"fee": fee})
    assert page.status_code == 422
    assert 'id="fee-error"' in page.text and "Type an amount from 0.00 to" in page.text
    assert f'value="{fee}"' in page.text  # what was typed, kept
    assert _rows(factory, EventPassportBilling) == before


@pytest.mark.parametrize(
    ("field", "typed", "problem"),
    [
        ("min_SILVER", str(10**30), "Type a whole number from 0 to 100,000,000."),
        ("min_SILVER", "-5", "Type a whole number from 0 to 100,000,000."),
        ("min_SILVER", "1e400", "Type a whole number from 0 to 100,000,000."),
        ("discount_percent_GOLD", "9" * 5000, "Type a whole number from 0 to 100."),
        ("reward_valid_days_GOLD", "1e30", "Type a whole number from 0 to 3,650."),
        ("discount_percent_GOLD", "5\x00", "Type a whole number from 0 to 100."),
    ],
    ids=["min 10^30", "min negative", "min 1e400", "percent of 5000 digits", "days", "NUL"],
)
def test_tiers_form_refuses_hostile_thresholds_and_perks(
    hq: TestClient, factory: sessionmaker[Session], field: str, typed: str, problem: str
) -> None:
    before = _rows(factory, PassportTier)
    shown = hq.get("/hq/tiers")
    values = {
        name: html.unescape(value)
        for name, value in _inputs(shown.text)
        if name.startswith("min_") or name.rsplit("_", 1)[-1] in TIERS
    }
    page = post_form(hq, "/hq/tiers", "/hq/tiers", values | {field: typed})
    assert page.status_code == 422
    assert problem in html.unescape(page.text)
    if len(typed) < 100 and "\x00" not in typed:
        assert f'value="{typed}"' in html.unescape(page.text)  # what was typed, kept
    assert _rows(factory, PassportTier) == before


TIERS = ("BRONZE", "SILVER", "GOLD", "ELITE")


def _inputs(page: str) -> list[tuple[str, str]]:
    found = re.findall(
        r'<input id="[^"]*" name="([^"]+)" inputmode="numeric" value="([^"]*)"', page
    )
    return [(name, value) for name, value in found]


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"max_quantity": "9" * 5000}, "max_quantity", "Type a whole number from 1 to"),
        ({"max_quantity": "0"}, "max_quantity", "Type a whole number from 1 to"),
        ({"price": "1e400"}, "price", "Type an amount from 0.00 to"),
        ({"name": "x" * 201}, "name", "Use at most 200 characters."),
    ],
    ids=["stock of 5000 digits", "stock 0", "price 1e400", "name too long"],
)
def test_package_form_refuses_numbers_and_text_beyond_their_limits(
    promoter: TestClient,
    world: WebWorld,
    factory: sessionmaker[Session],
    fields: dict[str, str],
    field: str,
    problem: str,
) -> None:
    new = f"/promoter/events/{world.event_a_id}/packages/new"
    typed = {"name": "VIP", "price": "45.00", "description": "Two drinks"} | fields
    page = post_form(promoter, new, f"/promoter/events/{world.event_a_id}/packages", typed)
    assert page.status_code == 422
    assert f'data-field="{field}"' in page.text and problem in page.text
    assert "Two drinks" in page.text  # the other values kept
    assert _count(factory, Package) == 0


def test_nul_in_form_text_is_a_field_error_and_stores_nothing(
    promoter: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    new = f"/promoter/events/{world.event_a_id}/packages/new"
    page = post_form(
        promoter,
        new,
        f"/promoter/events/{world.event_a_id}/packages",
        {"name": "VIP\x00", "price": "45.00"},
    )
    assert page.status_code == 422 and "U+0000" in page.text
    assert _count(factory, Package) == 0
    promoters_before = _count(factory, Promoter)
    signup = post_form(
        promoter,
        "/passport-promoters",
        "/passport-promoters",
        {"name": "Kerry\x00", "email": "kerry@fetes.example"},
    )
    assert signup.status_code == 422 and 'id="name-error"' in signup.text
    assert _count(factory, Promoter) == promoters_before


def test_nul_in_sign_up_and_login_emails_is_refused_without_a_500(
    shared: tuple[Any, WebWorld, sessionmaker[Session]], world: WebWorld
) -> None:
    factory = shared[2]
    users = _count(factory, User)
    with browser(shared[0]) as visitor:
        data = {"username": "nul_fan", "email": "nul\x00@example.com", "password": "wine-n-grind"}
        signup = post_form(visitor, "/register", "/register", data)
        assert signup.status_code == 422 and 'id="email-error"' in signup.text
        data = {"email": world.emails["attendee"].replace("@", "\x00@"), "password": "x" * 8}
        wrong = post_form(visitor, "/login", "/login", data)
        assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    assert _count(factory, User) == users
