"""Door staff's dead ends, tried as a new user would (issue 14, "Door staff" 1-5).

Real Qt offscreen, the real kiosk store on SQLite, and a real seeded
`soca-server` over HTTP for pairing, sync, revocation and the promoter's and
HQ's view of refusals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from kiosk.demo import GARBAGE_CODE, DemoCameraSource
from kiosk.errors import CameraNotFound
from kiosk.scanner.sources import Frame
from kiosk.scanner.worker import Scanner
from kiosk.services.verdict import Colour
from kiosk.settings import KioskSettings, load_settings
from kiosk.store.config import load_config, save_config
from kiosk.ui.door import DoorWindow
from kiosk.ui.sounds import Sounds
from tests.kiosk.attendance_world import pair
from tests.kiosk.live import LiveServer
from tests.kiosk.ui.conftest import Attendees

WAIT_MS = 20_000
MakeWindow = Callable[..., DoorWindow]


@pytest.fixture
def make_window(qtbot: QtBot, door_settings: KioskSettings) -> Iterator[MakeWindow]:
    """Build, show and start a door window (silent); stopped after the test."""
    windows: list[DoorWindow] = []

    def make(scanner: Scanner | None = None, **options: Any) -> DoorWindow:
        window = DoorWindow(
            options.pop("settings", door_settings),
            None,
            scanner=scanner,
            sounds=Sounds(audible=False),
            clear_after_ms=options.pop("clear_after_ms", 10_000),
            **options,
        )
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        window.start()
        qtbot.waitUntil(lambda: window.snapshot is not None, timeout=WAIT_MS)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.stop()


def focus(qtbot: QtBot, widget: QWidget) -> None:
    """Give `widget` the keyboard focus and wait until it has it."""
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=WAIT_MS)


def wedge(qtbot: QtBot, window: DoorWindow, code: str, target: QWidget | None = None) -> None:
    """A keyboard-wedge scanner: fast keys, Shift pressed for every upper-case letter, Enter.

    The keys go to `target` (default: the search box), as they go to whatever has the focus.
    """
    target = target or window.search_box
    focus(qtbot, target)
    for char in code:
        if char.isupper():
            qtbot.keyPress(target, Qt.Key.Key_Shift)  # a key with no text, as a real wedge sends
            qtbot.keyClick(target, char, Qt.KeyboardModifier.ShiftModifier)
            qtbot.keyRelease(target, Qt.Key.Key_Shift)
        else:
            qtbot.keyClick(target, char)
    qtbot.keyClick(target, Qt.Key.Key_Return)


def verdict_number(qtbot: QtBot, window: DoorWindow, count: int, colour: Colour) -> None:
    """Wait for the `count`-th verdict and check it is `colour` and on screen."""
    qtbot.waitUntil(lambda: len(window.sounds.requested) >= count, timeout=WAIT_MS)
    shown = window.card.shown_verdict
    assert window.sounds.requested[count - 1] is colour, shown
    assert shown is not None and shown.colour is colour and window.card.isVisible()


def synced(qtbot: QtBot, window: DoorWindow) -> None:
    """Wait until the window's sync worker has sent every op."""
    window.sync.trigger()
    qtbot.waitUntil(
        lambda: window.snapshot is not None and window.snapshot.status.pending == 0,
        timeout=WAIT_MS,
    )


# ------------------------------------------------------------------ 1. no webcam


class _UnpluggedCamera:
    """A webcam that is not there until `plug()`: then it shows a ticket, like a real one."""

    name = "camera 0"
    exhausted = False

    def __init__(self, code: str) -> None:
        self.plugged = False
        self._camera = DemoCameraSource([code], hold_s=1.5, gap_s=60.0, loop=False)

    def plug(self) -> None:
        self.plugged = True

    def open(self) -> None:
        if not self.plugged:
            raise CameraNotFound("No camera found at index 0.")
        self._camera.open()

    def read(self) -> Frame | None:
        return self._camera.read()

    def close(self) -> None:
        self._camera.close()


def test_no_webcam_the_door_opens_on_wedge_and_search_and_picks_up_a_camera_later(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees
) -> None:
    camera = _UnpluggedCamera(attendees.take()["ticket_qr"])
    window = make_window(Scanner(camera), camera_retry_ms=100)
    assert window.camera.text() == "No camera" and window.isVisible()
    assert "handheld scanner, or search by name" in window.preview.text()
    assert not window.problem.isVisible()  # a missing camera is a state, not an error
    wedge(qtbot, window, attendees.take()["ticket_qr"])
    verdict_number(qtbot, window, 1, Colour.GREEN)
    camera.plug()
    qtbot.waitUntil(lambda: window.scanner_state == "running", timeout=WAIT_MS)
    verdict_number(qtbot, window, 2, Colour.GREEN)  # the ticket held up to the new camera


