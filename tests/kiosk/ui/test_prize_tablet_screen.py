"""The prize tablet as a new user meets it: who and what is on the card, a double tap, undo, search.

Against a real seeded server: the demo's first four attendees hold cards of
5, 4, 3 and 2 stamps on "Fifth rum punch free" (prize "One rum punch").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core.wire import OpType
from kiosk.app import open_synchronizer, pair_device
from kiosk.services.verdict import Colour
from kiosk.settings import KioskSettings, Language, load_settings
from kiosk.ui.i18n import set_language
from kiosk.ui.prize import PrizeWindow
from kiosk.ui.sounds import Sounds
from tests.kiosk.live import LiveServer

WAIT_MS = 20_000


@pytest.fixture
def settings(live: LiveServer, tmp_path: Path) -> KioskSettings:
    """A branch tablet paired with the live server and synced once (its cards pulled)."""
    settings = load_settings(data_dir=tmp_path / "bar", sync_interval_s=30.0)
    branch_id = str(live.world["offers"][0]["branch_id"])
    pair_device(settings, server_url=live.url, code=live.pairing_code(branch_id=branch_id))
    synchronizer = open_synchronizer(settings)
    try:
        assert synchronizer.sync_once().ok
    finally:
        synchronizer.close()
    return settings


def _open(qtbot: QtBot, settings: KioskSettings) -> PrizeWindow:
    prize = PrizeWindow(settings, sounds=Sounds(audible=False))
    qtbot.addWidget(prize)
    prize.resize(1280, 800)
    prize.show()
    prize.start()
    qtbot.waitUntil(lambda: prize.status is not None, timeout=WAIT_MS)
    return prize


@pytest.fixture
def window(qtbot: QtBot, settings: KioskSettings) -> Iterator[PrizeWindow]:
    """The prize screen of a synced tablet."""
    prize = _open(qtbot, settings)
    yield prize
    prize.stop()


def _look_up(qtbot: QtBot, window: PrizeWindow, customer: dict[str, Any]) -> None:
    window.verdict = None
    window.submit_code(customer["passport_qr"])
    qtbot.waitUntil(lambda: window.verdict is not None, timeout=WAIT_MS)


def _tap(qtbot: QtBot, window: PrizeWindow, button: Any) -> None:
    before = len(window.sounds.requested)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.sounds.requested) > before, timeout=WAIT_MS)


def test_the_card_names_the_customer_offer_tier_and_prize_in_both_languages(
    qtbot: QtBot, window: PrizeWindow, live: LiveServer
) -> None:
    customer = live.world["attendees"][0]  # a full card: 5 of 5, no completion yet
    _look_up(qtbot, window, customer)
    assert window.customer.text() == customer["display_name"]
    assert window.handle.text() == f"@{customer['handle']}"
    assert window.offer.text() == "Fifth rum punch free · Prize: One rum punch"
    assert window.summary.text() == "5 of 5"
    assert window.next_tier.text() == "1 more for Bronze Member"
    assert window.confirm.text() == "Confirm prize given:\nOne rum punch"
    qtbot.mouseClick(window.confirm, Qt.MouseButton.LeftButton)
    assert window.ask.text() == f"Give One rum punch to {customer['display_name']}?"
    qtbot.mouseClick(window.cancel, Qt.MouseButton.LeftButton)
    set_language(Language.ARABIC)
    try:
        _look_up(qtbot, window, customer)
        assert window.summary.text() == "5 من 5"
        assert window.next_tier.text() == "1 إضافية للوصول إلى عضو برونزي"
        assert window.offer.text() == "Fifth rum punch free · الجائزة: One rum punch"
    finally:
        set_language(Language.ENGLISH)


def test_a_double_tap_asks_and_the_last_stamp_can_be_undone(
    qtbot: QtBot, window: PrizeWindow, live: LiveServer
) -> None:
    customer = live.world["attendees"][2]  # 3 of 5
    offer_id = str(live.world["offers"][0]["id"])
    _look_up(qtbot, window, customer)
    assert window.verdict is not None and window.verdict.stamps == 3
    assert not window.undo.isVisible()
    _tap(qtbot, window, window.add_stamp)
    assert window.verdict is not None and window.verdict.stamps == 4
    _tap(qtbot, window, window.add_stamp)  # a second later: the same card again
    asked = window.verdict
    assert asked is not None and asked.needs_confirmation and asked.op_id is None
    assert window.confirm_bar.isVisible() and window.ask.text() == "Add another stamp?"
    assert window.yes.text() == "Yes, add another" and asked.colour is Colour.AMBER
    assert not window.add_stamp.isEnabled() and window.summary.text().startswith("4 of 5")
    assert window.message.text() == "This card was stamped just now."
    qtbot.mouseClick(window.cancel, Qt.MouseButton.LeftButton)
    assert not window.confirm_bar.isVisible() and window.add_stamp.isEnabled()
    assert not window.message.isVisible()
    assert window.undo.isVisible() and window.undo.isEnabled()
    _tap(qtbot, window, window.undo)
    undone = window.verdict
    assert undone is not None and undone.op_type is OpType.PASS_UNSTAMP
    assert undone.stamps == 3 and window.summary.text().startswith("3 of 5")
    assert not window.undo.isVisible()
    assert "Stamp undone" in window.activity.item(0).text()
    # Synced and decided like every op: the server's card is back at 3 of 5.
    qtbot.waitUntil(
        lambda: window.status is not None and window.status.pending == 0, timeout=WAIT_MS
    )
    assert live.op(str(undone.op_id))["result"]["status"] == "applied"
    card = live.card(offer_id, str(customer["user_id"]))
    assert card["progress"]["currentStamps"] == 3


def test_cardholders_are_found_by_name_and_handle_from_the_cache(
    qtbot: QtBot, window: PrizeWindow, live: LiveServer
) -> None:
    # The search reads only the pulled cards (tests/kiosk/test_prize_tablet.py searches
    # a tablet that never reached a server).
    customer = live.world["attendees"][3]  # 2 of 5
    first_name = str(customer["display_name"]).split()[0]
    window.search.box.setText(first_name[:3].lower())
    qtbot.waitUntil(lambda: window.search.results.count() > 0, timeout=WAIT_MS)
    results = window.search.results
    lines = [results.item(n).text() for n in range(results.count())]
    mine = next(n for n, line in enumerate(lines) if customer["display_name"] in line)
    assert f"@{customer['handle']}" in lines[mine] and "2 of 5" in lines[mine]
    results.itemClicked.emit(results.item(mine))
    qtbot.waitUntil(lambda: window.customer.text() == customer["display_name"], timeout=WAIT_MS)
    assert window.summary.text().startswith("2 of 5") and window.search.box.text() == ""
    assert window.message.text() == "Found by search: scan their pass to stamp it."
    assert not window.add_stamp.isEnabled() and not window.confirm.isEnabled()
    window.search.box.setText(f"@{customer['handle']}")
    qtbot.waitUntil(lambda: results.count() == 1 and results.isVisible(), timeout=WAIT_MS)
    assert customer["display_name"] in results.item(0).text()
    window.search.box.setText("zzzz nobody")
    qtbot.waitUntil(
        lambda: results.count() == 1 and results.item(0).text() == "No cardholder found.",
        timeout=WAIT_MS,
    )
