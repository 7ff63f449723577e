"""HQ's venue hubs in Debian's Chromium at 390 px and 1280 px: the hub, its door, its last relay.

Set SOCA_WEB_SCREENSHOTS=DIR to keep the pictures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ViewportSize, expect, sync_playwright

from core.wire import DeviceRole, DeviceScope
from server.db import migrate
from server.db.models import Device
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.devtools import ServerProcess
from server.domain import devices
from server.hub import relay
from server.hub.wire import RelayBatch, RelayRequest
from server.settings import ServerSettings
from tests.server.web.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.server.web.world import PASSWORD, WebWorld, build_web_world

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
NOW = datetime(2026, 2, 14, 22, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WebWorld, Path]]:
    """The web world with a hub that relayed for Gate 1, served by a real server process."""
    folder = tmp_path_factory.mktemp("hq_hubs")
    url = f"sqlite:///{folder / 'site.sqlite3'}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        world = build_web_world(factory)
        with unit_of_work(factory) as session:
            code = devices.create_pairing_code(
                session, role=DeviceRole.HUB, scope=DeviceScope(event_id=world.event_a_id), now=NOW
            )
            hub = devices.pair(session, code=code.code, name="Queen's Park hub", now=NOW).device
        with unit_of_work(factory) as session:
            found = session.get(Device, hub.id)
            assert found is not None
            batch = RelayBatch(device_id=world.door_id, device_time=NOW, ops=[])
            relay.relay(
                session,
                hub=found,
                request=RelayRequest(batches=[batch]),
                now=NOW,
                settings=ServerSettings(database_url=url),
            )
    finally:
        engine.dispose()
    shots = Path(os.environ.get("SOCA_WEB_SCREENSHOTS") or folder / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(url)
    server.start()
    try:
        yield server.base_url, world, shots
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
