"""Google Wallet against a local stand-in: the token request, classes and objects, the save
JWT's claims, and PATCHes on change that notify only for prizes and tier changes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import make_session_factory, unit_of_work
from server.domain import cards
from server.wallet.google import jwt
from server.wallet.google.client import SAVE_URL
from server.wallet.worker import WalletWorker
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import empty_tables, make_app
from tests.server.wallet.google_standin import GoogleStandIn
from tests.server.wallet.world import WalletWorld, build_wallet_world

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ISSUER = "3388000000022222222"
SITE = "https://passport.example"


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[Engine]:
    found = databases.engine(request.param)
    empty_tables(found)
    yield found
    empty_tables(found)


@pytest.fixture
def google() -> Iterator[GoogleStandIn]:
    server = GoogleStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def app(engine: Engine, google: GoogleStandIn, tmp_path: Path) -> Iterator[FastAPI]:
    built = make_app(
        engine,
        google_issuer_id=ISSUER,
        google_service_account_file=str(google.service_account_file(tmp_path)),
        google_wallet_url=google.api_url,
        public_url=SITE,
    )
    yield built
    built.state.wallets.close()


@pytest.fixture
def world(engine: Engine) -> WalletWorld:
    return build_wallet_world(make_session_factory(engine), completions=7, stamps=3)


def save(client: TestClient, world: WalletWorld, path: str) -> str:
    answer = client.get(f"/api/v1/wallet/google/{path}", headers=world.auth)
    assert answer.status_code == 200, answer.text
    url = answer.json()["save_url"]
    assert url.startswith(SAVE_URL)
    return str(url.removeprefix(SAVE_URL))


def test_save_link_holds_only_the_object_id_of_an_object_made_first(
    app: FastAPI, world: WalletWorld, google: GoogleStandIn
) -> None:
    with TestClient(app) as client:
        token = save(client, world, f"cards/{world.offer_id}")
    claims = jwt.decode(token, google.key.public_key())
    assert (claims["iss"], claims["aud"], claims["typ"], claims["origins"]) == (
        google.email,
        "google",
        "savetowallet",
        [SITE],
    )
    [held] = claims["payload"]["loyaltyObjects"]
    assert list(held) == ["id"] and held["id"].startswith(ISSUER + ".")
    [token_request] = google.of("POST", "/token")
    assert token_request.status == 200 and token_request.body["scope"].endswith(
        "wallet_object.issuer"
    )
    made = google.stored[f"loyaltyObject/{held['id']}"]
    assert made["classId"] == f"{ISSUER}.offer_{world.offer_id.hex}"
    assert f"loyaltyClass/{made['classId']}" in google.stored
    assert made["loyaltyPoints"]["balance"] == {"int": 7}  # total completions (seed 002)
    modules = {m["header"]: m["body"] for m in made["textModulesData"]}
    assert modules["Member Status"] == "🥇 Gold Member" and modules["Stamps"] == "3 of 5"
    assert modules["Progress"] == "●●●○○" and modules["Next Tier"] == "Top tier"
    arabic = next(m for m in made["textModulesData"] if m["id"] == "tier")["localizedBody"][
        "translatedValues"
    ]
    assert arabic == [{"language": "ar", "value": "🥇 عضو ذهبي"}]
    assert made["barcode"] == {"type": "QR_CODE", "value": world.passport_qr}


def test_a_browser_is_sent_to_the_save_link_and_tickets_carry_the_door_qr(
    app: FastAPI, world: WalletWorld, google: GoogleStandIn
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        answer = client.get(
            f"/api/v1/wallet/google/tickets/{world.ticket_id}",
            headers={**world.auth, "Accept": "text/html"},
        )
    assert answer.status_code == 303 and answer.headers["location"].startswith(SAVE_URL)
    [ticket] = [body for key, body in google.stored.items() if key.startswith("eventTicketObject/")]
    assert ticket["barcode"]["value"] == world.ticket_qr and ticket["state"] == "ACTIVE"


def test_changes_patch_the_object_and_only_a_prize_notifies(
    app: FastAPI, world: WalletWorld, google: GoogleStandIn, engine: Engine
) -> None:
    factory: sessionmaker[Session] = make_session_factory(engine)
    with TestClient(app) as client:
        save(client, world, f"cards/{world.offer_id}")
    worker = WalletWorker(factory, app.state.wallets)
    with unit_of_work(factory) as session:
        cards.add_stamp(
            session, offer_id=world.offer_id, user_id=world.user_id, occurred_at=datetime.now(UTC)
        )
    assert worker.run_once() == 1
    with unit_of_work(factory) as session:
        cards.add_stamp(
            session, offer_id=world.offer_id, user_id=world.user_id, occurred_at=datetime.now(UTC)
        )
        cards.confirm_prize(
            session, offer_id=world.offer_id, user_id=world.user_id, occurred_at=datetime.now(UTC)
        )
    assert worker.run_once() == 1
    stamp, prize = google.of("PATCH")
    assert stamp.status == prize.status == 200
    assert "notifyPreference" not in stamp.body
    assert prize.body["notifyPreference"] == "notifyOnUpdate"
    assert prize.body["loyaltyPoints"]["balance"] == {"int": 8}
    assert len(google.of("POST", "/token")) == 1  # the token is reused


def test_with_google_not_configured_its_routes_are_404(engine: Engine, world: WalletWorld) -> None:
    with TestClient(make_app(engine)) as client:
        assert (
            client.get(
                f"/api/v1/wallet/google/cards/{world.offer_id}", headers=world.auth
            ).status_code
            == 404
        )
        assert client.get("/api/v1/wallet/apple/passport", headers=world.auth).status_code == 404
        assert client.get("/api/v1/wallet/apple/passport").status_code == 401
