"""Screenshots of every kiosk screen for the README, against a real server and real scans.

    xvfb-run -a uv run --frozen python scripts/screenshots.py

Seeds the demo world into a fresh SQLite file and runs `soca-server serve`
exactly as `soca-kiosk demo` does (`kiosk.demo`), pairs real kiosks with
pairing codes, and drives each screen the way people do: a door kiosk with
its clock set to tonight's opening hour scans a queue and pushes, a PROMOTER
kiosk pulls it (the arrivals chart); the door window is searched by hand,
reads a ticket from a simulated camera (green), gets it again from a
keyboard-wedge burst (amber) and a stranger's QR (red); the prize screen
reads a pass from the camera and its buttons are clicked; the setup screen
pairs by a typed code; and the door runs once more in Arabic. Every shot is
`window.grab()` at 1280x800 once the screen has settled, written to
`docs/screenshots/`.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from core.clock import FixedClock
from kiosk.app import open_kiosk, pair_device, sync_once
from kiosk.demo import GARBAGE_CODE, EmbeddedServer, seed_world
from kiosk.errors import CameraNotFound
from kiosk.scanner.sources import Frame
from kiosk.scanner.synth import Condition, render_blank, render_frame
from kiosk.scanner.worker import Scanner
from kiosk.services.verdict import Colour
from kiosk.settings import KioskSettings, Language, load_settings
from kiosk.store.config import load_config
from kiosk.ui.attendance import PromoterReviewWindow
from kiosk.ui.door import DoorWindow
from kiosk.ui.i18n import set_language
from kiosk.ui.prize import PrizeWindow
from kiosk.ui.review import ReviewWindow
from kiosk.ui.setup import SetupWindow
from kiosk.ui.sounds import Sounds

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SIZE = (1280, 800)
WAIT_S = 45.0
SETTLE_MS = 600

# The queue at tonight's door, scanned by a kiosk whose clock says so:
# (attendee index, minutes after the event's hour). Attendee 2 comes back later
# (a re-entry); attendees 0 and 1 are kept for the door window and the prize screen.
QUEUE = (
    (2, 3),
    (3, 9),
    (4, 16),
    (5, 19),
    (6, 23),
    (7, 27),
    (8, 33),
    (9, 41),
    (11, 47),
    (10, 52),
    (2, 64),
)
REVOKED = 11  # revoked after that door synced: admitted offline, refused by the server
MIAMI = ((2, 12), (3, 14), (4, 31), (5, 40))  # a second event: superfans across events


class SimulatedCamera:
    """A simulated camera (a `FrameSource`) at 30 fps: an empty room until a phone is shown.

    `hold_up(code)` puts a phone showing `code` in the picture (drawn by
    `kiosk.scanner.synth`, as the demo's camera does); `put_away()` empties it.
    """

    name = "simulated camera"
    exhausted = False

    def __init__(self) -> None:
        self._empty = render_blank(width=960, height=540, seed=7)
        self._frame = self._empty
        self._lock = threading.Lock()
        self._due = 0.0

    def hold_up(self, code: str) -> None:
        """Show `code` to the camera."""
        frame = render_frame(Condition.CLEAN, [code], width=960, height=540, seed=7).image
        with self._lock:
            self._frame = frame

    def put_away(self) -> None:
        """Back to the empty room."""
        with self._lock:
            self._frame = self._empty

    def open(self) -> None:
        """Start the frame clock."""
        self._due = time.monotonic()

    def read(self) -> Frame | None:
        """A fresh copy of what is in front of the camera, at the next tick."""
        now = time.monotonic()
        if now < self._due:
            time.sleep(self._due - now)
        self._due = max(self._due, now) + 1 / 30
        with self._lock:
            return self._frame.copy()

    def close(self) -> None:
        """Nothing to release."""


# --------------------------------------------------------------------------- Qt helpers


def wait_until(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    """Run the event loop until `condition()` is true; RuntimeError naming `what` if it is not."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.02)


def settle(ms: int = SETTLE_MS) -> None:
    """Let queued signals, layouts and repaints happen."""
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)


def show(window: QWidget) -> None:
    """Show `window` at the screenshot size and wait until it is on screen."""
    window.resize(*SIZE)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    settle()


def shoot(window: QWidget, name: str) -> None:
    """Save `window.grab()` as docs/screenshots/<name>.png, after the screen settled."""
    settle()
    if (window.width(), window.height()) != SIZE:
        raise RuntimeError(f"{name}: the window is {window.width()}x{window.height()}")
    path = OUT / f"{name}.png"
    if not window.grab().save(str(path)):
        raise RuntimeError(f"could not write {path}")
    print(f"wrote {path.relative_to(ROOT)}")


