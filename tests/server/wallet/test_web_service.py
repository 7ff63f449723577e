"""Apple's PassKit web service played over real HTTP exactly as an iPhone plays it.

Download the pass, register the phone, ask what changed, fetch the latest
pass (304 when current), unregister, log; and end to end: a kiosk's synced
`pass.claim` reaches the phone as an APNs push (HTTP/2 stand-in), the changed
serial is listed since the old tag, and the new pass reads "0 of 5" and "8x".
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import PassUpdate
from server.db.session import make_session_factory, unit_of_work
from server.wallet.worker import WalletWorker
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import empty_tables
from tests.server.wallet.apns_standin import ApnsStandIn
from tests.server.wallet.certs import PASS_TYPE_ID, CertFiles
from tests.server.wallet.world import WalletWorld, build_wallet_world, claim_op, served, wallet_app

DEVICE = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
PUSH_TOKEN = "f" * 64


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[Engine]:
    found = databases.engine(request.param)
    empty_tables(found)
    yield found
    empty_tables(found)


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def apns(cert_files: CertFiles) -> Iterator[ApnsStandIn]:
    server = ApnsStandIn(
        cert_files.ca, cert_files.server_cert, cert_files.server_key, cert_files.wwdr
    ).start()
    yield server
    server.stop()


@pytest.fixture
def world(factory: sessionmaker[Session]) -> WalletWorld:
    return build_wallet_world(factory)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def shown(files: dict[str, bytes]) -> dict[str, str]:
    """Each secondary field's English value, as the phone shows it."""
    strings = {}
    for line in files["en.lproj/pass.strings"].decode("utf-16").splitlines():
        key, _, value = line.partition('" = "')
        strings[key.lstrip('"')] = value.rstrip('";')
    body = json.loads(files["pass.json"])
    return {field["key"]: strings[field["value"]] for field in body["storeCard"]["secondaryFields"]}


