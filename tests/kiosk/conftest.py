"""Kiosk fixtures: a signed world, and kiosks paired for it whose caches hold it (no server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from core.clock import FixedClock
from core.wire import DeviceRole
from kiosk.app import Kiosk, open_kiosk
from tests.kiosk.world import NOW, World, install, make_world

# No kiosk under test (in process or as a command) looks for a venue hub by multicast:
# tests name the hub they use, and the machine's network is not the venue's.
os.environ.setdefault("SOCA_KIOSK_DISCOVER_HUB", "0")


@pytest.fixture(autouse=True, scope="session")
def _the_qapplication_first(qapp: QApplication) -> QApplication:
    """pytest-qt's QApplication, made before any kiosk test runs.

    The command-line and headless kiosks make a QCoreApplication when none
    exists; a widget test that came after one in the same process (in any
    order, or on any xdist worker) would find that and no QApplication.
    """
    return qapp


@pytest.fixture
def world() -> World:
    """Eight ticket holders for a passport-enabled event, an offer, two purchases."""
    return make_world()


@pytest.fixture
def clock() -> FixedClock:
    """The kiosk's raw clock, an hour into the event."""
    return FixedClock(NOW + timedelta(hours=1))


@pytest.fixture
def door(tmp_path: Path, world: World, clock: FixedClock) -> Iterator[Kiosk]:
    """A door kiosk for the world's event, its cache filled from one pull page."""
    settings, _ = install(tmp_path / "door", world, role=DeviceRole.DOOR)
    with open_kiosk(settings, clock=clock) as kiosk:
        yield kiosk


@pytest.fixture
def branch(tmp_path: Path, world: World, clock: FixedClock) -> Iterator[Kiosk]:
    """A branch (prize) kiosk for the world's offer."""
    settings, _ = install(tmp_path / "branch", world, role=DeviceRole.BRANCH)
    with open_kiosk(settings, clock=clock) as kiosk:
        yield kiosk