def click(widget: QWidget) -> None:
    """A left click in the middle of `widget`."""
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def wedge(window: DoorWindow, code: str) -> None:
    """Type `code` and Enter as a keyboard-wedge scanner does: fast, into what has focus."""
    window.search_box.setFocus()
    QTest.keyClicks(window.search_box, code)
    QTest.keyClick(window.search_box, Qt.Key.Key_Return)


def press_and_wait(window: PrizeWindow, button: QWidget, what: str) -> None:
    """Click `button`, then wait until the prize screen answered (its sound was asked for)."""
    before = len(window.sounds.requested)
    click(button)
    wait_until(lambda: len(window.sounds.requested) > before, what)


def wait_verdict(window: DoorWindow, colour: Colour, count: int) -> None:
    """Wait for the `count`-th verdict of the window and check it is `colour`."""
    wait_until(lambda: len(window.sounds.requested) >= count, f"{colour.value} verdict")
    shown = window.card.shown_verdict
    if shown is None or shown.colour is not colour:
        raise RuntimeError(f"expected a {colour.value} card, got {shown}")


# --------------------------------------------------------------------------- the world


class World:
    """The running demo server, its seed JSON and HQ calls with the admin token."""

    def __init__(self, server: EmbeddedServer, seed: dict[str, Any], folder: Path) -> None:
        self.server = server
        self.seed = seed
        self.folder = folder
        self.attendees: list[dict[str, Any]] = list(seed["attendees"])
        self.tonight: dict[str, Any] = seed["events"][0]
        self.miami: dict[str, Any] = seed["events"][1]

    def hq(self, method: str, path: str, body: dict[str, str] | None = None) -> dict[str, Any]:
        """An HQ call; its JSON answer (RuntimeError unless it succeeded)."""
        response = httpx.request(
            method,
            f"{self.server.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.seed['admin_token']}"},
            json=body,
            timeout=30,
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return dict(response.json())

    def code(self, **scope: str) -> str:
        """A one-time pairing code for `scope` (role and event, branch or promoter)."""
        return str(self.hq("POST", "/devices/pairing-codes", scope)["code"])

    def kiosk(self, name: str, gate: str, **scope: str) -> KioskSettings:
        """A kiosk with its own data folder, paired for `scope` and synced once."""
        settings = load_settings(data_dir=self.folder / name, gate=gate, sync_interval_s=30.0)
        pair_device(settings, server_url=self.server.url, code=self.code(**scope), name=name)
        sync(settings)
        return settings


def sync(settings: KioskSettings) -> None:
    """One sync cycle (push, then pull); RuntimeError if it failed."""
    report = sync_once(settings)
    if not report.ok:
        raise RuntimeError(f"sync failed: {report.error}")


def event_hour(event: dict[str, Any]) -> datetime:
    """The hour the event starts, in UTC."""
    starts = datetime.fromisoformat(str(event["starts_at"])).astimezone(UTC)
    return starts.replace(minute=0, second=0, microsecond=0)


def scan_queue(
    settings: KioskSettings, hour: datetime, queue: tuple[tuple[int, int], ...], qr: list[str]
) -> None:
    """Scan `queue` with the door kiosk's clock at `hour` + minutes, then push."""
    clock = FixedClock(hour)
    with open_kiosk(settings, clock=clock) as kiosk:
        kiosk.outbox.set_clock(timedelta(0), measured_at=hour)
        door = kiosk.require_door()
        for index, minutes in queue:
            clock.set(hour + timedelta(minutes=minutes))
            door.scan(qr[index])
    sync(settings)


def door_history(world: World) -> KioskSettings:
    """Tonight's Gate 2 queue (one ticket revoked behind its back) and a Miami door; Gate 2."""
    gate2 = world.kiosk("gate-2", "Gate 2", role="DOOR", event_id=world.tonight["id"])
    world.hq("POST", f"/tickets/{world.attendees[REVOKED]['tickets'][0]['ticket_id']}/revoke")
    tonight_qr = [str(a["tickets"][0]["qr"]) for a in world.attendees]
    scan_queue(gate2, event_hour(world.tonight), QUEUE, tonight_qr)
    miami_qr = [""] * len(world.attendees)
    for index, _minutes in MIAMI:
        ticket = world.hq(
            "POST",
            f"/events/{world.miami['id']}/tickets",
            {
                "email": str(world.attendees[index]["email"]),
                "holder_name": str(world.attendees[index]["display_name"]),
            },
        )
        miami_qr[index] = str(ticket["qr"])
    north = world.kiosk("north", "North", role="DOOR", event_id=world.miami["id"])
    scan_queue(north, event_hour(world.miami), MIAMI, miami_qr)
    return gate2


