"""The setup screen pairs with a real server by code, and says plainly when a code is wrong."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.settings import load_settings
from kiosk.store.config import load_config
from kiosk.ui.setup import SetupWindow
from tests.kiosk.live import LiveServer

WAIT_MS = 30_000


def test_pairing_by_code_then_a_used_code_is_refused(
    qtbot: QtBot, live: LiveServer, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path / "new", retry_attempts=1)
    window = SetupWindow(settings, server=live.url)
    qtbot.addWidget(window)
    window.show()
    code = live.pairing_code(event_id=live.event_id)
    window.code.setText(code)
    with qtbot.waitSignal(window.paired, timeout=WAIT_MS) as paired:
        qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)
    assert paired.args == ["DOOR"]
    assert window.result.text().startswith("✔ Paired as a DOOR device")
    config = load_config(settings.config_path)
    assert config is not None and str(config.event_id) == live.event_id
    qtbot.waitUntil(window.pair_button.isEnabled, timeout=WAIT_MS)
    qtbot.mouseClick(window.pair_button, Qt.MouseButton.LeftButton)  # the same code again
    qtbot.waitUntil(lambda: window.result.text().startswith("✖"), timeout=WAIT_MS)
    qtbot.waitUntil(window.pair_button.isEnabled, timeout=WAIT_MS)  # ready to try again