def test_run_without_a_webcam_gets_a_camera_to_wait_for_instead_of_an_exit() -> None:
    from kiosk.cli import _open_camera
    from kiosk.scanner.sources import CameraSource

    with pytest.raises(CameraNotFound):  # no webcam on a test machine: what `run` used to die of
        _open_camera("99", None).open()
    source = _open_camera(None, None, allow_missing=True)
    assert isinstance(source, CameraSource) and source.index == 0


# ------------------------------------------------------------------ 2. printed codes


def test_printed_ticket_code_scans_upper_case_wedged_and_lower_case_typed(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees, live: LiveServer
) -> None:
    window = make_window()
    first, second = attendees.take(), attendees.take()
    code = first["tickets"][0]["code"]
    assert code == code.upper() and "-" in code
    wedge(qtbot, window, code)  # UN49-Y3NQ: Shift before every letter
    verdict_number(qtbot, window, 1, Colour.GREEN)
    assert first["display_name"] in window.card.who.text()
    assert window.search_box.text() == ""
    # A door person types the next one by hand, slowly, in lower case, and presses Enter.
    focus(qtbot, window.search_box)
    qtbot.keyClicks(window.search_box, second["tickets"][0]["code"].lower(), delay=70)
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return, delay=70)
    verdict_number(qtbot, window, 2, Colour.GREEN)
    assert second["display_name"] in window.card.who.text()
    wedge(qtbot, window, code.lower().replace("-", ""))
    verdict_number(qtbot, window, 3, Colour.AMBER)  # the same ticket again: a re-entry
    verdict = window.card.shown_verdict
    assert verdict is not None and verdict.op_type is not None
    assert verdict.op_type.value == "ticket.manual_checkin"
    synced(qtbot, window)
    assert live.op(verdict.op_id or uuid.uuid4())["result"]["status"] == "duplicate"


# ------------------------------------------------------------------ 3. red says who and why


