"""What every browser test shares: Debian's Chromium and its flags, the two widths, and a
real `soca-server serve` over a SQLite file holding the web world."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import ViewportSize
from sqlalchemy.orm import Session, sessionmaker

from server.db import migrate
from server.db.session import make_engine, make_session_factory
from server.devtools import ServerProcess
from tests.server.web.world import WebWorld, build_web_world

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass
class Served:
    """A running server over the web world, and where its screenshots go."""

    base: str
    world: WebWorld
    shots: Path


def shots_folder(folder: Path) -> Path:
    """SOCA_WEB_SCREENSHOTS when set (the README's pictures), else a folder of the test's."""
    shots = Path(os.environ.get("SOCA_WEB_SCREENSHOTS") or folder / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    return shots


@contextmanager
def served_world(
    folder: Path, extra: Callable[[sessionmaker[Session], WebWorld], None] | None = None
) -> Iterator[Served]:
    """Migrate a SQLite file in `folder`, build the web world (and `extra` rows), serve it."""
    url = f"sqlite:///{folder / 'site.sqlite3'}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        world = build_web_world(factory)
        if extra is not None:
            extra(factory, world)
    finally:
        engine.dispose()
    server = ServerProcess(url)
    server.start()
    try:
        yield Served(server.base_url, world, shots_folder(folder))
    finally:
        server.stop()
