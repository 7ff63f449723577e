"""Input that once reached a 5xx (issue 13) now gets a 4xx in the project's error shape and
changes nothing: deep JSON, NUL characters, numbers beyond their declared ranges.

Each test compares the rows its route would write before and after, on both
engines (NUL and overflowing numbers broke PostgreSQL only, or differently).
Nothing here may change the world, so one world per engine serves the module.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import limits
from server.db.models import (
    Base,
    Event,
    EventPassportBilling,
    EventReward,
    Package,
    PassportMembership,
    PassportTier,
    Promoter,
    Ticket,
)
from server.db.session import make_session_factory, unit_of_work
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import TestClient, empty_tables, make_app
from tests.server.api.world import PASSWORD, World, build_world

NUL = "Fête\x00A"
Shared = tuple[TestClient, World, sessionmaker[Session]]


@pytest.fixture(scope="module", params=ENGINES)
def shared(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[Shared]:
    """One world and one client per engine for the whole module."""
    engine = databases.engine(request.param)
    empty_tables(engine)
    factory = make_session_factory(engine)
    world = build_world(factory)
    with TestClient(make_app(engine)) as test_client:
        yield test_client, world, factory


@pytest.fixture(scope="module")
def client(shared: Shared) -> TestClient:
    """The module's client."""
    return shared[0]


@pytest.fixture(scope="module")
def world(shared: Shared) -> World:
    """The module's world."""
    return shared[1]


@pytest.fixture(scope="module")
def factory(shared: Shared) -> sessionmaker[Session]:
    """Sessions on the module's engine."""
    return shared[2]


def _count(factory: sessionmaker[Session], model: type[Base]) -> int:
    with unit_of_work(factory) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error


# ------------------------------------------------------------------------------ NUL

PUSH_TIME = "2026-02-14T21:03:00Z"


def _scan(ticket_qr: str, event_id: uuid.UUID, *, seq: int, **payload: str) -> dict[str, Any]:
    body = {"qr": ticket_qr, "event_id": str(event_id), "gate": "Gate A"} | payload
    return {
        "op_id": str(uuid.uuid4()),
        "seq": seq,
        "type": "ticket.scan",
        "occurred_at": PUSH_TIME,
        "device_clock": PUSH_TIME,
        "payload": body,
    }


