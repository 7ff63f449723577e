"""A small world for wallet tests: an attendee with a passport, a stamp card and a ticket,
a branch device that syncs, and the app served over real HTTP with Apple Wallet configured."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.wire import DeviceRole, DeviceScope
from server.db.models import Branch, Offer
from server.db.models.enums import UserRole
from server.db.session import unit_of_work
from server.domain import accounts, branches, cards, events, offers, passport, tickets
from tests.server.api.conftest import make_app
from tests.server.api.world import _user, business, pair_device
from tests.server.wallet.apns_standin import ApnsStandIn
from tests.server.wallet.certs import PASS_TYPE_ID, TEAM_ID, CertFiles

START = datetime.now(UTC) - timedelta(days=3)


@dataclass(frozen=True)
class WalletWorld:
    """Ids and tokens."""

    user_id: uuid.UUID
    token: str
    passport_qr: str
    offer_id: uuid.UUID
    card_id: uuid.UUID
    ticket_id: uuid.UUID
    ticket_qr: str
    branch_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def fill_card(
    session: Session, offer: Offer, user_id: uuid.UUID, *, completions: int, stamps: int
) -> None:
    """Give the user's card `completions` prizes, then `stamps` stamps, all in the past."""
    moment = START
    for _ in range(completions):
        for _ in range(offer.max_stamps):
            moment += timedelta(minutes=1)
            cards.add_stamp(session, offer_id=offer.id, user_id=user_id, occurred_at=moment)
        moment += timedelta(minutes=1)
        cards.confirm_prize(session, offer_id=offer.id, user_id=user_id, occurred_at=moment)
    for _ in range(stamps):
        moment += timedelta(minutes=1)
        cards.add_stamp(session, offer_id=offer.id, user_id=user_id, occurred_at=moment)


def build_wallet_world(
    factory: sessionmaker[Session], *, completions: int = 7, stamps: int = 5
) -> WalletWorld:
    """Commit the world: a full card at 7 completions by default (a claim makes "0 of 5", "8x")."""
    with unit_of_work(factory) as session:
        user = _user(session, UserRole.ATTENDEE)
        profile = passport.get_or_create_profile(session, user_id=user.id)
        _owner, shop = business(session)
        branch: Branch = branches.create(session, business_id=shop.id, name="Rum Shop")
        offer = offers.create(
            session, branch_id=branch.id, name="Rum Punch Club", prize="Free punch"
        )
        fill_card(session, offer, user.id, completions=completions, stamps=stamps)
        card = cards.get_pass(session, offer_id=offer.id, user_id=user.id)
        assert card is not None
        event = events.create_event(
            session,
            name="Soca Brainwash",
            starts_at=datetime.now(UTC) + timedelta(days=10),
            venue="Queen's Park",
            city="Port of Spain",
            country_code="TT",
        )
        ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
        _device, branch_token = pair_device(
            session, DeviceRole.BRANCH, DeviceScope(branch_id=branch.id)
        )
        assert profile.qr_token is not None
        return WalletWorld(
            user_id=user.id,
            token=accounts.issue_api_token(session, user_id=user.id),
            passport_qr=profile.qr_token,
            offer_id=offer.id,
            card_id=card.id,
            ticket_id=ticket.id,
            ticket_qr=ticket.qr_token,
            branch_token=branch_token,
        )


def apple_settings(files: CertFiles, apns: ApnsStandIn) -> dict[str, Any]:
    """Settings that turn Apple Wallet on, pushing to the stand-in."""
    return {
        "apple_pass_type_id": PASS_TYPE_ID,
        "apple_team_id": TEAM_ID,
        "apple_cert_file": str(files.cert),
        "apple_key_file": str(files.key),
        "apple_wwdr_file": str(files.wwdr),
        "apns_url": apns.url,
        "apns_ca_file": str(files.ca),
        "secret_key": "wallet-test-secret",
    }


def wallet_app(engine: Engine, files: CertFiles, apns: ApnsStandIn, **extra: Any) -> FastAPI:
    """The app with Apple Wallet configured."""
    return make_app(engine, **apple_settings(files, apns), **extra)


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app behind uvicorn on a free port, in a thread: real HTTP; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def claim_op(world: WalletWorld, *, seq: int = 1) -> dict[str, Any]:
    """A kiosk's `pass.claim` of the world's full card, as pushed."""
    now = datetime.now(UTC).isoformat()
    return {
        "device_time": now,
        "ops": [
            {
                "op_id": str(uuid.uuid4()),
                "seq": seq,
                "type": "pass.claim",
                "occurred_at": now,
                "device_clock": now,
                "payload": {"qr": world.passport_qr, "offer_id": str(world.offer_id)},
            }
        ],
    }


def stamp_op(world: WalletWorld, *, seq: int = 1) -> dict[str, Any]:
    """A kiosk's `pass.stamp` of the world's card."""
    body = claim_op(world, seq=seq)
    body["ops"][0]["type"] = "pass.stamp"
    return body