def _issue(live: LiveServer, event_id: str, name: str) -> dict[str, Any]:
    response = live.hq(
        "POST",
        f"/events/{event_id}/tickets",
        json={"email": f"{uuid.uuid4().hex[:10]}@example.com", "holder_name": name},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_red_names_the_event_the_holder_and_the_way_out_and_late_tickets_wait_for_sync(
    qtbot: QtBot,
    make_window: MakeWindow,
    attendees: Attendees,
    live: LiveServer,
    door_settings: KioskSettings,
) -> None:
    other_event = live.world["events"][1]
    wrong = _issue(live, other_event["id"], "Wrong Night")
    revoked_guest = attendees.take()
    revoked = live.hq("POST", f"/tickets/{revoked_guest['tickets'][0]['ticket_id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    # No waiting pull: it would fetch the late ticket below as soon as it is sold.
    patient = load_settings(**{**door_settings.model_dump(), "pull_wait_s": 0.0})
    window = make_window(settings=patient)
    qtbot.waitUntil(lambda: window.sync.cycles >= 1, timeout=WAIT_MS)  # the revocation pulled
    # Sold after this door's last pull, scanned before the next (every op triggers one).
    late = _issue(live, live.event_id, "Late Buyer")
    wedge(qtbot, window, late["qr"])
    verdict_number(qtbot, window, 1, Colour.GREEN)
    assert "confirmed at the next sync" in window.card.note.text()
    assert window.card.note.isVisible()

    wedge(qtbot, window, wrong["qr"])
    verdict_number(qtbot, window, 2, Colour.RED)
    assert window.card.headline.text().endswith("Wrong event")
    assert other_event["name"] in window.card.reason.text()

    wedge(qtbot, window, revoked_guest["ticket_qr"])
    verdict_number(qtbot, window, 3, Colour.RED)
    assert revoked_guest["display_name"] in window.card.headline.text()
    assert revoked_guest["display_name"] in window.card.who.text()

    wedge(qtbot, window, attendees.take()["passport_qr"], target=window.results)
    verdict_number(qtbot, window, 4, Colour.RED)
    assert window.card.reason.text() == "Show your ticket — search by name instead."
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search_box, timeout=WAIT_MS)


# ------------------------------------------------------------------ 4. idle, offline, manual, revoked


@pytest.fixture
def offline_settings(door_settings: KioskSettings) -> KioskSettings:
    """The paired door, its server address now a port nobody listens on: offline for real."""
    config = load_config(door_settings.config_path)
    assert config is not None
    dead = config.model_copy(update={"server_url": "http://127.0.0.1:9"})
    save_config(door_settings.config_path, dead)
    values = {**door_settings.model_dump(), "retry_attempts": 1, "request_deadline_s": 2.0}
    return load_settings(**values)


def test_idle_screen_names_event_and_gate_and_offline_the_event_counter_keeps_up(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees, offline_settings: KioskSettings
) -> None:
    window = make_window(settings=offline_settings)
    tonight = window.snapshot.status.event_name if window.snapshot else None
    assert tonight is not None
    assert tonight in window.title.text() and "Gate 2" in window.title.text()
    before = int(window.event_count.text())
    for number in (1, 2):
        wedge(qtbot, window, attendees.take()["ticket_qr"])
        verdict_number(qtbot, window, number, Colour.GREEN)
    qtbot.waitUntil(lambda: window.device_count.text() == "2", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.online.text() == "● Offline", timeout=WAIT_MS)
    assert int(window.event_count.text()) == before + 2  # never below this device's own


def test_a_manual_check_in_asks_first(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees
) -> None:
    window = make_window()
    guest = attendees.take()
    window.search_box.setText(guest["display_name"])
    qtbot.waitUntil(lambda: window.results.count() >= 1, timeout=WAIT_MS)

    def tap_first() -> None:
        item = window.results.item(0)
        rect = window.results.visualItemRect(item)
        qtbot.mouseClick(window.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    tap_first()
    assert window.confirm.isVisible()
    assert guest["display_name"] in window.confirm.question.text()
    qtbot.mouseClick(window.confirm.no, Qt.MouseButton.LeftButton)
    assert not window.confirm.isVisible()
    qtbot.wait(300)
    assert window.sounds.requested == [] and window.device_count.text() == "0"
    tap_first()
    qtbot.mouseClick(window.confirm.yes, Qt.MouseButton.LeftButton)
    verdict_number(qtbot, window, 1, Colour.GREEN)
    assert guest["handle"] in window.card.who.text() and not window.confirm.isVisible()


def test_a_revoked_kiosk_says_so_full_screen_and_admits_nobody(
    qtbot: QtBot,
    qtlog: Any,  # pytest-qt's captured Qt messages
    make_window: MakeWindow,
    attendees: Attendees,
    door_settings: KioskSettings,
    live: LiveServer,
) -> None:
    config = load_config(door_settings.config_path)
    assert config is not None
    window = make_window()
    revoked = live.hq("DELETE", f"/devices/{config.device_id}")
    assert revoked.status_code == 200, revoked.text
    window.sync.trigger()
    qtbot.waitUntil(window.revoked_screen.isVisible, timeout=WAIT_MS)
    assert window.revoked_screen.geometry() == window.rect()
    # The sync thread's "revoked" message is shown by the GUI thread, not the sync thread.
    qtbot.waitUntil(lambda: "revoked" in window.problem.text(), timeout=WAIT_MS)
    qtbot.wait(200)
    off_thread = [r.message for r in qtlog.records if "thread" in r.message]
    assert off_thread == []
    assert "revoked" in window.revoked_screen.headline.text()
    wedge(qtbot, window, attendees.take()["ticket_qr"])
    qtbot.waitUntil(lambda: len(window.sounds.requested) >= 1, timeout=WAIT_MS)
    assert window.sounds.requested == [Colour.RED]
    shown = window.card.shown_verdict
    assert shown is not None and shown.headline == "This kiosk has been revoked"
    assert shown.op_id is None and window.device_count.text() == "0"


# ------------------------------------------------------------------ 5. refusals recorded


def test_a_refusal_is_recorded_and_reaches_hq_and_the_promoters_review(
    qtbot: QtBot,
    make_window: MakeWindow,
    door_settings: KioskSettings,
    live: LiveServer,
    tmp_path: Path,
) -> None:
    from kiosk.ui.attendance import PromoterReviewWindow

    config = load_config(door_settings.config_path)
    assert config is not None
    window = make_window()
    wedge(qtbot, window, GARBAGE_CODE)
    verdict_number(qtbot, window, 1, Colour.RED)
    verdict = window.card.shown_verdict
    assert verdict is not None and verdict.op_type is not None and verdict.op_id is not None
    assert verdict.op_type.value == "scan.refused"
    synced(qtbot, window)
    logged = live.op(verdict.op_id)
    assert logged["result"]["status"] == "applied"
    assert logged["payload"]["reason"] == "bad_format" and GARBAGE_CODE not in str(logged)
    devices = live.hq("GET", "/devices").json()
    mine = next(d for d in devices if d["id"] == str(config.device_id))
    assert mine["refused_scans"] == 1

    promoter = {"role": "PROMOTER", "promoter_id": live.world["promoter"]["id"]}
    review = PromoterReviewWindow(pair(live, tmp_path / "promoter", promoter, "Office"))
    qtbot.addWidget(review)
    review.show()
    review.start()
    try:
        qtbot.waitUntil(lambda: review.review is not None, timeout=WAIT_MS)
        assert int(review.attendance.totals["Refused"].text()) >= 1
    finally:
        assert review.stop()
