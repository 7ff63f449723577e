"""HQ's devices page lists the venue hubs, the doors behind each, and when each last relayed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from core.wire import DeviceRole, DeviceScope
from server.db.models import Device
from server.db.session import unit_of_work
from server.domain import devices
from server.hub import relay
from server.hub.wire import RelayBatch, RelayRequest
from server.settings import ServerSettings
from tests.server.web.conftest import login
from tests.server.web.world import WebWorld

NOW = datetime(2026, 2, 14, 22, 0, tzinfo=UTC)


def test_devices_page_shows_hubs_the_doors_behind_them_and_the_last_relay(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["hq"])
    assert "Venue hubs" not in client.get("/hq/devices").text  # none paired yet
    with unit_of_work(factory) as session:
        code = devices.create_pairing_code(
            session, role=DeviceRole.HUB, scope=DeviceScope(event_id=world.event_a_id), now=NOW
        )
        hub = devices.pair(session, code=code.code, name="Savannah hub", now=NOW).device
        hub_id = hub.id
    page = client.get("/hq/devices").text
    assert "Savannah hub" in page and "never" in page and "none yet" in page

    with unit_of_work(factory) as session:
        found = session.get(Device, hub_id)
        assert found is not None
        batch = RelayBatch(device_id=world.door_id, device_time=NOW, ops=[])
        relay.relay(
            session,
            hub=found,
            request=RelayRequest(batches=[batch]),
            now=NOW,
            settings=ServerSettings(database_url="sqlite://"),
        )
    row = client.get("/hq/devices").text.split(f'id="hub-{hub_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Gate 1" in row and "2026-02-14T22:00:00+00:00" in row and "none yet" not in row
