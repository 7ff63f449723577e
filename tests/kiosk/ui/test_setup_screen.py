"""The setup screen against a real server: pairing by code and by camera, mode and scope, the PIN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kiosk.app import open_kiosk
from kiosk.demo import DemoCameraSource
from kiosk.services.headless import ScanMode
from kiosk.services.pin import PinGuard, hash_pin
from kiosk.services.setup import set_pin_hash, with_saved_gate
from kiosk.settings import KioskSettings, Language, load_settings
from kiosk.store.config import load_config
from kiosk.ui.i18n import ARABIC, set_language
from kiosk.ui.lock import KioskModeLock
from kiosk.ui.setup import SetupWindow
from tests.kiosk.live import LiveServer

WAIT_MS = 30_000


def _pairing(live: LiveServer, **scope: str) -> dict[str, Any]:
    """`POST /devices/pairing-codes` as HQ: the code and the pairing QR's text."""
    role = "DOOR" if "event_id" in scope else "BRANCH"
    response = live.hq("POST", "/devices/pairing-codes", json={"role": role, **scope})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _window(qtbot: QtBot, settings: KioskSettings, **options: Any) -> SetupWindow:
    window = SetupWindow(settings, **options)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.state is not None, timeout=WAIT_MS)
    return window


def test_pairing_by_typed_code_shows_the_sync_and_a_used_code_is_refused(
    qtbot: QtBot, live: LiveServer, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path / "new", retry_attempts=1)
    window = _window(qtbot, settings, server=live.url)
    assert window.state is not None and not window.state.paired
    assert not window.save_button.isEnabled()  # nothing to choose before pairing
    code = live.pairing_code(event_id=live.event_id)
    window.code.setText(code)
    with qtbot.waitSignal(window.paired, timeout=WAIT_MS) as paired:
        qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)
    assert paired.args == ["DOOR"]
    assert window.result.text().startswith("✔ Paired as a DOOR device")
    config = load_config(settings.config_path)
    assert config is not None and str(config.event_id) == live.event_id
    # The sync state comes from the StatusService after the first sync.
    qtbot.waitUntil(lambda: window.online.text() == "● Online", timeout=WAIT_MS)
    assert window.pending.text() == "Pending 0" and "never" not in window.last_sync.text()
    assert live.world["events"][0]["name"] in window.event_label.text()
    qtbot.waitUntil(window.pair_button.isEnabled, timeout=WAIT_MS)
    window.code.setText(code)  # the same code again
    qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.text().startswith("✖"), timeout=WAIT_MS)
    assert "already used" in window.result.text()
    qtbot.waitUntil(window.pair_button.isEnabled, timeout=WAIT_MS)  # ready to try again


def test_pairing_by_the_pairing_qr_on_the_camera(
    qtbot: QtBot, live: LiveServer, tmp_path: Path
) -> None:
    pairing = _pairing(live, event_id=live.event_id)
    assert pairing["qr"].startswith("socapassport://pair?")
    settings = load_settings(data_dir=tmp_path / "qr", retry_attempts=1)
    window = _window(
        qtbot, settings, camera=lambda: DemoCameraSource([pairing["qr"]], gap_s=0.2, fps=30)
    )
    assert window.server.text() == "" and window.code.text() == ""
    with qtbot.waitSignal(window.paired, timeout=WAIT_MS) as paired:
        qtbot.mouseClick(window.scan_button, Qt.MouseButton.LeftButton)
    assert paired.args == ["DOOR"]
    assert window.server.text() == live.url
    qtbot.waitUntil(lambda: window.scanner is None, timeout=WAIT_MS)  # the camera stopped
    config = load_config(settings.config_path)
    assert config is not None and config.server_url == live.url
    assert str(config.event_id) == live.event_id