def test_a_gate_too_long_for_its_column_rejects_its_op_and_the_batch_applies(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        qr = session.scalars(select(Ticket.qr_token).where(Ticket.id == world.ticket_id)).one()
    event = world.event_a_id
    # (NUL in an op is the push's own business: its op log keeps every payload as jsonb.)
    ops = [
        _scan(qr, event, seq=1, gate="G" * (limits.GATE.max_length + 2)),
        _scan(qr, event, seq=2),
    ]
    response = client.post(
        "/api/v1/sync/push",
        json={"device_time": PUSH_TIME, "ops": ops},
        headers=world.auth("door"),
    )
    assert response.status_code == 200, response.text
    results = [(r["status"], r["reason"]) for r in response.json()["results"]]
    assert results == [("rejected", "invalid_op"), ("applied", None)]


def _nul_cases(world: World) -> list[tuple[str, str, str, dict[str, Any], type[Base]]]:
    """(method, path, who, body, the table the route would write) with NUL in one text field."""
    event, package = str(world.event_a_id), str(world.package_id)
    return [
        ("POST", "/api/v1/promoters", "anonymous", {"name": NUL, "email": "k@f.example"}, Promoter),
        ("POST", "/api/v1/promoters", "anonymous", {"name": "K", "email": "k\x00@f.ex"}, Promoter),
        ("POST", "/api/v1/events", "hq", {"name": NUL, "starts_at": "2026-02-14T21:00:00Z"}, Event),
        ("POST", "/api/v1/packages", "promoter_a", {"eventId": event, "name": NUL, "price": "1"}, Package),
        ("PUT", f"/api/v1/packages/{package}", "promoter_a", {"description": NUL}, Package),
        (
            "POST",
            "/api/v1/packages",
            "promoter_a",
            {"eventId": event, "name": "VIP", "price": "1", "items": [{"name": NUL, "type": "ENTRY"}]},
            Package,
        ),
        (
            "POST",
            "/api/v1/rewards",
            "promoter_a",
            {"eventId": event, "name": NUL, "triggerType": "TRANSACTION_COUNT",
             "minimumTransactions": 2, "rewardType": "RECHARGE", "rewardAmount": "1"},
            EventReward,
        ),
        (
            "POST",
            f"/api/v1/billing/{world.billing_a_id}/status",
            "hq",
            {"status": "WAIVED", "notes": NUL},
            EventPassportBilling,
        ),
        ("PUT", "/api/v1/tiers", "hq", {"tiers": [{"name": NUL, "min_points": 0}]}, PassportTier),
        (
            "POST",
            "/api/v1/memberships",
            "hq",
            {"user_id": str(world.attendee_id), "tier": "GOLD", "metadata": {"note": NUL}},
            PassportMembership,
        ),
        (
            "POST",
            f"/api/v1/events/{event}/tickets",
            "promoter_a",
            {"user_id": str(world.attendee_id), "holder_name": NUL},
            Ticket,
        ),
    ]  # fmt: skip


def _table_state(factory: sessionmaker[Session], model: type[Base]) -> list[Any]:
    with unit_of_work(factory) as session:
        return [tuple(row) for row in session.execute(select(model.__table__)).all()]


@pytest.mark.parametrize("case", range(11))
def test_nul_in_a_text_field_is_422_and_writes_nothing(
    client: TestClient, world: World, factory: sessionmaker[Session], case: int
) -> None:
    method, path, who, body, model = _nul_cases(world)[case]
    before = _table_state(factory, model)
    response = client.request(method, path, json=body, headers=world.auth(who))
    error = _error(response, 422)
    assert error["fields"], error
    assert _table_state(factory, model) == before


@pytest.mark.parametrize("text", ['"K\\ud800"', '"\\udfff"'], ids=["high", "low"])
def test_an_unpaired_surrogate_is_422_and_writes_nothing(
    client: TestClient, factory: sessionmaker[Session], text: str
) -> None:
    before = _count(factory, Promoter)
    body = f'{{"name": {text}, "email": "k@fetes.example"}}'
    response = client.post(
        "/api/v1/promoters", content=body, headers={"content-type": "application/json"}
    )
    assert "body.name" in _error(response, 422)["fields"]
    assert _count(factory, Promoter) == before


def test_nul_in_the_login_email_is_a_4xx(client: TestClient, world: World) -> None:
    email = world.promoter_a_email.replace("@", "\x00@")
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert 400 <= response.status_code < 500
    _error(response, response.status_code)


# ------------------------------------------------------------------- numbers


def _event(**fields: Any) -> dict[str, Any]:
    return {"name": "Big Numbers Fête", "starts_at": "2026-02-14T21:00:00Z"} | fields


@pytest.mark.parametrize("points", [10**30, 2**63, 2**31, -1, limits.STAMP_POINTS.maximum + 1])
def test_stamp_points_beyond_their_range_are_422(
    client: TestClient, world: World, factory: sessionmaker[Session], points: int
) -> None:
    before = _count(factory, Event)
    response = client.post(
        "/api/v1/events", json=_event(stamp_points_default=points), headers=world.auth("hq")
    )
    assert "body.stamp_points_default" in _error(response, 422)["fields"]
    assert _count(factory, Event) == before


def _raw_json(text: str) -> Callable[[TestClient, str, dict[str, str]], Any]:
    """A poster of JSON text as written (1e400 is not a Python float json.dumps can write)."""

    def post(client: TestClient, path: str, headers: dict[str, str]) -> Any:
        return client.post(
            path, content=text, headers=headers | {"content-type": "application/json"}
        )

    return post


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ('"price": "1e400"', "PACKAGE_INVALID_PRICE"),
        ('"price": 1e400', "PACKAGE_INVALID_PRICE"),
        (f'"price": {10**30}', "PACKAGE_INVALID_PRICE"),
        ('"price": "1", "originalPrice": "NaN"', "PACKAGE_INVALID_PRICE"),
        (f'"price": "1", "maxQuantity": {2**63}', "PACKAGE_INVALID_QUANTITY"),
        (f'"price": "1", "maxPerUser": {2**63}', "PACKAGE_INVALID_QUANTITY"),
        (
            f'"price": "1", "items": [{{"name": "Bracelet", "type": "BRACELET", "quantity": {2**63}}}]',
            "PACKAGE_INVALID_QUANTITY",
        ),
    ],
)
def test_package_numbers_beyond_their_range_carry_the_seeds_code(
    client: TestClient, world: World, factory: sessionmaker[Session], fields: str, code: str
) -> None:
    before = _count(factory, Package)
    text = f'{{"eventId": "{world.event_a_id}", "name": "Huge", {fields}}}'
    response = _raw_json(text)(client, "/api/v1/packages", world.auth("promoter_a"))
    error = _error(response, 422)
    assert (error["code"], bool(error["fields"])) == (code, True)
    assert _count(factory, Package) == before


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (f'"minimumTransactions": {10**30}', "REWARD_INVALID_AMOUNT"),
        ('"minimumTransactions": 2, "rewardAmount": "1e400"', "REWARD_INVALID_AMOUNT"),
        (f'"minimumTransactions": 2, "maxTotalRedemptions": {2**63}', "invalid_request"),
    ],
)
def test_reward_numbers_beyond_their_range_are_422(
    client: TestClient, world: World, factory: sessionmaker[Session], fields: str, code: str
) -> None:
    before = _count(factory, EventReward)
    text = (
        f'{{"eventId": "{world.event_a_id}", "name": "Huge", "triggerType": "TRANSACTION_COUNT",'
        f' "rewardType": "RECHARGE", "rewardAmount": "5.00", {fields}}}'
    )
    response = _raw_json(text)(client, "/api/v1/rewards", world.auth("promoter_a"))
    assert _error(response, 422)["code"] == code
    assert _count(factory, EventReward) == before