class Phone:
    """An iPhone's Wallet: it knows one pass and talks to the pass's web service."""

    def __init__(self, client: httpx.Client, pass_json: dict[str, Any]) -> None:
        self.client = client
        self.service = pass_json["webServiceURL"]
        self.serial = pass_json["serialNumber"]
        self.auth = {"Authorization": f"ApplePass {pass_json['authenticationToken']}"}
        self.registration = (
            f"{self.service}/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{self.serial}"
        )

    def register(self, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(
            self.registration,
            json={"pushToken": PUSH_TOKEN},
            headers=self.auth if headers is None else headers,
        )

    def changed_since(self, tag: str | None) -> httpx.Response:
        params = {"passesUpdatedSince": tag} if tag else {}
        return self.client.get(
            f"{self.service}/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}", params=params
        )

    def latest(self, modified: str | None = None) -> httpx.Response:
        headers = dict(self.auth)
        if modified:
            headers["If-Modified-Since"] = modified
        return self.client.get(
            f"{self.service}/v1/passes/{PASS_TYPE_ID}/{self.serial}", headers=headers
        )


def download(client: httpx.Client, base: str, world: WalletWorld) -> dict[str, bytes]:
    answer = client.get(f"{base}/api/v1/wallet/apple/cards/{world.offer_id}", headers=world.auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vnd.apple.pkpass"
    return unzip(answer.content)


def test_the_phone_protocol_status_codes(
    engine: Engine, world: WalletWorld, cert_files: CertFiles, apns: ApnsStandIn
) -> None:
    with (
        served(wallet_app(engine, cert_files, apns, public_url="")) as base,
        httpx.Client(timeout=10) as client,
    ):
        files = download(client, base, world)
        pass_json = json.loads(files["pass.json"])
        assert pass_json["webServiceURL"] == f"{base}/api/wallet/apple"
        phone = Phone(client, pass_json)
        assert (
            phone.register({"Authorization": "ApplePass wrong-token-wrong-token"}).status_code
            == 401
        )
        assert phone.register({}).status_code == 401
        assert phone.register().status_code == 201
        assert phone.register().status_code == 200  # idempotent
        listed = phone.changed_since(None)
        assert listed.status_code == 200
        assert listed.json()["serialNumbers"] == [phone.serial]
        tag = listed.json()["lastUpdated"]
        assert isinstance(tag, str)
        assert phone.changed_since(tag).status_code == 204
        latest = phone.latest()
        assert latest.status_code == 200 and "last-modified" in latest.headers
        assert phone.latest(latest.headers["last-modified"]).status_code == 304
        assert shown(unzip(latest.content)) == {
            "progress": "5 of 5",
            "completed": "7x",
            "tier": "🥇 Gold Member",
        }
        other_type = client.get(
            f"{phone.service}/v1/passes/pass.someone.else/{phone.serial}", headers=phone.auth
        )
        assert other_type.status_code == 404
        assert (
            client.get(
                f"{phone.service}/v1/passes/{PASS_TYPE_ID}/not-a-serial", headers=phone.auth
            ).status_code
            == 401
        )
        assert (
            client.post(f"{phone.service}/v1/log", json={"logs": ["Invalid pass"]}).status_code
            == 200
        )
        assert phone.changed_since("not-a-tag").status_code == 422
        assert client.delete(phone.registration, headers=phone.auth).status_code == 200
        assert phone.changed_since(None).status_code == 204


def test_a_synced_prize_claim_reaches_the_phone(
    engine: Engine,
    factory: sessionmaker[Session],
    world: WalletWorld,
    cert_files: CertFiles,
    apns: ApnsStandIn,
) -> None:
    app = wallet_app(engine, cert_files, apns)
    worker = WalletWorker(app.state.session_factory, app.state.wallets, poll=0.2)
    worker.start()
    try:
        with served(app) as base, httpx.Client(timeout=10) as client:
            phone = Phone(client, json.loads(download(client, base, world)["pass.json"]))
            assert phone.register().status_code == 201
            tag = phone.changed_since(None).json()["lastUpdated"]
            before = phone.latest()
            pushed = client.post(
                f"{base}/api/v1/sync/push",
                json=claim_op(world),
                headers={"Authorization": f"Bearer {world.branch_token}"},
            )
            assert (
                pushed.status_code == 200 and pushed.json()["results"][0]["status"] == "applied"
            ), pushed.text
            [push] = apns.wait_for(1)
            assert push.token == PUSH_TOKEN and push.headers["apns-topic"] == PASS_TYPE_ID
            changed = phone.changed_since(tag)
            assert changed.status_code == 200 and changed.json()["serialNumbers"] == [phone.serial]
            assert int(changed.json()["lastUpdated"]) > int(tag)
            after = phone.latest(before.headers["last-modified"])
            assert after.status_code == 200
            assert shown(unzip(after.content)) == {
                "progress": "0 of 5",
                "completed": "8x",
                "tier": "🥇 Gold Member",
            }
    finally:
        worker.stop()
    with unit_of_work(factory) as session:
        updates = list(session.scalars(select(PassUpdate)))
    assert [(u.reason, u.notify, u.sent_at is not None) for u in updates] == [("prize", True, True)]


def test_passport_and_ticket_passes_download_with_an_api_token(
    engine: Engine, world: WalletWorld, cert_files: CertFiles, apns: ApnsStandIn
) -> None:
    with served(wallet_app(engine, cert_files, apns)) as base, httpx.Client(timeout=10) as client:
        got = client.get(f"{base}/api/v1/wallet/apple/passport", headers=world.auth)
        assert got.status_code == 200, got.text
        body = json.loads(unzip(got.content)["pass.json"])
        assert "generic" in body and body["barcodes"][0]["message"] == world.passport_qr
        again = client.get(f"{base}/api/v1/wallet/apple/passport", headers=world.auth)
        same = json.loads(unzip(again.content)["pass.json"])
        assert (same["serialNumber"], same["authenticationToken"]) == (
            body["serialNumber"],
            body["authenticationToken"],
        )  # one pass per passport, its token stable across downloads
        ticket = client.get(
            f"{base}/api/v1/wallet/apple/tickets/{world.ticket_id}", headers=world.auth
        )
        assert (
            json.loads(unzip(ticket.content)["pass.json"])["barcodes"][0]["message"]
            == world.ticket_qr
        )
        assert (
            client.get(
                f"{base}/api/v1/wallet/apple/tickets/not-an-id", headers=world.auth
            ).status_code
            == 404
        )
        assert client.get(f"{base}/api/v1/wallet/apple/passport").status_code == 401
