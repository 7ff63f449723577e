"""HQ's venue hubs in Debian's Chromium at 390 px and 1280 px: the hub, its door, its last relay.

Set SOCA_WEB_SCREENSHOTS=DIR to keep the pictures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session, sessionmaker

from core.wire import DeviceRole, DeviceScope
from server.db.models import Device
from server.db.session import unit_of_work
from server.domain import devices
from server.hub import relay
from server.hub.wire import RelayBatch, RelayRequest
from server.settings import ServerSettings
from tests.server.web.browser import DESKTOP, PHONE, served_world
from tests.server.web.world import PASSWORD, WebWorld

NOW = datetime(2026, 2, 14, 22, 0, tzinfo=UTC)


def _a_hub_that_relayed(factory: sessionmaker[Session], world: WebWorld) -> None:
    """A hub of event A that relayed (an empty batch) for Gate 1's door."""
    with unit_of_work(factory) as session:
        code = devices.create_pairing_code(
            session, role=DeviceRole.HUB, scope=DeviceScope(event_id=world.event_a_id), now=NOW
        )
        hub = devices.pair(session, code=code.code, name="Queen's Park hub", now=NOW).device
        door_id = world.door_id
    with unit_of_work(factory) as session:
        found = session.get(Device, hub.id)
        assert found is not None
        batch = RelayBatch(device_id=door_id, device_time=NOW, ops=[])
        relay.relay(
            session,
            hub=found,
            request=RelayRequest(batches=[batch]),
            now=NOW,
            settings=ServerSettings(database_url="sqlite://"),
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WebWorld, Path]]:
    """The web world with a hub that relayed for Gate 1, served by a real server process."""
    with served_world(tmp_path_factory.mktemp("hq_hubs"), _a_hub_that_relayed) as served:
        yield served.base, served.world, served.shots


def test_hq_sees_the_hub_its_door_and_its_last_relay_at_both_widths(
    chromium: Browser, site: tuple[str, WebWorld, Path]
) -> None:
    base, world, shots = site
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(f"{base}/login?next=/hq/devices")
        page.fill("#email", world.emails["hq"])
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/hq/devices")
        hubs = page.locator("#hubs")
        expect(hubs).to_contain_text("Queen's Park hub")
        expect(hubs).to_contain_text("Gate 1")
        expect(hubs.locator("time").first).to_have_attribute(
            "datetime", "2026-02-14T22:00:00+00:00"
        )
        for width, name in ((PHONE, "hq-hubs"), (DESKTOP, "hq-hubs-desktop")):
            page.set_viewport_size(width)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the page scrolls sideways at {width['width']} px"
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    finally:
        context.close()
