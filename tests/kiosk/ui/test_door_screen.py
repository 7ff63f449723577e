"""The door window driven through its real signals, by the real kiosk core and a real server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from kiosk.demo import GARBAGE_CODE, DemoCameraSource
from kiosk.scanner.sources import Frame
from kiosk.scanner.worker import Scanner
from kiosk.services.verdict import Colour
from kiosk.settings import KioskSettings
from kiosk.ui.door import DoorWindow
from kiosk.ui.sounds import Sounds
from kiosk.ui.verdict_card import VerdictCard
from tests.kiosk.live import LiveServer
from tests.kiosk.ui.conftest import Attendees

WAIT_MS = 20_000
MakeWindow = Callable[..., DoorWindow]


@pytest.fixture
def make_window(qtbot: QtBot, door_settings: KioskSettings) -> Iterator[MakeWindow]:
    """Build, show and start a door window (silent sounds); stopped after the test."""
    windows: list[DoorWindow] = []

    def make(scanner: Scanner | None = None, *, clear_after_ms: int = 10_000) -> DoorWindow:
        window = DoorWindow(
            door_settings,
            None,
            scanner=scanner,
            sounds=Sounds(audible=False),
            clear_after_ms=clear_after_ms,
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


def wedge_scan(qtbot: QtBot, window: DoorWindow, code: str) -> None:
    """Type `code` and Enter as a keyboard-wedge scanner does: fast, into whatever has focus."""
    window.search_box.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search_box, timeout=WAIT_MS)
    qtbot.keyClicks(window.search_box, code)
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return)


def wait_colour(qtbot: QtBot, window: DoorWindow, colour: Colour, count: int) -> None:
    """Wait until the `count`-th sound was asked for, and it is `colour`'s."""
    qtbot.waitUntil(lambda: len(window.sounds.requested) >= count, timeout=WAIT_MS)
    assert window.sounds.requested[count - 1] is colour, window.card.shown_verdict
    shown = window.card.shown_verdict
    assert shown is not None and shown.colour is colour
    assert window.card.isVisible()


def test_camera_scan_fills_the_screen_green_counts_and_syncs(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees, live: LiveServer
) -> None:
    guest = attendees.take()
    source = DemoCameraSource([guest["ticket_qr"]], hold_s=1.5, gap_s=30.0, loop=False)
    window = make_window(Scanner(source))
    wait_colour(qtbot, window, Colour.GREEN, 1)
    assert guest["handle"] in window.card.who.text()
    assert "pts" in window.card.standing.text()
    assert window.preview.pixmap() is not None and not window.preview.pixmap().isNull()
    qtbot.waitUntil(lambda: window.device_count.text() == "1", timeout=WAIT_MS)
    # The scan was pushed by the sync worker (triggered by the op) and the server applied it.
    verdict = window.card.shown_verdict
    assert verdict is not None and verdict.op_id is not None
    op_id = verdict.op_id
    qtbot.waitUntil(
        lambda: window.snapshot is not None and window.snapshot.status.pending == 0,
        timeout=WAIT_MS,
    )
    assert live.op(op_id)["result"]["status"] == "applied"
    assert window.online.text() == "● Online"
    assert window.event_count.text() != "0"


def test_wedge_scan_then_reentry_is_amber_with_the_reason(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees
) -> None:
    window = make_window()
    code = attendees.take()["ticket_qr"]
    wedge_scan(qtbot, window, code)
    wait_colour(qtbot, window, Colour.GREEN, 1)
    assert window.search_box.text() == ""  # the burst never lands in the search box
    wedge_scan(qtbot, window, code)
    wait_colour(qtbot, window, Colour.AMBER, 2)
    reason = window.card.reason.text()
    assert reason.startswith("Already scanned") and "Gate 2" in reason
    assert window.card.reason.isVisible()


def test_garbage_code_is_red_and_a_new_scan_replaces_the_card(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    window = make_window()
    wedge_scan(qtbot, window, GARBAGE_CODE)
    wait_colour(qtbot, window, Colour.RED, 1)
    assert window.card.reason.text()
    wedge_scan(qtbot, window, "not a ticket either")
    wait_colour(qtbot, window, Colour.RED, 2)
    assert len(window.findChildren(VerdictCard)) == 1
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog)]


def test_slow_typing_is_not_a_scan(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    window.search_box.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.search_box, timeout=WAIT_MS)
    qtbot.keyClicks(window.search_box, "kes_fan", delay=80)
    qtbot.keyClick(window.search_box, Qt.Key.Key_Return, delay=80)
    qtbot.waitUntil(lambda: window.results.count() >= 1, timeout=WAIT_MS)
    assert window.sounds.requested == []
    assert window.search_box.text() == "kes_fan"