# --------------------------------------------------------------------------- the screens


def promoter_screens(world: World, gate2: KioskSettings) -> None:
    """The promoter's attendance tab (chart, totals, tables) and a door's sync review."""
    promoter = world.kiosk(
        "promoter", "Office", role="PROMOTER", promoter_id=str(world.seed["promoter"]["id"])
    )
    window = PromoterReviewWindow(promoter)
    show(window)
    window.start()
    try:
        wait_until(lambda: window.review is not None, "the attendance review")
        wait_until(lambda: sum(window.attendance.chart.counts()) > 0, "bars in the chart")
        shoot(window, "promoter-review")
    finally:
        window.close()

    review = ReviewWindow(gate2)
    show(review)
    review.start()
    try:
        wait_until(lambda: review.problems.count() >= 1, "the refused scan in the review")
        shoot(review, "review-sync")
    finally:
        review.close()


def door_screens(world: World) -> None:
    """Door: a search, green from the camera, idle, amber and red from the wedge."""
    gate1 = world.kiosk("gate-1", "Gate 1", role="DOOR", event_id=world.tonight["id"])
    ticket = str(world.attendees[0]["tickets"][0]["qr"])
    camera = SimulatedCamera()
    window = DoorWindow(
        gate1, None, scanner=Scanner(camera), sounds=Sounds(audible=False), clear_after_ms=600_000
    )
    show(window)
    window.start()
    try:
        wait_until(lambda: window.snapshot is not None, "the door's counters")
        wait_until(lambda: window.scanner_state == "running", "the camera")
        window.search_box.setFocus()
        QTest.keyClicks(window.search_box, "b", delay=80)  # typed by hand, not a wedge burst
        wait_until(lambda: window.results.count() >= 2, "search results")
        shoot(window, "door-search")
        QTest.keyClick(window.search_box, Qt.Key.Key_Backspace, delay=80)
        wait_until(lambda: window.results.count() == 0, "an empty search")

        camera.hold_up(ticket)
        wait_verdict(window, Colour.GREEN, 1)
        camera.put_away()
        wait_until(lambda: window.device_count.text() == "1", "the device counter")
        shoot(window, "door-green")

        click(window.card)  # a tap clears the card
        wait_until(
            lambda: window.snapshot is not None and window.snapshot.status.pending == 0,
            "the scan to be pushed",
        )
        shoot(window, "door-idle")

        wedge(window, ticket)
        wait_verdict(window, Colour.AMBER, 2)
        shoot(window, "door-amber")

        wedge(window, GARBAGE_CODE)
        wait_verdict(window, Colour.RED, 3)
        shoot(window, "door-red")
    finally:
        window.close()


def arabic_door(world: World) -> None:
    """The door screen in Arabic: right to left, a search with the camera on, then a re-entry."""
    set_language(Language.ARABIC)
    try:
        gate3 = world.kiosk("gate-3", "Gate 3", role="DOOR", event_id=world.tonight["id"])
        window = DoorWindow(
            gate3, None, scanner=Scanner(SimulatedCamera()), sounds=Sounds(audible=False)
        )
        show(window)
        window.start()
        try:
            wait_until(lambda: window.snapshot is not None, "the door's counters")
            wait_until(lambda: window.scanner_state == "running", "the camera")
            window.search_box.setFocus()
            QTest.keyClicks(window.search_box, "b", delay=80)
            wait_until(lambda: window.results.count() >= 2, "search results")
            shoot(window, "door-arabic")

            wedge(window, str(world.attendees[3]["tickets"][0]["qr"]))  # in at Gate 2 already
            wait_verdict(window, Colour.AMBER, 1)
            shoot(window, "door-arabic-amber")
        finally:
            window.close()
    finally:
        set_language(Language.ENGLISH)


