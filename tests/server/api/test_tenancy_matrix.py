"""Every route × every kind of caller → the expected status class.

Columns (in `PRINCIPALS` order): anonymous, HQ, promoter A (the target
belongs to A), promoter B (A's object), branch manager (of A's branch), DOOR
device (A's event), BRANCH device (A's branch), PROMOTER device (A), revoked
device. Letters: o = 2xx, u = 401, f = 403, n = 404, c = 409.

Objects a call consumes (a deleted package, a confirmed prize, a used
pairing code, a revoked device) are made fresh for each caller. The sync
services are replaced by fakes here: this file tests who may call them, not
what they do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.wire import DeviceRole, DeviceScope, PullResponse, PushResponse
from server.api.auth import api_routes
from server.db.session import make_session_factory, unit_of_work
from server.domain import (
    access,
    accounts,
    branches,
    businesses,
    devices,
    integrations,
    keys,
    memberships,
    packages,
    payments,
    promoters,
    purchases,
    tiers,
)
from server.sync import pull, push, views
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import TestClient, empty_tables, make_app
from tests.server.api.world import (
    NOW,
    PASSWORD,
    PRINCIPALS,
    World,
    build_world,
    customer_with_full_card,
    fresh_reward,
    pair_device,
    tag,
)
from tests.server.wallet.apns_standin import ApnsStandIn
from tests.server.wallet.certs import PASS_TYPE_ID, make_cert_files
from tests.server.wallet.world import apple_settings

CLASSES = {"o": "2xx", "u": 401, "f": 403, "n": 404, "c": 409}

Make = Callable[[World, Session, str], tuple[str, Any]]


@dataclass(frozen=True)
class Case:
    """One route: how to call it as a given principal, and what each principal gets."""

    method: str
    route: str
    expect: str
    make: Make


def fixed(path: str, body: Any = None) -> Make:
    """A call whose path (formatted with the world's ids) and body never change."""

    def make(w: World, _s: Session, _who: str) -> tuple[str, Any]:
        return path.format(w=w), body(w) if callable(body) else body

    return make


def _fresh_package(w: World, s: Session, _who: str) -> tuple[str, Any]:
    package = packages.create(s, event_id=w.event_a_id, name=f"P {tag()}", price=Decimal(1))
    return f"/api/v1/packages/{package.id}", None


def _on_sale(w: World, s: Session, _who: str) -> tuple[str, Any]:
    package = packages.create(
        s, event_id=w.event_a_id, name=f"P {tag()}", price=Decimal(1), status="ACTIVE"
    )
    return f"/api/v1/packages/{package.id}/purchases", {"payment": "cash"}


def _pending_purchase(w: World, s: Session, _who: str) -> tuple[str, Any]:
    package = packages.create(
        s, event_id=w.event_a_id, name=f"P {tag()}", price=Decimal(1), status="ACTIVE"
    )
    bought = purchases.purchase(
        s,
        package_id=package.id,
        user_id=w.attendee_id,
        now=datetime.now(UTC),
        signing_key=keys.current_signing_key(s),
        provider=payments.provider("cash"),
    )
    return f"/api/v1/purchases/{bought.id}/paid", None


def _fresh_integration(w: World, s: Session, _who: str) -> tuple[str, Any]:
    issued = integrations.create(s, event_id=w.event_a_id, name=f"Bar {tag()}")
    return f"/api/v1/integrations/{issued.credential.id}", None


def _fresh_reward(w: World, s: Session, _who: str) -> tuple[str, Any]:
    return f"/api/v1/rewards/{fresh_reward(s, w.event_a_id).id}", None


def _pairing(w: World, s: Session, _who: str) -> tuple[str, Any]:
    issued = devices.create_pairing_code(
        s, role=DeviceRole.DOOR, scope=DeviceScope(event_id=w.event_a_id), now=datetime.now(UTC)
    )
    return "/api/v1/devices/pair", {"code": issued.code, "name": "Gate"}


def _fresh_device(w: World, s: Session, _who: str) -> tuple[str, Any]:
    device_id, _token = pair_device(s, DeviceRole.DOOR, DeviceScope(event_id=w.event_a_id))
    return f"/api/v1/devices/{device_id}", None


def _roll(w: World, s: Session, who: str) -> tuple[str, Any]:
    if who in w.device_ids:
        return f"/api/v1/devices/{w.device_ids[who]}/roll-token", None
    device_id, _token = pair_device(s, DeviceRole.DOOR, DeviceScope(event_id=w.event_a_id))
    return f"/api/v1/devices/{device_id}/roll-token", None


def _confirm(w: World, s: Session, _who: str) -> tuple[str, Any]:
    customer = customer_with_full_card(s, w.offer_id)
    return f"/api/branch-manager/confirm-prize/{customer}/{w.offer_id}", None


def _pending_promoter(action: str) -> Make:
    def make(_w: World, s: Session, _who: str) -> tuple[str, Any]:
        row = promoters.register(s, name="New Promoter", email=f"n{tag()}@fetes.example")
        return f"/api/v1/promoters/{row.id}/{action}", None

    return make


def _approved_promoter(action: str, *, suspended: bool = False) -> Make:
    def make(_w: World, s: Session, _who: str) -> tuple[str, Any]:
        row = promoters.register(s, name="Approved", email=f"n{tag()}@fetes.example")
        promoters.approve(s, promoter_id=row.id)
        if suspended:
            access.suspend(s, promoter_id=row.id, now=NOW)
        return f"/api/v1/promoters/{row.id}/{action}", None

    return make


def _fresh_user_tokens(_w: World, s: Session, _who: str) -> tuple[str, Any]:
    user = accounts.create_user(s, username=f"u{tag()}", display_name="U")
    accounts.issue_api_token(s, user_id=user.id)
    return f"/api/v1/users/{user.id}/revoke-tokens", None


def _logout(w: World, s: Session, who: str) -> tuple[str, Any]:
    """Log out with a fresh token of the caller's user, so the world's own token lives on."""
    user_id = w.user_ids.get(who)
    if user_id is not None:
        w.spare_tokens.setdefault(who, w.tokens[who])
        w.tokens[who] = accounts.issue_api_token(s, user_id=user_id)
    return "/api/v1/auth/logout", None


def _membership_to_cancel(w: World, s: Session, _who: str) -> tuple[str, Any]:
    row = memberships.create(s, user_id=w.attendee_id, tier="ELITE", now=NOW)
    return f"/api/v1/memberships/{row.id}/cancel", None


def _same_tiers(_w: World, s: Session, _who: str) -> tuple[str, Any]:
    current = tiers.list_tiers(s)
    body = [{"name": t.name, "min_points": t.min_points, "perks": t.perks} for t in current]
    return "/api/v1/tiers", {"tiers": body}


def _branch_body(w: World, _s: Session, who: str) -> tuple[str, Any]:
    body: dict[str, Any] = {"name": f"Branch {tag()}"}
    if who == "hq":
        body["business_id"] = str(w.business_a_id)
    return "/api/v1/branches", body


def _fresh_branch_manager(w: World, s: Session, _who: str) -> tuple[str, Any]:
    branch = branches.create(s, business_id=w.business_a_id, name=f"Stand {tag()}")
    return f"/api/v1/branches/{branch.id}/manager", {"email": f"m{tag()}@shops.example"}


def _application(_w: World, _s: Session, who: str) -> tuple[str, Any]:
    body: dict[str, Any] = {"name": f"Cafe {tag()}", "country_code": "TT"}
    if who == "anonymous":
        body["owner"] = {"email": f"o{tag()}@shops.example", "password": "wine-n-grind"}
    elif who == "hq":
        body["owner_email"] = f"h{tag()}@shops.example"
    return "/api/v1/businesses", body


def _pending_business(action: str) -> Make:
    def make(_w: World, s: Session, _who: str) -> tuple[str, Any]:
        owner = accounts.create_user(s, username=f"pend_{tag()}", display_name="Pending")
        row = businesses.create(s, name="Pending Cafe", country_code="TT", owner_user_id=owner.id)
        return f"/api/v1/businesses/{row.id}/{action}", None

    return make


def _offer_body(w: World) -> dict[str, Any]:
    return {
        "branch_id": str(w.branch_id),
        "name": "Free doubles",
        "prize": "Doubles",
        "max_stamps": 6,
    }


_PUSH = {"device_time": "2026-02-14T21:05:00Z", "ops": []}


def _sign_up(_w: World, _s: Session, who: str) -> tuple[str, Any]:
    """A promoter application from an email of its own (one live application per email)."""
    return "/api/v1/promoters", {"name": "Kerry", "email": f"kerry.{who}.{tag()}@fetes.example"}


_EVENT = {"name": "New fête", "starts_at": "2026-03-01T21:00:00Z", "country_code": "TT"}


def _package_body(w: World) -> dict[str, Any]:
    return {"eventId": str(w.event_a_id), "name": "Early bird", "price": "8.00"}


def _reward_body(w: World) -> dict[str, Any]:
    return {
        "eventId": str(w.event_a_id),
        "name": "Spend 100",
        "triggerType": "MINIMUM_SPEND",
        "minimumSpend": "100.00",
        "rewardType": "RECHARGE",
        "rewardAmount": "5.00",
    }


#                                                     a h A B m d b p r B1B2
_APPLE_REG = "/api/wallet/apple/v1/devices/{device_id}/registrations/{pass_type}/{serial}"
_APPLE_REG_PATH = f"/api/wallet/apple/v1/devices/d1/registrations/{PASS_TYPE_ID}/{uuid.uuid4()}"
_APPLE_LIST = "/api/wallet/apple/v1/devices/{device_id}/registrations/{pass_type}"
_APPLE_LIST_PATH = f"/api/wallet/apple/v1/devices/d1/registrations/{PASS_TYPE_ID}"
_APPLE_PASS = "/api/wallet/apple/v1/passes/{pass_type}/{serial}"
_APPLE_PASS_PATH = f"/api/wallet/apple/v1/passes/{PASS_TYPE_ID}/{uuid.uuid4()}"

CASES = [
    Case("GET", "/health", "oooooooouoo", fixed("/health")),
    Case("GET", "/api/passport/landing-info", "oooooooouoo", fixed("/api/passport/landing-info")),
    Case(
        "GET",
        "/api/v1/passports/{user_id}",
        "uoonffffuff",
        fixed("/api/v1/passports/{w.attendee_id}"),
    ),
    Case(
        "POST",
        "/api/v1/auth/login",
        "oooooooouoo",
        fixed("/api/v1/auth/login", lambda w: {"email": w.promoter_a_email, "password": PASSWORD}),
    ),
    Case(
        "POST",
        "/api/v1/devices/pairing-codes",
        "uoonffffuff",
        fixed(
            "/api/v1/devices/pairing-codes",
            lambda w: {"role": "DOOR", "event_id": str(w.event_a_id)},
        ),
    ),
    Case("POST", "/api/v1/devices/pair", "oooooooouoo", _pairing),
    Case("GET", "/api/v1/devices", "uoffffffuff", fixed("/api/v1/devices")),
    Case("DELETE", "/api/v1/devices/{device_id}", "uoonffffuff", _fresh_device),
    Case("POST", "/api/v1/devices/{device_id}/roll-token", "uofffooouff", _roll),
    Case("GET", "/api/v1/sync/pull", "uffffooouff", fixed("/api/v1/sync/pull?limit=10")),
    Case("POST", "/api/v1/sync/push", "uffffooouff", fixed("/api/v1/sync/push", _PUSH)),
    Case(
        "GET", "/api/v1/sync/ops/{op_id}", "uoffffffuff", fixed(f"/api/v1/sync/ops/{uuid.uuid4()}")
    ),
    Case("GET", "/api/v1/sync/conflicts", "uoffffffuff", fixed("/api/v1/sync/conflicts")),
    # Venue hub routes: a HUB device's only (none of these callers is one); /info is public.
    Case("GET", "/api/v1/hub/pull", "ufffffffuff", fixed("/api/v1/hub/pull")),
    Case("POST", "/api/v1/hub/relay", "ufffffffuff", fixed("/api/v1/hub/relay", {"batches": []})),
    Case("GET", "/api/v1/hub/info", "oooooooouoo", fixed("/api/v1/hub/info")),
    Case("POST", "/api/v1/hub/held", "uffffooouff", fixed("/api/v1/hub/held", {"op_ids": []})),
    Case(
        "POST",
        "/api/branch-manager/confirm-prize/{customer_id}/{offer_id}",
        "uoffofofuff",
        _confirm,
    ),
    Case(
        "GET",
        "/api/v1/offers/{offer_id}/passes/{user_id}",
        "uoffofofuon",
        fixed("/api/v1/offers/{w.offer_id}/passes/{w.attendee_id}"),
    ),
    Case(
        "GET", "/api/v1/packages", "uoonffffuff", fixed("/api/v1/packages?eventId={w.event_a_id}")
    ),
    Case(
        "GET",
        "/api/v1/packages/{package_id}",
        "uoonffffuff",
        fixed("/api/v1/packages/{w.package_id}"),
    ),
    Case("POST", "/api/v1/packages", "uoonffffuff", fixed("/api/v1/packages", _package_body)),
    Case(
        "PUT",
        "/api/v1/packages/{package_id}",
        "uoonffffuff",
        fixed("/api/v1/packages/{w.package_id}", {"price": "9.50"}),
    ),
    Case("DELETE", "/api/v1/packages/{package_id}", "uoonffffuff", _fresh_package),
    Case("GET", "/api/v1/rewards", "uoonffffuff", fixed("/api/v1/rewards?eventId={w.event_a_id}")),
    Case(
        "GET", "/api/v1/rewards/{reward_id}", "uoonffffuff", fixed("/api/v1/rewards/{w.reward_id}")
    ),
    Case("POST", "/api/v1/rewards", "uoonffffuff", fixed("/api/v1/rewards", _reward_body)),
    Case(
        "PUT",
        "/api/v1/rewards/{reward_id}",
        "uoonffffuff",
        fixed("/api/v1/rewards/{w.reward_id}", {"status": "INACTIVE"}),
    ),
    Case("DELETE", "/api/v1/rewards/{reward_id}", "uoonffffuff", _fresh_reward),
    # Purchases (issue 18): any person buys for themselves; the event's promoter settles.
    Case("POST", "/api/v1/packages/{package_id}/purchases", "uoooofffuoo", _on_sale),
    Case("GET", "/api/v1/purchases", "uoooofffuoo", fixed("/api/v1/purchases")),
    Case(
        "GET",
        "/api/v1/events/{event_id}/purchases",
        "uoonffffuff",
        fixed("/api/v1/events/{w.event_a_id}/purchases"),
    ),
    Case("POST", "/api/v1/purchases/{purchase_id}/paid", "uoonffffuff", _pending_purchase),
    # Integrations: the promoter makes credentials; only a credential reaches the feed.
    Case(
        "POST",
        "/api/v1/events/{event_id}/integrations",
        "uoonffffuff",
        fixed("/api/v1/events/{w.event_a_id}/integrations", {"name": "Bar"}),
    ),
    Case("DELETE", "/api/v1/integrations/{integration_id}", "uoonffffuff", _fresh_integration),
    Case(
        "POST",
        "/api/v1/integrations/spend",
        "ufffffffuff",
        fixed("/api/v1/integrations/spend", {"transactions": [{"external_id": "x"}]}),
    ),
    Case(
        "GET",
        "/api/v1/integrations/redemptions",
        "ufffffffuff",
        fixed("/api/v1/integrations/redemptions?status=pending"),
    ),
    Case(
        "POST",
        "/api/v1/integrations/redemptions/{redemption_id}/applied",
        "ufffffffuff",
        fixed(f"/api/v1/integrations/redemptions/{uuid.uuid4()}/applied"),
    ),
    # A promoter's own account already has a live registration: signing up again is 409.
    Case("POST", "/api/v1/promoters", "ooccoooouoo", _sign_up),
    Case("GET", "/api/v1/promoters", "uoffffffuff", fixed("/api/v1/promoters")),
    Case(
        "POST",
        "/api/v1/promoters/{promoter_id}/approve",
        "uoffffffuff",
        _pending_promoter("approve"),
    ),
    Case(
        "POST", "/api/v1/promoters/{promoter_id}/reject", "uoffffffuff", _pending_promoter("reject")
    ),
    # Promoter B may create and list events too: its own.
    Case("POST", "/api/v1/events", "uoooffffuff", fixed("/api/v1/events", _EVENT)),
    Case("GET", "/api/v1/events", "uoooffffuff", fixed("/api/v1/events")),
    Case("GET", "/api/v1/events/{event_id}", "uoonffffuff", fixed("/api/v1/events/{w.event_a_id}")),
    Case(
        "POST",
        "/api/v1/events/{event_id}/enable-passport",
        "uoonffffuff",
        fixed("/api/v1/events/{w.event_a_id}/enable-passport"),
    ),
    Case(
        "GET",
        "/api/v1/events/{event_id}/billing",
        "uoonffffuff",
        fixed("/api/v1/events/{w.event_a_id}/billing"),
    ),
    Case(
        "POST",
        "/api/v1/billing/{billing_id}/status",
        "uoffffffuff",
        fixed("/api/v1/billing/{w.billing_a_id}/status", {"status": "WAIVED"}),
    ),
    Case(
        "POST",
        "/api/v1/events/{event_id}/tickets",
        "uoonffffuff",
        fixed("/api/v1/events/{w.event_a_id}/tickets", {"email": "matrix-buyer@example.com"}),
    ),
    Case(
        "POST",
        "/api/v1/tickets/{ticket_id}/revoke",
        "uoonffffuff",
        fixed("/api/v1/tickets/{w.ticket_id}/revoke"),
    ),
    Case("GET", "/api/v1/tiers", "uoffffffuff", fixed("/api/v1/tiers")),
    Case("PUT", "/api/v1/tiers", "uoffffffuff", _same_tiers),
    Case("GET", "/api/v1/memberships", "uoffffffuff", fixed("/api/v1/memberships")),
    Case(
        "POST",
        "/api/v1/memberships",
        "uoffffffuff",
        fixed("/api/v1/memberships", lambda w: {"user_id": str(w.attendee_id), "tier": "GOLD"}),
    ),
    Case(
        "POST", "/api/v1/memberships/{membership_id}/cancel", "uoffffffuff", _membership_to_cancel
    ),
    # Businesses (seed 002): B1 owns branch X and its offer; B2 is another business.
    Case("GET", "/api/v1/offers", "uoffofofuoo", fixed("/api/v1/offers")),
    Case("POST", "/api/v1/offers", "uoffffffuon", fixed("/api/v1/offers", _offer_body)),
    Case("GET", "/api/v1/offers/{offer_id}", "uoffofofuon", fixed("/api/v1/offers/{w.offer_id}")),
    Case(
        "PUT",
        "/api/v1/offers/{offer_id}",
        "uoffffffuon",
        fixed("/api/v1/offers/{w.offer_id}", {"prize": "Two punches"}),
    ),
    Case("GET", "/api/v1/branches", "uoffofffuoo", fixed("/api/v1/branches")),
    Case("POST", "/api/v1/branches", "uoffffffuoo", _branch_body),
    Case(
        "GET",
        "/api/v1/branches/{branch_id}",
        "uoffofffuon",
        fixed("/api/v1/branches/{w.branch_id}"),
    ),
    Case(
        "PUT",
        "/api/v1/branches/{branch_id}",
        "uoffffffuon",
        fixed("/api/v1/branches/{w.branch_id}", {"city": "San Fernando"}),
    ),
    Case("POST", "/api/v1/branches/{branch_id}/manager", "uoffffffuon", _fresh_branch_manager),
    # Signed-in people apply for themselves; a business already has one (409); devices may not.
    Case("POST", "/api/v1/businesses", "ooooofffucc", _application),
    Case("GET", "/api/v1/businesses", "uoffffffuff", fixed("/api/v1/businesses")),
    Case(
        "GET",
        "/api/v1/businesses/{business_id}",
        "uoffffffuon",
        fixed("/api/v1/businesses/{w.business_a_id}"),
    ),
    Case(
        "PUT",
        "/api/v1/businesses/{business_id}",
        "uoffffffuon",
        fixed("/api/v1/businesses/{w.business_a_id}", {"name": "Renamed Shop"}),
    ),
    Case(
        "POST",
        "/api/v1/businesses/{business_id}/approve",
        "uoffffffuff",
        _pending_business("approve"),
    ),
    Case(
        "POST",
        "/api/v1/businesses/{business_id}/reject",
        "uoffffffuff",
        _pending_business("reject"),
    ),
    Case("GET", "/api/v1/me", "uoooofffuoo", fixed("/api/v1/me")),
    Case("POST", "/api/v1/auth/logout", "uoooofffuoo", _logout),
    Case("POST", "/api/v1/users/{user_id}/revoke-tokens", "uoffffffuff", _fresh_user_tokens),
    Case(
        "POST",
        "/api/v1/promoters/{promoter_id}/suspend",
        "uoffffffuff",
        _approved_promoter("suspend"),
    ),
    Case(
        "POST",
        "/api/v1/promoters/{promoter_id}/reinstate",
        "uoffffffuff",
        _approved_promoter("reinstate", suspended=True),
    ),
    # Wallet passes: a person's own (devices are refused); Apple's web service answers to the
    # pass's own token only, never a bearer token. Google is not configured here (404).
    *(
        Case(
            "GET",
            f"/api/v1/wallet/{wallet}/{tail}",
            "unnnnfffunn",
            fixed(f"/api/v1/wallet/{wallet}/{path}"),
        )
        for wallet in ("apple", "google")
        for tail, path in (
            ("cards/{offer_id}", "cards/{w.offer_id}"),
            ("passport", "passport"),
            ("tickets/{ticket_id}", "tickets/{w.ticket_id}"),
        )
    ),
    Case("GET", "/api/wallet/logo.png", "oooooooouoo", fixed("/api/wallet/logo.png")),
    Case("POST", _APPLE_REG, "uuuuuuuuuuu", fixed(_APPLE_REG_PATH, {"pushToken": "ab" * 32})),
    Case("DELETE", _APPLE_REG, "uuuuuuuuuuu", fixed(_APPLE_REG_PATH)),
    Case("GET", _APPLE_LIST, "ooooooooooo", fixed(_APPLE_LIST_PATH)),
    Case("GET", _APPLE_PASS, "uuuuuuuuuuu", fixed(_APPLE_PASS_PATH)),
    Case(
        "POST",
        "/api/wallet/apple/v1/log",
        "ooooooooooo",
        fixed("/api/wallet/apple/v1/log", {"logs": ["x"]}),
    ),
]

#: What an attendee's token gets where it is not 403: public routes, its own account and
#: passport (the world's attendee is the passport's owner), and logging out.
ATTENDEE_EXPECT = {
    ("GET", "/health"): "o",
    ("GET", "/api/passport/landing-info"): "o",
    ("POST", "/api/v1/auth/login"): "o",
    ("POST", "/api/v1/devices/pair"): "o",
    ("GET", "/api/v1/hub/info"): "o",
    ("POST", "/api/v1/promoters"): "o",
    ("POST", "/api/v1/businesses"): "o",
    ("GET", "/api/v1/passports/{user_id}"): "o",
    ("GET", "/api/v1/me"): "o",
    ("POST", "/api/v1/auth/logout"): "o",
    ("GET", "/api/v1/wallet/apple/cards/{offer_id}"): "n",  # the attendee has no card there
    ("GET", "/api/v1/wallet/apple/passport"): "o",
    ("GET", "/api/v1/wallet/apple/tickets/{ticket_id}"): "n",  # the world's event is over
    ("GET", "/api/v1/wallet/google/cards/{offer_id}"): "n",  # Google is not configured
    ("GET", "/api/v1/wallet/google/passport"): "n",
    ("GET", "/api/v1/wallet/google/tickets/{ticket_id}"): "n",
    ("GET", "/api/wallet/logo.png"): "o",
    ("POST", _APPLE_REG): "u",
    ("DELETE", _APPLE_REG): "u",
    ("GET", _APPLE_LIST): "o",
    ("GET", _APPLE_PASS): "u",
    ("POST", "/api/wallet/apple/v1/log"): "o",
    ("POST", "/api/v1/packages/{package_id}/purchases"): "o",
    ("GET", "/api/v1/purchases"): "o",
}


@dataclass
class Env:
    """One engine's app, client, world and session factory, shared by the module."""

    client: Any
    world: World
    factory: sessionmaker[Session]


@pytest.fixture(scope="module", params=ENGINES)
def env(
    request: pytest.FixtureRequest,
    databases: _Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Env]:
    """The world is built once per engine: calls that consume objects get fresh ones."""
    engine = databases.engine(request.param)
    empty_tables(engine)
    factory = make_session_factory(engine)
    world = build_world(factory)
    # Every principal applies from the test client's one address: more than the hourly limit.
    apns = ApnsStandIn(
        Path("unused"), Path("unused"), Path("unused")
    )  # never started: no pushes here
    apple = apple_settings(make_cert_files(tmp_path_factory.mktemp("matrix-certs")), apns)
    app = make_app(engine, promoter_applications_per_address=1000, **apple)
    with TestClient(app) as client:
        yield Env(client=client, world=world, factory=factory)


@pytest.fixture(autouse=True)
def _put_swapped_tokens_back(env: Env) -> Iterator[None]:
    yield
    env.world.tokens.update(env.world.spare_tokens)
    env.world.spare_tokens.clear()


@pytest.fixture(autouse=True)
def fake_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins for the sync services (their own tests live with them)."""

    def fake_pull(*_args: Any, **_kwargs: Any) -> str:
        return PullResponse(
            cursor=None, more=False, server_time=datetime.now(UTC)
        ).model_dump_json()

    def fake_push(*_args: Any, **_kwargs: Any) -> PushResponse:
        return PushResponse(server_time=datetime.now(UTC), results=[])

    monkeypatch.setattr(pull, "pull_json", fake_pull)
    monkeypatch.setattr(push, "push", fake_push)
    monkeypatch.setattr(views, "get_op", lambda *_a, **_k: {"op_id": "x"})
    monkeypatch.setattr(views, "list_conflicts", lambda *_a, **_k: [])
    monkeypatch.setattr(views, "device_report", lambda *_a, **_k: [])


def _class_of(status: int) -> str | int:
    return "2xx" if 200 <= status < 300 else status


def test_every_route_is_in_the_matrix(env: Env) -> None:
    app = env.client.app
    served = {(method, route.path) for route in api_routes(app) for method in route.methods}
    assert served
    covered = {(case.method, case.route) for case in CASES}
    assert served - covered == set(), "routes missing from the matrix"
    assert covered - served == set(), "matrix rows for routes that do not exist"
    assert all(len(case.expect) == len(PRINCIPALS) for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.method} {case.route}")
def test_route_answers_each_principal_as_expected(case: Case, env: Env) -> None:
    world = env.world
    wrong = []
    for who, letter in zip(PRINCIPALS, case.expect, strict=True):
        with unit_of_work(env.factory) as session:
            path, body = case.make(world, session, who)
        response = env.client.request(case.method, path, json=body, headers=world.auth(who))
        expected = CLASSES[letter]
        if _class_of(response.status_code) != expected:
            wrong.append(f"{who}: expected {expected}, got {response.status_code} {response.text}")
        elif letter != "o":
            assert set(response.json()) == {"error"}, response.text
        elif path.endswith("/roll-token") and who in world.device_ids:
            world.tokens[who] = response.json()["token"]  # the old token is dead now
    assert wrong == [], "\n".join(wrong)


def test_an_attendee_token_reaches_only_public_routes_and_its_own_data(env: Env) -> None:
    world = env.world
    wrong = []
    for case in CASES:
        with unit_of_work(env.factory) as session:
            path, body = case.make(world, session, "attendee")
        response = env.client.request(case.method, path, json=body, headers=world.auth("attendee"))
        world.tokens.update(world.spare_tokens)  # after a logout, the world's token again
        expected = CLASSES[ATTENDEE_EXPECT.get((case.method, case.route), "f")]
        if _class_of(response.status_code) != expected:
            wrong.append(f"{case.method} {case.route}: expected {expected}, got {response.text}")
    assert wrong == [], "\n".join(wrong)
