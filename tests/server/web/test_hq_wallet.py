"""HQ's devices page lists wallet pass updates that could not be delivered yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import PassUpdate, WalletPass
from server.db.session import unit_of_work
from server.domain import cards
from tests.server.web.conftest import login
from tests.server.web.world import WebWorld


def test_failing_wallet_deliveries_show_on_the_devices_page(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["hq"])
    assert 'id="no-wallet-failures"' in client.get("/hq/devices").text
    now = datetime.now(UTC)
    with unit_of_work(factory) as session:
        card = cards.get_pass(session, offer_id=world.offer_id, user_id=world.customer_id)
        assert card is not None
        issued = WalletPass(
            kind="card",
            subject_id=card.id,
            user_id=world.customer_id,
            auth_salt="0" * 32,
            auth_token_hash="0" * 64,
            updated_at=now,
        )
        session.add(issued)
        session.flush()
        session.add(
            PassUpdate(
                wallet_pass_id=issued.id,
                reason="prize",
                notify=True,
                attempts=3,
                last_error="APNs push failed: connection refused",
                next_attempt_at=now + timedelta(seconds=8),
            )
        )
    page = client.get("/hq/devices").text
    assert "APNs push failed: connection refused" in page
    assert 'id="no-wallet-failures"' not in page