@pytest.mark.parametrize("min_points", [2**63, 10**30, -1, 1.5])
def test_a_tier_threshold_beyond_its_range_leaves_the_tiers_as_they_were(
    client: TestClient, world: World, factory: sessionmaker[Session], min_points: object
) -> None:
    before = _table_state(factory, PassportTier)
    tiers = [{"name": "BRONZE", "min_points": 0}, {"name": "HUGE", "min_points": min_points}]
    response = client.put("/api/v1/tiers", json={"tiers": tiers}, headers=world.auth("hq"))
    assert "body.tiers.1.min_points" in _error(response, 422)["fields"]
    assert _table_state(factory, PassportTier) == before


@pytest.mark.parametrize(
    "perks",
    [
        {"free_drink": True, "reward_valid_days": 10**30},
        {"x" * 41: True},
        {"free_drink": [[[[[True]]]]]},
    ],
    ids=["validity beyond its range", "perk name too long", "perks nested too deep"],
)
def test_tier_perks_outside_their_limits_are_422(
    client: TestClient, world: World, factory: sessionmaker[Session], perks: dict[str, Any]
) -> None:
    before = _table_state(factory, PassportTier)
    tiers = [{"name": "BRONZE", "min_points": 0, "perks": perks}]
    response = client.put("/api/v1/tiers", json={"tiers": tiers}, headers=world.auth("hq"))
    _error(response, 422)
    assert _table_state(factory, PassportTier) == before


@pytest.mark.parametrize("fee", [2**63, 10**30, -1, limits.FEE_CENTS.maximum + 1])
def test_a_fee_beyond_its_range_is_422(
    client: TestClient, world: World, factory: sessionmaker[Session], fee: int
) -> None:
    before = _table_state(factory, EventPassportBilling)
    response = client.post(
        f"/api/v1/events/{world.event_a_id}/enable-passport",
        json={"fee_amount_cents": fee},
        headers=world.auth("hq"),
    )
    assert "body.fee_amount_cents" in _error(response, 422)["fields"]
    assert _table_state(factory, EventPassportBilling) == before


@pytest.mark.parametrize(
    ("path", "who", "body"),
    [
        ("/api/v1/events", "hq", _event(starts_at="0001-01-01T01:00:00+03:04")),
        ("/api/v1/events", "hq", _event(ends_at="9999-12-31T23:00:00-05:00")),
        ("/api/v1/packages", "promoter_a", {"name": "VIP", "price": "1", "saleEndDate": "0001-01-01T00:00:00+14:00"}),
        ("/api/v1/memberships", "hq", {"tier": "GOLD", "expires_at": "9999-12-31T23:59:59-14:00"}),
    ],
    ids=["event start in year 1", "event end in year 9999", "package sale end", "membership expiry"],
)  # fmt: skip
def test_a_date_outside_the_plausible_window_is_422_not_an_overflow(
    client: TestClient,
    world: World,
    factory: sessionmaker[Session],
    path: str,
    who: str,
    body: dict[str, Any],
) -> None:
    extra = {
        "/api/v1/packages": {"eventId": str(world.event_a_id)},
        "/api/v1/memberships": {"user_id": str(world.attendee_id)},
    }
    sent = body | extra.get(path, {})
    model = {"/api/v1/events": Event, "/api/v1/packages": Package}.get(path, PassportMembership)
    before = _count(factory, model)
    error = _error(client.post(path, json=sent, headers=world.auth(who)), 422)
    assert any("2000-01-01 to 2100-01-01" in problem for problem in error["fields"].values())
    assert _count(factory, model) == before


def test_an_unknown_event_id_in_a_package_is_404_not_a_lost_row(
    client: TestClient, world: World
) -> None:
    body = {"eventId": str(uuid.uuid4()), "name": "VIP", "price": "1.00"}
    response = client.post("/api/v1/packages", json=body, headers=world.auth("promoter_a"))
    assert response.status_code == 404