def prize_screens(world: World) -> None:
    """Prize: a card read by the camera, one stamp to full, the confirm step, the tier-up,
    a double tap ("Add another stamp?", with Undo offered) and the cardholder search."""
    branch_id = str(world.seed["offers"][0]["branch_id"])
    bar = world.kiosk("bar", "Bar", role="BRANCH", branch_id=branch_id)
    customer = world.attendees[1]  # 4 stamps of 5, no prize yet
    camera = SimulatedCamera()
    window = PrizeWindow(bar, scanner=Scanner(camera), sounds=Sounds(audible=False))
    show(window)
    window.start()
    try:
        wait_until(lambda: window.scanner is not None and window.scanner.running, "the camera")
        camera.hold_up(str(customer["passport_qr"]))
        wait_until(lambda: window.verdict is not None, "the customer's card")
        camera.put_away()
        card = window.verdict.card if window.verdict is not None else None
        if card is None or card.full:
            raise RuntimeError(f"expected a card that is not full, got {window.verdict}")
        shoot(window, "prize-card")

        while window.add_stamp.isEnabled():
            press_and_wait(window, window.add_stamp, "a stamp")
        click(window.confirm)
        wait_until(window.confirm_bar.isVisible, "the confirmation step")
        shoot(window, "prize-confirm")

        click(window.yes)
        wait_until(window.celebration.isVisible, "the tier-up banner")
        shoot(window, "prize-tier-up")

        regular = world.attendees[2]  # 3 stamps of 5: tapped twice in a row
        camera.hold_up(str(regular["passport_qr"]))
        wait_until(lambda: window.code == regular["passport_qr"], "the next customer")
        camera.put_away()
        press_and_wait(window, window.add_stamp, "a stamp")
        press_and_wait(window, window.add_stamp, "the double-tap question")
        shoot(window, "prize-another-stamp")
        click(window.cancel)

        window.search.box.setText(str(world.attendees[3]["display_name"]).split()[0][:4])
        wait_until(lambda: window.search.results.count() > 0, "the cardholders found")
        shoot(window, "prize-search")
    finally:
        window.close()


class UnpluggedCamera(SimulatedCamera):
    """A webcam that is not there until `plug()` (the door opens without it)."""

    plugged = False

    def open(self) -> None:
        if not self.plugged:
            raise CameraNotFound("No camera found at index 0.")
        super().open()


def door_staff_screens(world: World) -> None:
    """Door without a camera, a manual check-in asked first, a passport at the door, revoked."""
    gate3 = world.kiosk("gate-3", "Gate 3", role="DOOR", event_id=world.tonight["id"])
    window = DoorWindow(
        gate3,
        None,
        scanner=Scanner(UnpluggedCamera()),
        sounds=Sounds(audible=False),
        clear_after_ms=600_000,
    )
    show(window)
    window.start()
    try:
        wait_until(lambda: window.snapshot is not None, "the door's counters")
        shoot(window, "door-no-camera")
        guest = world.attendees[3]
        window.search_box.setFocus()
        QTest.keyClicks(window.search_box, guest["display_name"].split()[0], delay=80)
        wait_until(lambda: window.results.count() >= 1, "search results")
        item = window.results.item(0)
        QTest.mouseClick(
            window.results.viewport(),
            Qt.MouseButton.LeftButton,
            pos=window.results.visualItemRect(item).center(),
        )
        wait_until(window.confirm.isVisible, "the confirmation")
        shoot(window, "door-confirm")
        click(window.confirm.no)
        wedge(window, str(world.attendees[4]["passport_qr"]))
        wait_verdict(window, Colour.RED, 1)
        shoot(window, "door-passport")
        click(window.card)
        config = load_config(gate3.config_path)
        assert config is not None
        world.hq("DELETE", f"/devices/{config.device_id}")
        window.sync.trigger()
        wait_until(window.revoked_screen.isVisible, "the revoked screen")
        shoot(window, "door-revoked")
    finally:
        window.close()


def setup_screen(world: World) -> None:
    """Setup: a new kiosk paired by a typed code, with its mode, scope and sync state."""
    settings = load_settings(data_dir=world.folder / "new-kiosk", gate="Gate 4", retry_attempts=1)
    window = SetupWindow(settings, server=world.server.url)
    show(window)
    window.start()
    try:
        wait_until(lambda: window.state is not None, "the setup state")
        window.name.setText("Gate 4 tablet")
        window.code.setFocus()
        QTest.keyClicks(window.code, world.code(role="DOOR", event_id=world.tonight["id"]))
        click(window.pair_button)
        wait_until(lambda: window.result.text().startswith("✔"), "the pairing")
        wait_until(lambda: window.online.text() == "● Online", "the first sync")
        click(window.save_button)
        wait_until(lambda: window.saved_note.text().startswith("✔"), "the saved choices")
        window.server.deselect()  # focus fell back on the address: no highlight in the picture
        shoot(window, "setup")
    finally:
        window.close()


def main() -> int:
    """Seed, serve, shoot every screen, stop the server."""
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive until the end
    set_language(Language.ENGLISH)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soca-screenshots-") as scratch:
        folder = Path(scratch)
        database_url, seed = seed_world(folder)
        server = EmbeddedServer(database_url, log=folder / "server.log")
        server.start()
        try:
            world = World(server, seed, folder)
            gate2 = door_history(world)
            promoter_screens(world, gate2)
            door_screens(world)
            prize_screens(world)
            setup_screen(world)
            door_staff_screens(world)
            arabic_door(world)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