def test_a_qr_that_is_not_a_pairing_code_is_refused_plainly(
    qtbot: QtBot, live: LiveServer, tmp_path: Path
) -> None:
    ticket_qr = live.world["attendees"][0]["tickets"][0]["qr"]
    settings = load_settings(data_dir=tmp_path / "wrong", retry_attempts=1)
    window = _window(
        qtbot, settings, camera=lambda: DemoCameraSource([ticket_qr], gap_s=0.2, fps=30)
    )
    qtbot.mouseClick(window.scan_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.result.text().startswith("✖ This QR code is not a pairing code"),
        timeout=WAIT_MS,
    )
    assert window.scanner is not None and window.scanner.running  # still looking
    assert window.code.text() == "" and load_config(settings.config_path) is None
    qtbot.mouseClick(window.scan_button, Qt.MouseButton.LeftButton)  # "Stop camera"
    assert window.scanner is None


def test_door_mode_gate_and_review_choice_persist_for_run(
    qtbot: QtBot, door_settings: KioskSettings
) -> None:
    window = _window(qtbot, door_settings)
    modes = [window.mode.itemData(index) for index in range(window.mode.count())]
    assert modes == ["door", "review"]  # a DOOR pairing: no prize mode
    window.gate.setText("  North gate  ")
    with qtbot.waitSignal(window.saved, timeout=WAIT_MS) as saved:
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == ["door"]
    config = load_config(door_settings.config_path)
    assert config is not None and (config.mode, config.gate) == ("door", "North gate")
    fresh = load_settings(data_dir=door_settings.data_dir)
    with open_kiosk(with_saved_gate(fresh)) as kiosk:
        assert kiosk.default_mode() is ScanMode.DOOR
        assert kiosk.require_door().gate == "North gate"
    assert with_saved_gate(load_settings(data_dir=fresh.data_dir, gate="Side")).gate == "Side"

    window.mode.setCurrentIndex(modes.index("review"))
    assert not window.gate.isVisibleTo(window)  # review has no gate
    with qtbot.waitSignal(window.saved, timeout=WAIT_MS):
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    with open_kiosk(fresh) as kiosk:
        assert kiosk.default_mode() is ScanMode.REVIEW


def test_an_empty_gate_is_refused(qtbot: QtBot, door_settings: KioskSettings) -> None:
    window = _window(qtbot, door_settings)
    window.gate.setText("   ")
    qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.text().startswith("✖ name the gate"), timeout=WAIT_MS)
    config = load_config(door_settings.config_path)
    assert config is not None and config.mode is None and config.gate is None


def test_prize_mode_offer_choice_persists(qtbot: QtBot, live: LiveServer, tmp_path: Path) -> None:
    branch_id = str(live.world["offers"][0]["branch_id"])
    settings = load_settings(data_dir=tmp_path / "bar", retry_attempts=1)
    window = _window(qtbot, settings, server=live.url)
    window.code.setText(_pairing(live, branch_id=branch_id)["code"])
    with qtbot.waitSignal(window.paired, timeout=WAIT_MS):
        qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.offer.count() > 1, timeout=WAIT_MS)
    assert [window.mode.itemData(i) for i in range(window.mode.count())] == ["prize", "review"]
    offers = [o["id"] for o in live.world["offers"] if str(o["branch_id"]) == branch_id]
    window.offer.setCurrentIndex(window.offer.findData(str(offers[0])))
    with qtbot.waitSignal(window.saved, timeout=WAIT_MS) as saved:
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == ["prize"]
    config = load_config(settings.config_path)
    assert config is not None and str(config.offer_id) == str(offers[0])
    with open_kiosk(settings) as kiosk:
        assert kiosk.default_mode() is ScanMode.PRIZE
        assert str(kiosk.require_prize().offer_id) == str(offers[0])


def test_pairing_again_keeps_the_pin(
    qtbot: QtBot, live: LiveServer, door_settings: KioskSettings
) -> None:
    stored = hash_pin("2468")
    set_pin_hash(door_settings, stored)
    window = _window(qtbot, door_settings, server=live.url)
    assert "Kiosk mode: on" in window.pin_panel.state.text()
    window.code.setText(live.pairing_code(event_id=live.event_id))
    with qtbot.waitSignal(window.paired, timeout=WAIT_MS):
        qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)
    config = load_config(door_settings.config_path)
    assert config is not None and config.pin_hash == stored


