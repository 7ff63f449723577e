"""The prize screen against a real server: look up, stamp to full, confirm with a second step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.app import open_synchronizer, pair_device
from kiosk.services.verdict import Colour
from kiosk.settings import load_settings
from kiosk.ui.prize import PrizeWindow
from kiosk.ui.sounds import Sounds
from tests.kiosk.live import LiveServer

WAIT_MS = 20_000


@pytest.fixture
def window(qtbot: QtBot, live: LiveServer, tmp_path: Path) -> Iterator[PrizeWindow]:
    settings = load_settings(data_dir=tmp_path / "bar", sync_interval_s=30.0)
    branch_id = str(live.world["offers"][0]["branch_id"])
    pair_device(settings, server_url=live.url, code=live.pairing_code(branch_id=branch_id))
    synchronizer = open_synchronizer(settings)
    try:
        assert synchronizer.sync_once().ok
    finally:
        synchronizer.close()
    prize = PrizeWindow(settings, sounds=Sounds(audible=False))
    qtbot.addWidget(prize)
    prize.resize(1280, 800)
    prize.show()
    prize.start()
    qtbot.waitUntil(lambda: prize.status is not None, timeout=WAIT_MS)
    yield prize
    prize.stop()


def stamp(qtbot: QtBot, window: PrizeWindow) -> None:
    """Tap "Add stamp" and wait; a quick second stamp asks "Add another stamp?": say yes."""
    before = len(window.sounds.requested)
    qtbot.mouseClick(window.add_stamp, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.sounds.requested) > before, timeout=WAIT_MS)
    if window.verdict is not None and window.verdict.needs_confirmation:
        assert window.confirm_bar.isVisible() and window.ask.text() == "Add another stamp?"
        asked = len(window.sounds.requested)
        qtbot.mouseClick(window.yes, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(window.sounds.requested) > asked, timeout=WAIT_MS)


def test_stamp_to_full_then_confirm_the_prize_after_a_second_step(
    qtbot: QtBot, window: PrizeWindow, live: LiveServer
) -> None:
    customer = live.world["attendees"][-1]
    window.submit_code(customer["passport_qr"])
    qtbot.waitUntil(lambda: window.verdict is not None, timeout=WAIT_MS)
    card = window.verdict.card if window.verdict is not None else None
    assert card is not None
    assert f"{card.current_stamps} of {card.max_stamps}" in window.summary.text()
    for stamped in range(card.current_stamps + 1, card.max_stamps + 1):
        assert window.add_stamp.isEnabled() and not window.confirm.isEnabled()
        stamp(qtbot, window)
        qtbot.waitUntil(
            lambda n=stamped: (
                window.verdict is not None
                and window.verdict.card is not None
                and window.verdict.card.current_stamps == n
            ),
            timeout=WAIT_MS,
        )
    assert window.sounds.requested[-1] is Colour.GREEN
    assert window.confirm.isEnabled() and not window.add_stamp.isEnabled()
    qtbot.mouseClick(window.confirm, Qt.MouseButton.LeftButton)
    assert window.confirm_bar.isVisible()  # nothing recorded yet: the second step asks
    assert not window.confirm.isEnabled() and not window.add_stamp.isEnabled()
    completions = card.completions
    qtbot.mouseClick(window.yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            window.verdict is not None
            and window.verdict.card is not None
            and window.verdict.card.completions == completions + 1
        ),
        timeout=WAIT_MS,
    )
    shown = window.verdict
    assert shown is not None and shown.card is not None
    assert shown.colour is Colour.GREEN and shown.card.current_stamps == 0
    assert window.add_stamp.isEnabled() and not window.confirm.isEnabled()
    # Recent activity: newest first, the prize above the stamps that filled the card.
    added = card.max_stamps - card.current_stamps
    # The customer by handle once their passport is pulled, by short id until then.
    names = (f"@{customer['handle']}", str(customer["user_id"])[:8])
    qtbot.waitUntil(lambda: window.activity.count() == added + 1, timeout=WAIT_MS)
    lines = [window.activity.item(row).text() for row in range(window.activity.count())]
    assert all(any(name in line for name in names) for line in lines)
    assert "Prize given" in lines[0] and "Fifth rum punch free" in lines[0]
    assert all("Stamp" in line and "Prize" not in line for line in lines[1:])
    assert window.message.isVisible()


def test_cancel_keeps_the_card_full(qtbot: QtBot, window: PrizeWindow, live: LiveServer) -> None:
    customer = live.world["attendees"][-2]
    window.submit_code(customer["passport_qr"])
    qtbot.waitUntil(lambda: window.verdict is not None, timeout=WAIT_MS)
    while window.add_stamp.isEnabled():
        stamp(qtbot, window)
    qtbot.mouseClick(window.confirm, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.cancel, Qt.MouseButton.LeftButton)
    assert not window.confirm_bar.isVisible()
    assert window.confirm.isEnabled()


def test_a_stranger_code_is_refused_in_red(qtbot: QtBot, window: PrizeWindow) -> None:
    window.submit_code("https://menu.example.com/bar-specials")
    qtbot.waitUntil(lambda: window.verdict is not None, timeout=WAIT_MS)
    assert window.verdict is not None and window.verdict.colour is Colour.RED
    assert not window.add_stamp.isEnabled() and not window.confirm.isEnabled()
