"""The wallet outbox: queued with the change, never for a rolled-back one, sent after commit,
retried with backoff when APNs fails, a 410 forgetting the phone, and a restart losing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import stamina
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import (
    Event,
    PassportProfile,
    PassUpdate,
    Ticket,
    WalletPass,
    WalletRegistration,
)
from server.db.session import make_session_factory, unit_of_work
from server.domain import cards, offers, tickets, wallet, wallet_devices, wallet_queue
from server.settings import ServerSettings
from server.wallet.content import PassKind
from server.wallet.runtime import Wallets, load_wallets
from server.wallet.worker import WalletWorker
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import empty_tables
from tests.server.wallet.apns_standin import ApnsStandIn
from tests.server.wallet.certs import CertFiles
from tests.server.wallet.world import (
    WalletWorld,
    apple_settings,
    build_wallet_world,
    served,
    stamp_op,
    wallet_app,
)

SECRET = "wallet-test-secret"
TOKEN = "e" * 64


_OPENED: list[Wallets] = []


def closing(wallets: Wallets) -> Wallets:
    """Wallets closed when the test ends (their APNs connection)."""
    _OPENED.append(wallets)
    return wallets


@pytest.fixture(autouse=True)
def _close_wallets() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


@pytest.fixture(autouse=True)
def _quick_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=1):
        yield


@pytest.fixture(params=ENGINES)
def factory(
    request: pytest.FixtureRequest, databases: _Databases
) -> Iterator[sessionmaker[Session]]:
    engine: Engine = databases.engine(request.param)
    empty_tables(engine)
    yield make_session_factory(engine)
    empty_tables(engine)


@pytest.fixture
def apns(cert_files: CertFiles) -> Iterator[ApnsStandIn]:
    server = ApnsStandIn(
        cert_files.ca, cert_files.server_cert, cert_files.server_key, cert_files.wwdr
    ).start()
    yield server
    server.stop()


@pytest.fixture
def world(factory: sessionmaker[Session]) -> WalletWorld:
    return build_wallet_world(factory, completions=1, stamps=2)


def card_pass(
    factory: sessionmaker[Session], world: WalletWorld, *, phone: bool = True
) -> WalletPass:
    with unit_of_work(factory) as session:
        issued, _token = wallet.issue(
            session,
            kind=PassKind.CARD,
            subject_id=world.card_id,
            user_id=world.user_id,
            secret=SECRET,
        )
        if phone:
            wallet_devices.register(
                session, device_id="device-1", wallet_pass=issued, push_token=TOKEN
            )
        return issued


def updates(factory: sessionmaker[Session]) -> list[PassUpdate]:
    with unit_of_work(factory) as session:
        return list(session.scalars(select(PassUpdate).order_by(PassUpdate.created_at)))


def tag_of(factory: sessionmaker[Session], pass_id: object) -> int:
    with unit_of_work(factory) as session:
        found = session.get(WalletPass, pass_id)
        assert found is not None
        return found.tag


def stamp(session: Session, world: WalletWorld) -> None:
    cards.add_stamp(
        session, offer_id=world.offer_id, user_id=world.user_id, occurred_at=datetime.now(UTC)
    )


def test_a_stamp_queues_one_update_and_raises_the_tag_in_its_transaction(
    factory: sessionmaker[Session], world: WalletWorld
) -> None:
    issued = card_pass(factory, world)
    before = tag_of(factory, issued.id)
    with unit_of_work(factory) as session:
        stamp(session, world)
    [update] = updates(factory)
    assert (update.wallet_pass_id, update.reason, update.notify, update.sent_at) == (
        issued.id,
        "stamp",
        False,
        None,
    )
    assert tag_of(factory, issued.id) > before


def test_a_rolled_back_stamp_queues_nothing(
    factory: sessionmaker[Session], world: WalletWorld
) -> None:
    issued = card_pass(factory, world)
    before = tag_of(factory, issued.id)

    def failed_request() -> None:
        with unit_of_work(factory) as session:
            stamp(session, world)
            session.flush()
            raise RuntimeError("the request failed after the stamp")

    with pytest.raises(RuntimeError):
        failed_request()
    assert updates(factory) == []
    assert tag_of(factory, issued.id) == before


def test_a_card_nobody_took_into_a_wallet_queues_nothing(
    factory: sessionmaker[Session], world: WalletWorld
) -> None:
    with unit_of_work(factory) as session:
        stamp(session, world)
    assert updates(factory) == []


def test_prize_expiry_revocation_and_passport_tier_are_queued_with_their_reasons(
    factory: sessionmaker[Session], world: WalletWorld
) -> None:
    card_pass(factory, world)
    with unit_of_work(factory) as session:
        ticket_pass, _ = wallet.issue(
            session,
            kind=PassKind.TICKET,
            subject_id=world.ticket_id,
            user_id=world.user_id,
            secret=SECRET,
        )
        passport_pass, _ = wallet.issue(
            session,
            kind=PassKind.PASSPORT,
            subject_id=world.user_id,
            user_id=world.user_id,
            secret=SECRET,
        )
    with unit_of_work(factory) as session:
        for _ in range(3):
            stamp(session, world)
        cards.confirm_prize(
            session, offer_id=world.offer_id, user_id=world.user_id, occurred_at=datetime.now(UTC)
        )
    with unit_of_work(factory) as session:
        cards.expire_inactive_passes(
            session, now=datetime.now(UTC) + timedelta(days=400), inactivity_days=90
        )
    with unit_of_work(factory) as session:
        tickets.revoke_ticket(session, ticket_id=world.ticket_id, now=datetime.now(UTC))
    with unit_of_work(factory) as session:
        profile = session.scalar(
            select(PassportProfile).where(PassportProfile.user_id == world.user_id)
        )
        assert profile is not None
        profile.current_tier = "SILVER"
    found = [(u.reason, u.notify) for u in updates(factory)]
    assert found == [("prize", True), ("expired", False), ("revoked", False), ("tier", True)]
    with unit_of_work(factory) as session:
        voided = wallet.content_of(session, session.get(WalletPass, ticket_pass.id))  # type: ignore[arg-type]
        assert voided.voided and voided.barcode is None
        assert (
            wallet.content_of(session, session.get(WalletPass, passport_pass.id))
            .secondary[0]
            .value.en
            == "Silver"
        )  # type: ignore[arg-type]


def test_apns_failure_is_recorded_and_retried_after_a_backoff(
    factory: sessionmaker[Session], world: WalletWorld, cert_files: CertFiles, apns: ApnsStandIn
) -> None:
    card_pass(factory, world)
    with unit_of_work(factory) as session:
        stamp(session, world)
    down = ServerSettings(
        database_url="sqlite://",
        **{**apple_settings(cert_files, apns), "apns_url": "https://127.0.0.1:9"},
    )
    now = datetime.now(UTC)
    failing_worker = WalletWorker(factory, closing(load_wallets(down, now=now)), clock=lambda: now)
    assert failing_worker.run_once() == 1
    [update] = updates(factory)
    assert update.attempts == 1 and update.sent_at is None and "APNs" in (update.last_error or "")
    assert update.next_attempt_at == now + wallet_queue.backoff(1)
    with unit_of_work(factory) as session:
        assert [f.reason for f in wallet_queue.failing(session)] == ["stamp"]
    assert failing_worker.run_once() == 0  # not due yet
    later = now + timedelta(seconds=3)
    up = ServerSettings(database_url="sqlite://", **apple_settings(cert_files, apns))
    assert (
        WalletWorker(factory, closing(load_wallets(up, now=later)), clock=lambda: later).run_once()
        == 1
    )
    assert [p.token for p in apns.wait_for(1)] == [TOKEN]
    [update] = updates(factory)
    assert update.attempts == 2 and update.sent_at is not None


def test_a_410_from_apns_forgets_the_phone(
    factory: sessionmaker[Session], world: WalletWorld, cert_files: CertFiles, apns: ApnsStandIn
) -> None:
    issued = card_pass(factory, world)
    apns.gone.add(TOKEN)
    with unit_of_work(factory) as session:
        stamp(session, world)
    settings = ServerSettings(database_url="sqlite://", **apple_settings(cert_files, apns))
    assert (
        WalletWorker(factory, closing(load_wallets(settings, now=datetime.now(UTC)))).run_once()
        == 1
    )
    with unit_of_work(factory) as session:
        assert (
            session.scalars(
                select(WalletRegistration).where(WalletRegistration.wallet_pass_id == issued.id)
            ).all()
            == []
        )
    assert updates(factory)[0].sent_at is not None


def test_a_restart_between_commit_and_push_still_pushes_once(
    factory: sessionmaker[Session], world: WalletWorld, cert_files: CertFiles, apns: ApnsStandIn
) -> None:
    engine = factory.kw["bind"]
    card_pass(factory, world)
    first = wallet_app(
        engine, cert_files, apns
    )  # serves without its worker: it "dies" before pushing
    with served(first) as base, httpx.Client(timeout=10) as client:
        pushed = client.post(
            f"{base}/api/v1/sync/push",
            json=stamp_op(world),
            headers={"Authorization": f"Bearer {world.branch_token}"},
        )
        assert pushed.json()["results"][0]["status"] == "applied", pushed.text
    first.state.wallets.close()
    assert apns.pushes == [] and [u.sent_at for u in updates(factory)] == [None]
    restarted = wallet_app(engine, cert_files, apns)
    worker = WalletWorker(restarted.state.session_factory, restarted.state.wallets, poll=0.1)
    worker.start()
    try:
        assert len(apns.wait_for(1)) == 1
    finally:
        worker.stop()
    assert WalletWorker(restarted.state.session_factory, restarted.state.wallets).run_once() == 0
    restarted.state.wallets.close()
    assert len(apns.pushes) == 1 and updates(factory)[0].sent_at is not None
    assert json.loads(apns.pushes[0].body) == {}


def test_an_offers_new_tiers_name_and_an_events_new_time_reach_the_passes(
    factory: sessionmaker[Session], world: WalletWorld
) -> None:
    card_pass(factory, world)
    with unit_of_work(factory) as session:
        wallet.issue(
            session,
            kind=PassKind.TICKET,
            subject_id=world.ticket_id,
            user_id=world.user_id,
            secret=SECRET,
        )
    tiers = {
        "enabled": True,
        "tiers": [
            {
                "id": "fan",
                "name": "Fan",
                "nameAr": "معجب",
                "minRewards": 1,
                "maxRewards": None,
                "icon": "🎉",
                "color": "#FF0000",
            }
        ],
    }
    with unit_of_work(factory) as session:
        offers.update(
            session,
            offer_id=world.offer_id,
            loyalty_tiers=tiers,
            now=datetime.now(UTC),
            inactivity_days=90,
        )
    with unit_of_work(factory) as session:
        offers.update(
            session,
            offer_id=world.offer_id,
            prize="Two free punches",
            now=datetime.now(UTC),
            inactivity_days=90,
        )
    with unit_of_work(factory) as session:
        ticket = session.get(Ticket, world.ticket_id)
        assert ticket is not None
        event = session.get(Event, ticket.event_id)
        assert event is not None
        event.starts_at += timedelta(hours=2)
    assert [(u.reason, u.notify) for u in updates(factory)] == [
        ("tier", True),
        ("changed", False),
        ("changed", False),
    ]
    with unit_of_work(factory) as session:
        found = session.scalar(select(WalletPass).where(WalletPass.kind == "card"))
        assert found is not None
        content = wallet.content_of(session, found)
    assert content.secondary[2].value.en == "🎉 Fan"
    assert content.back[1].value.en == "Two free punches"


def test_delivered_updates_are_forgotten_after_a_week(
    factory: sessionmaker[Session], world: WalletWorld
) -> None:
    card_pass(factory, world, phone=False)
    with unit_of_work(factory) as session:
        stamp(session, world)
    now = datetime.now(UTC)
    worker = WalletWorker(
        factory,
        closing(load_wallets(ServerSettings(database_url="sqlite://"), now=now)),
        clock=lambda: now,
    )
    assert worker.run_once() == 1
    assert updates(factory)[0].sent_at == now
    later = now + wallet_queue.KEEP_SENT + timedelta(hours=2)
    WalletWorker(factory, worker.wallets, clock=lambda: later).run_once()
    assert updates(factory) == []
