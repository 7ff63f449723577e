"""Door-screen test setup: Qt offscreen, one real seeded server per module, fresh paired kiosks."""

from __future__ import annotations

import os

# Before anything imports Qt: the tests create windows on machines without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.app import open_synchronizer, pair_device
from kiosk.settings import KioskSettings, load_settings
from tests.kiosk.live import LiveServer, live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`soca-server serve` on a seeded SQLite file, shared by a module's tests."""
    with live_server("sqlite", tmp_path_factory.mktemp("server")) as server:
        yield server


class Attendees:
    """Hands out demo attendees no other test of the module has scanned yet."""

    def __init__(self, world: dict[str, Any]) -> None:
        self._left = list(world["attendees"])

    def take(self) -> dict[str, Any]:
        """A fresh attendee: `ticket_qr` is their ticket for tonight."""
        attendee = dict(self._left.pop(0))
        attendee["ticket_qr"] = attendee["tickets"][0]["qr"]
        return attendee


@pytest.fixture(scope="module")
def attendees(live: LiveServer) -> Attendees:
    """The module's pool of unscanned attendees."""
    return Attendees(live.world)


@pytest.fixture
def door_settings(live: LiveServer, tmp_path: Path) -> KioskSettings:
    """A door kiosk paired with the live server for tonight's event and synced once."""
    settings = load_settings(data_dir=tmp_path / "door", gate="Gate 2", sync_interval_s=30.0)
    pair_device(settings, server_url=live.url, code=live.pairing_code(event_id=live.event_id))
    synchronizer = open_synchronizer(settings)
    try:
        assert synchronizer.sync_once().ok
    finally:
        synchronizer.close()
    return settings
