"""`soca-kiosk demo`: an embedded demo server, a paired door kiosk and a simulated camera.

The server is the other program, so it is only ever *run* from here, as a
subprocess (`soca-server seed-demo`, then `soca-server serve`), and reached
over HTTP like any real server; nothing in the kiosk imports it. The steps:

1. seed a fresh SQLite file with `seed-demo` (which writes the demo JSON);
2. serve it on a free port and wait for `/health`;
3. ask for a DOOR pairing code with the demo's admin token, pair, sync;
4. scan: the window (or `--headless`) runs the real Scanner on a camera, or,
   when there is no webcam, on `DemoCameraSource`, which shows each demo
   attendee's ticket QR for a moment, then an empty scene, one after another.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from kiosk.errors import CameraNotFound, KioskError
from kiosk.scanner.sources import Frame
from kiosk.scanner.synth import Condition, render_blank, render_frame
from kiosk.settings import KioskSettings

_SERVER = ("-c", "from server.cli import main; main()")  # our own interpreter, the server's CLI
GARBAGE_CODE = "https://menu.example.com/bar-specials"  # a stranger's QR: not a ticket


class DemoError(KioskError):
    """The demo could not start: the message says which step failed."""

    code = "demo_failed"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_command(*args: str) -> list[str]:
    return [sys.executable, *_SERVER, *args]


def seed_world(folder: Path) -> tuple[str, dict[str, Any]]:
    """Seed a fresh SQLite demo database in `folder`; (database URL, demo JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "demo-server.sqlite3"
    out = folder / "demo.json"
    for stale in (database, out):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    result = subprocess.run(  # noqa: S603 (our own interpreter and the server's CLI)
        _server_command("seed-demo", "--out", str(out), "--database-url", url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise DemoError(f"seeding the demo world failed: {result.stderr.strip()[-500:]}")
    return url, dict(json.loads(out.read_text(encoding="utf-8")))


class EmbeddedServer:
    """`soca-server serve` on a free local port, as a child process."""

    def __init__(self, database_url: str, *, port: int | None = None, log: Path | None = None):
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start serving and wait until `/health` answers; DemoError if it does not."""
        env = {**os.environ, "SOCA_DATABASE_URL": self.database_url}
        output = self._log.open("ab") if self._log is not None else subprocess.DEVNULL
        try:
            self._process = subprocess.Popen(  # noqa: S603
                _server_command("serve", "--port", str(self.port)),
                env=env,
                stdout=output,
                stderr=output,
            )
        finally:
            if not isinstance(output, int):
                output.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DemoError(f"soca-server serve exited with status {self._process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise DemoError(f"soca-server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s)."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def door_pairing_code(server_url: str, admin_token: str, event_id: str) -> str:
    """A one-time DOOR pairing code for `event_id`, asked for with the admin token."""
    response = httpx.post(
        f"{server_url}/api/v1/devices/pairing-codes",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={"role": "DOOR", "event_id": event_id},
        timeout=30,
    )
    if response.status_code != 201:
        raise DemoError(f"asking for a pairing code failed: {response.status_code} {response.text}")
    return str(response.json()["code"])


def tonight_codes(world: dict[str, Any]) -> list[str]:
    """The ticket QR texts of tonight's event (the demo's first), one per attendee, in order."""
    event_id = str(world["events"][0]["id"])
    return [
        str(ticket["qr"])
        for attendee in world["attendees"]
        for ticket in attendee["tickets"]
        if str(ticket["event_id"]) == event_id
    ]


def demo_sequence(world: dict[str, Any]) -> list[str]:
    """What the simulated camera shows: every ticket, one re-entry and a stranger's QR."""
    codes = tonight_codes(world)
    return [*codes, codes[0], GARBAGE_CODE] if codes else [GARBAGE_CODE]


@dataclass(frozen=True, slots=True)
class _Shot:
    frame: Frame
    seconds: float


class DemoCameraSource:
    """A `FrameSource` that shows each code for `hold_s`, then an empty scene for `gap_s`.

    Frames are drawn once with `kiosk.scanner.synth` (a phone held up in a
    room) and delivered at `fps`, on a fixed timetable as a camera keeps it,
    as fresh copies, so the capture and decode threads see what a webcam would
    give them. With `loop=True` the sequence
    starts again at the end (the window); otherwise the source is exhausted
    after the last gap (`--headless`).
    """

    def __init__(
        self,
        codes: Sequence[str],
        *,
        hold_s: float = 2.0,
        gap_s: float = 1.0,
        fps: float = 30.0,
        loop: bool = True,
        width: int = 960,
        height: int = 540,
    ) -> None:
        self._codes = list(codes)
        self._hold_s = hold_s
        self._gap_s = gap_s
        self._interval = 1 / fps
        self._loop = loop
        self._width = width
        self._height = height
        self._shots: list[_Shot] = []
        self._index = 0
        self._shot_started = 0.0
        self._next_due = 0.0
        self._exhausted = False
        self._opened = False

    @property
    def name(self) -> str:
        """A short description."""
        return f"simulated camera ({len(self._codes)} codes)"

    @property
    def exhausted(self) -> bool:
        """True once a non-looping sequence has ended."""
        return self._exhausted

    def open(self) -> None:
        """Draw the frames (once) and start at the first code."""
        if not self._shots:
            blank = render_blank(width=self._width, height=self._height, seed=7)
            for number, code in enumerate(self._codes):
                image = render_frame(
                    Condition.CLEAN, [code], width=self._width, height=self._height, seed=number
                ).image
                self._shots.append(_Shot(image, self._hold_s))
                self._shots.append(_Shot(blank, self._gap_s))
        if not self._shots:
            raise CameraNotFound("the simulated camera has no codes to show")
        self._opened = True
        self._index = 0
        self._exhausted = False
        self._shot_started = time.monotonic()
        self._next_due = self._shot_started

    def read(self) -> Frame | None:
        """The current shot's frame at the next tick, or None at the end of a finite sequence."""
        if not self._opened or self._exhausted:
            return None
        now = time.monotonic()
        if now < self._next_due:
            time.sleep(self._next_due - now)
        # Due one interval after the last frame's due time, not after this wake-up: the
        # time spent sleeping late and copying does not slow the camera down.
        self._next_due = max(self._next_due, now) + self._interval
        now = time.monotonic()
        while now - self._shot_started >= self._shots[self._index].seconds:
            self._shot_started += self._shots[self._index].seconds
            self._index += 1
            if self._index == len(self._shots):
                if not self._loop:
                    self._exhausted = True
                    return None
                self._index = 0
        return np.array(self._shots[self._index].frame, copy=True)

    def close(self) -> None:
        """Nothing to release."""
        self._opened = False


@dataclass
class DemoSetup:
    """A running embedded server and a door kiosk paired to it and synced."""

    server: EmbeddedServer
    settings: KioskSettings
    world: dict[str, Any]
    folder: Path

    @property
    def codes(self) -> list[str]:
        """What the simulated camera shows."""
        return demo_sequence(self.world)


def start_demo(
    folder: Path,
    *,
    gate: str = "Gate 1",
    port: int | None = None,
    sync_interval_s: float = 5.0,
    say: Callable[[str], None] = lambda _line: None,
) -> DemoSetup:
    """Seed, serve, pair a door kiosk (data in `folder/kiosk`), sync; stop the server on error."""
    from kiosk.app import pair_device, sync_once
    from kiosk.settings import load_settings

    say(f"seeding the demo world in {folder}")
    database_url, world = seed_world(folder)
    server = EmbeddedServer(database_url, port=port, log=folder / "server.log")
    say("starting the embedded server")
    server.start()
    try:
        settings = load_settings(
            data_dir=folder / "kiosk", gate=gate, sync_interval_s=sync_interval_s
        )
        code = door_pairing_code(
            server.url, str(world["admin_token"]), str(world["events"][0]["id"])
        )
        pair_device(settings, server_url=server.url, code=code, name=f"Demo door ({gate})")
        report = sync_once(settings)
        if not report.ok:
            raise DemoError(f"the first sync failed: {report.error}")
        say(f"paired a door kiosk with {server.url}; downloaded {report.rows} row(s)")
    except BaseException:
        server.stop()
        raise
    return DemoSetup(server=server, settings=settings, world=world, folder=folder)


def run_headless(
    setup: DemoSetup,
    *,
    write: Callable[[str], None],
    hold_s: float = 0.5,
    gap_s: float = 0.3,
) -> dict[str, Any]:
    """Scan the demo sequence through the real Scanner without a window; one JSON line per op.

    Returns (and writes, last) the summary: verdicts by colour, and the sync
    results once everything was pushed.
    """
    from PySide6.QtCore import QCoreApplication, QTimer

    from kiosk.app import open_kiosk, sync_once
    from kiosk.scanner.validator import ScanValidator
    from kiosk.scanner.worker import Scanner

    app = QCoreApplication.instance() or QCoreApplication([])
    colours: Counter[str] = Counter()
    problems: list[str] = []
    kiosk = open_kiosk(setup.settings)
    source = DemoCameraSource(setup.codes, hold_s=hold_s, gap_s=gap_s, loop=False)
    scanner = Scanner(source, validator=ScanValidator(suppress_seconds=min(5.0, hold_s * 4)))
    door = kiosk.require_door()

    def on_code(code: str) -> None:
        verdict = door.scan(code)
        colours[verdict.colour.value] += 1
        line = {**verdict.line(), "headline": verdict.headline, "handle": verdict.handle}
        write(json.dumps(line, ensure_ascii=False))

    scanner.code_accepted.connect(on_code)
    scanner.error_occurred.connect(problems.append)
    scanner.finished.connect(app.quit)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(app.quit)
    watchdog.start(int((hold_s + gap_s) * len(setup.codes) * 1000) + 60_000)
    try:
        scanner.start()
        app.exec()
    finally:
        watchdog.stop()
        scanner.stop(timeout=2.0)
        kiosk.close()
    report = sync_once(setup.settings)
    summary = {
        "summary": {
            "scans": sum(colours.values()),
            "green": colours["green"],
            "amber": colours["amber"],
            "red": colours["red"],
            "pushed": report.pushed,
            "results": dict(report.results),
            "pending": report.pending,
            "sync_error": report.error,
            "scanner_errors": problems,
            "server": setup.server.url,
        }
    }
    write(json.dumps(summary, ensure_ascii=False))
    return summary