def test_search_by_name_and_one_tap_check_in(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees
) -> None:
    window = make_window()
    guest = attendees.take()
    window.search_box.setText(guest["display_name"])
    qtbot.waitUntil(lambda: window.results.count() >= 1, timeout=WAIT_MS)
    item = window.results.item(0)
    assert guest["display_name"] in item.text() and "tap to check in" in item.text()
    viewport = window.results.viewport()
    qtbot.mouseClick(
        viewport, Qt.MouseButton.LeftButton, pos=window.results.visualItemRect(item).center()
    )
    wait_colour(qtbot, window, Colour.GREEN, 1)
    assert guest["handle"] in window.card.who.text()
    # The list refreshes: the ticket is now shown as in.
    qtbot.waitUntil(lambda: " in " in window.results.item(0).text(), timeout=WAIT_MS)


def test_card_clears_itself(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window(clear_after_ms=300)
    wedge_scan(qtbot, window, GARBAGE_CODE)
    wait_colour(qtbot, window, Colour.RED, 1)
    qtbot.waitUntil(lambda: window.card.shown_verdict is None, timeout=WAIT_MS)
    assert not window.card.isVisible()


def test_closing_the_window_stops_every_thread_within_a_second(
    qtbot: QtBot, make_window: MakeWindow, attendees: Attendees
) -> None:
    source = DemoCameraSource([attendees.take()["ticket_qr"]], hold_s=60.0, loop=True)
    window = make_window(Scanner(source))
    qtbot.waitUntil(lambda: window.scanner_state == "running", timeout=WAIT_MS)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 1.0
    assert not window.threads_running()


class _BrokenCamera:
    name = "broken camera"
    exhausted = False

    def open(self) -> None:
        pass

    def read(self) -> Frame | None:
        raise OSError("the USB bus went away")

    def close(self) -> None:
        pass


def test_a_failing_camera_becomes_a_visible_state(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window(Scanner(_BrokenCamera()))
    qtbot.waitUntil(lambda: window.camera.text() == "Camera error", timeout=WAIT_MS)
    assert "the USB bus went away" in window.problem.text()
    assert window.problem.isVisible()


def test_sound_files_are_distinct_per_colour(tmp_path: Path) -> None:
    from kiosk.ui.sounds import TONES, write_tone

    sizes = set()
    for colour, notes in TONES.items():
        path = tmp_path / f"{colour.value}.wav"
        write_tone(path, notes)
        sizes.add(path.read_bytes())
    assert len(sizes) == len(TONES)
    assert np.frombuffer(b"".join(sizes), dtype=np.uint8).size > 0


def test_kiosk_mode_asks_for_the_pin_before_closing(
    qtbot: QtBot, door_settings: KioskSettings
) -> None:
    window = DoorWindow(door_settings, None, sounds=Sounds(audible=False), pin="2468")
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.start()
    qtbot.waitUntil(lambda: window.snapshot is not None, timeout=WAIT_MS)
    try:
        window.close()
        assert window.isVisible() and window.lock.isVisible()  # still open: the PIN is asked
        qtbot.keyClicks(window.lock.entry, "1111", delay=60)
        qtbot.mouseClick(window.lock.unlock, Qt.MouseButton.LeftButton)
        assert window.isVisible() and window.lock.prompt.text() == "Wrong PIN. Try again."
        qtbot.keyClicks(window.lock.entry, "2468", delay=60)
        qtbot.mouseClick(window.lock.unlock, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
        assert not window.threads_running()
    finally:
        window.stop()


def test_review_lists_an_op_the_server_rejected(
    qtbot: QtBot, door_settings: KioskSettings, attendees: Attendees, live: LiveServer
) -> None:
    from kiosk.app import open_kiosk
    from kiosk.ui.review import ReviewWindow

    guest = attendees.take()
    revoked = live.hq("POST", f"/tickets/{guest['tickets'][0]['ticket_id']}/revoke")
    assert revoked.status_code in (200, 201), revoked.text
    with open_kiosk(door_settings) as kiosk:  # offline knowledge: the kiosk lets them in
        assert kiosk.require_door().scan(guest["ticket_qr"]).colour is Colour.GREEN
    window = ReviewWindow(door_settings)
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        qtbot.waitUntil(lambda: window.problems.count() >= 1, timeout=WAIT_MS)
        line = window.problems.item(0).text()
        assert "ticket.scan" in line and "REJECTED" in line
        assert not window.empty.isVisible()
    finally:
        window.stop()