def test_kiosk_mode_keeps_the_window_until_the_stored_pin(qtbot: QtBot) -> None:
    now = [0.0]
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    lock = KioskModeLock(window, PinGuard.from_hash(hash_pin("2468"), clock=lambda: now[0]))
    window.close()
    assert window.isVisible() and lock.lock.isVisible()  # the PIN is asked
    for attempt in range(4):
        qtbot.keyClicks(lock.lock.entry, "1111")
        qtbot.mouseClick(lock.lock.unlock, Qt.MouseButton.LeftButton)
        assert window.isVisible(), attempt
    assert lock.lock.prompt.text() == "Wrong PIN. Too many tries: wait 5 s."
    assert not lock.lock.unlock.isEnabled()  # no more guesses for now
    now[0] += 5.0
    qtbot.waitUntil(lock.lock.unlock.isEnabled, timeout=3000)
    assert lock.lock.prompt.text() == "Wrong PIN. Try again."
    qtbot.keyClicks(lock.lock.entry, "2468")
    qtbot.mouseClick(lock.lock.unlock, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)


def test_in_arabic_the_setup_screen_is_right_to_left_and_translated(
    qtbot: QtBot, door_settings: KioskSettings
) -> None:
    set_language(Language.ARABIC)
    try:
        window = _window(qtbot, door_settings)
        assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
        assert window.scan_button.text() == ARABIC["Scan pairing QR"]
        assert window.mode.itemText(0) == ARABIC["Door: scan tickets at a gate"]
        assert window.online.text() == ARABIC["● Online"]
        assert window.stop()
    finally:
        set_language(Language.ENGLISH)


def test_before_pairing_save_and_sync_stay_off_and_a_refusal_is_in_words(
    qtbot: QtBot, live: LiveServer, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path / "new", retry_attempts=1)
    window = _window(qtbot, settings, server=live.url)
    off = (window.save_button, window.sync_button, window.pin_panel.set_button)
    assert not any(button.isEnabled() for button in off)
    window.code.setText("NOPE-NOPE")
    qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.text().startswith("✖"), timeout=WAIT_MS)
    assert window.result.text() == (
        "✖ the server refused the pairing code: This pairing code is unknown, expired or "
        "already used; ask for a new code."
    )
    assert window.pair_button.isEnabled()  # try again
    assert not any(button.isEnabled() for button in off)  # still nothing to save or sync
    window.server.setText("127.0.0.1:8000")
    qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "http://" in window.result.text(), timeout=WAIT_MS)
    assert window.result.text().startswith("✖ the server address must start with http://")
    assert not any(button.isEnabled() for button in off)


def test_the_kiosk_pin_is_set_and_cleared_on_the_setup_screen(
    qtbot: QtBot, door_settings: KioskSettings
) -> None:
    window = _window(qtbot, door_settings)
    panel = window.pin_panel
    assert panel.set_button.isEnabled() and not panel.clear_button.isEnabled()
    qtbot.keyClicks(panel.pin, "2468")
    qtbot.keyClicks(panel.again, "2469")
    qtbot.mouseClick(panel.set_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.result.text().startswith("✖"), timeout=WAIT_MS)
    assert "the two PINs differ" in panel.result.text() and panel.pin.text() == ""
    config = load_config(door_settings.config_path)
    assert config is not None and config.pin_hash is None
    qtbot.keyClicks(panel.pin, "2468")
    qtbot.keyClicks(panel.again, "2468")
    qtbot.mouseClick(panel.set_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.result.text().startswith("✔ PIN set"), timeout=WAIT_MS)
    qtbot.waitUntil(panel.clear_button.isEnabled, timeout=WAIT_MS)
    assert panel.state.text().startswith("Kiosk mode: on")
    config = load_config(door_settings.config_path)
    assert config is not None and config.pin_hash is not None
    assert PinGuard.from_hash(config.pin_hash).check("2468").ok
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.result.text() == "✔ Kiosk mode is off.", timeout=WAIT_MS)
    config = load_config(door_settings.config_path)
    assert config is not None and config.pin_hash is None
    window.close()
