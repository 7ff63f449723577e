"""English and Arabic: Arabic mirrors the layout, speaks from the catalogue, names tiers in Arabic."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

import kiosk.ui
from core.reasons import Reason, explain
from core.wire import CardRow
from kiosk.app import Kiosk
from kiosk.services.verdict import Colour, Verdict
from kiosk.settings import KioskSettings, Language, load_settings
from kiosk.ui.door import DoorWindow
from kiosk.ui.i18n import (
    ARABIC,
    ARABIC_REASONS,
    current_language,
    placeholders,
    server_reason,
    set_language,
    tr,
    verdict_headline,
)
from kiosk.ui.prize import CONFIRM_PRIZE, PrizeWindow
from kiosk.ui.sounds import Sounds
from kiosk.ui.verdict_card import VerdictCard
from tests.kiosk.world import NOW, World

UI_SOURCES = sorted(Path(kiosk.ui.__file__).parent.glob("*.py"))
_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")


@pytest.fixture(autouse=True)
def english_afterwards(qapp: QApplication) -> Iterator[None]:
    """Every test leaves the process in English, left to right."""
    yield
    set_language(Language.ENGLISH)


@pytest.fixture
def settings(tmp_path: Path) -> KioskSettings:
    """Settings of an unpaired kiosk: enough to build a window whose threads never start."""
    return load_settings(data_dir=tmp_path / "kiosk")


def _door_window(qtbot: QtBot, settings: KioskSettings) -> DoorWindow:
    window = DoorWindow(settings, None, sounds=Sounds(audible=False), install_wedge=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def _x_in(window: QWidget, widget: QWidget) -> int:
    return widget.mapTo(window, QPoint(0, 0)).x()


def test_switching_to_arabic_sets_right_to_left_on_the_app(qapp: QApplication) -> None:
    set_language("ar")
    assert current_language() is Language.ARABIC
    assert qapp.layoutDirection() is Qt.LayoutDirection.RightToLeft
    set_language(Language.ENGLISH)
    assert qapp.layoutDirection() is Qt.LayoutDirection.LeftToRight


def test_switching_to_arabic_mirrors_the_door_window(qtbot: QtBot, settings: KioskSettings) -> None:
    english = _door_window(qtbot, settings)
    # In English the camera preview is on the left and the search box on the right.
    assert _x_in(english, english.preview) < _x_in(english, english.search_box)
    english_camera_chip = _x_in(english, english.camera)
    english.close()

    set_language(Language.ARABIC)
    arabic = _door_window(qtbot, settings)
    assert arabic.layoutDirection() is Qt.LayoutDirection.RightToLeft
    assert _x_in(arabic, arabic.preview) > _x_in(arabic, arabic.search_box)
    # The status strip is mirrored too: the chips move from the right edge to the left.
    assert _x_in(arabic, arabic.camera) < english_camera_chip
    arabic.close()


def test_arabic_door_window_reads_from_the_catalogue(qtbot: QtBot, settings: KioskSettings) -> None:
    set_language(Language.ARABIC)
    window = _door_window(qtbot, settings)
    assert window.search_box.placeholderText() == ARABIC["Search name, @handle or ticket code"]
    assert window.preview.text() == ARABIC["No camera"]
    assert window.windowTitle() == ARABIC["Soca Passport — door ({gate})"].format(
        gate=settings.gate
    )
    window.on_scanner_state("running")
    assert window.camera.text() == ARABIC["Camera on"]
    window.close()


def test_verdict_card_shows_a_point_tier_and_the_reason_in_arabic(
    qtbot: QtBot, door: Kiosk, world: World
) -> None:
    service = door.require_door()
    attendee = world.attendees[0]
    service.scan(attendee.ticket_qr)
    amber = service.scan(attendee.ticket_qr)
    assert amber.colour is Colour.AMBER and amber.tier == "BRONZE"
    set_language(Language.ARABIC)
    host = QWidget()
    qtbot.addWidget(host)
    card = VerdictCard(host)
    card.show_verdict(amber)
    assert card.headline.text().endswith(ARABIC["Re-entry: already scanned"])
    assert ARABIC["◆ Bronze"] in card.standing.text()
    assert "Bronze" not in card.standing.text()
    reason = card.reason.text()
    assert reason.startswith("مُسحت من قبل في ") and "بواسطة هذا الجهاز" in reason
    assert reason != amber.explanation


def test_prize_screen_names_the_stamp_card_tier_in_arabic(
    qtbot: QtBot, branch: Kiosk, world: World, settings: KioskSettings
) -> None:
    card_row = CardRow(
        offer_id=world.offer.id,
        user_id=world.attendees[3].user_id,
        current_stamps=5,
        rewards_claimed=5,
        last_activity_at=NOW - timedelta(days=2),
    )
    branch.cache.apply_page(world.page(cards=[card_row]), ack_mark=0)
    verdict = branch.require_prize().confirm_prize(world.attendees[3].passport_qr)
    assert verdict.tier == "🥇 Gold Member" and verdict.tier_ar == "🥇 عضو ذهبي"
    assert verdict.previous_tier_ar == "🥈 عضو فضي"

    set_language(Language.ARABIC)
    window = PrizeWindow(settings, sounds=Sounds(audible=False))
    qtbot.addWidget(window)
    window.show_verdict(CONFIRM_PRIZE, verdict)
    assert window.summary.text() == "0 من 5 • 🥇 عضو ذهبي • 6× مكتملة"
    assert window.celebration.text() == ARABIC["★ Tier up! Now {tier} ★"].format(tier="🥇 عضو ذهبي")
    card = VerdictCard(window)
    card.show_verdict(verdict)
    assert "🥇 عضو ذهبي" in card.standing.text()
    assert ARABIC["up from {tier}!"].format(tier="🥈 عضو فضي") in card.standing.text()
    assert card.headline.text().startswith("✔  تم تأكيد الجائزة: ")


def test_headlines_with_values_are_translated_and_english_is_untouched() -> None:
    welcome = Verdict(colour=Colour.GREEN, headline="Welcome, Aaliyah Joseph!")
    assert verdict_headline(welcome) == "Welcome, Aaliyah Joseph!"
    set_language(Language.ARABIC)
    assert verdict_headline(welcome) == "أهلاً وسهلاً، Aaliyah Joseph!"
    unknown = Verdict(colour=Colour.RED, headline="Something new the services say")
    assert verdict_headline(unknown) == "Something new the services say"
    assert tr("Pending {count}", count=3) == "قيد الإرسال 3"


def test_every_reason_has_an_arabic_sentence_with_the_same_placeholders() -> None:
    assert set(ARABIC_REASONS) == set(Reason)
    names = set().union(*(placeholders(text) for text in ARABIC_REASONS.values()))
    for reason, arabic in ARABIC_REASONS.items():
        english = explain(reason, {name: f"<{name}>" for name in names})
        used_in_english = {name for name in names if f"<{name}>" in english}
        assert placeholders(arabic) == used_in_english, reason


def _tr_literals(path: Path) -> dict[str, int]:
    """Every `tr("literal", ...)` call in a module: text → line."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "tr"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.setdefault(node.args[0].value, node.lineno)
    return found


def test_every_tr_string_in_kiosk_ui_has_an_arabic_entry() -> None:
    used = {
        (path.name, line, text) for path in UI_SOURCES for text, line in _tr_literals(path).items()
    }
    assert len(used) > 40  # the scan really finds the screens' strings
    missing = sorted(f"{name}:{line}: {text!r}" for name, line, text in used if text not in ARABIC)
    assert not missing, "no Arabic for:\n" + "\n".join(missing)


def test_arabic_entries_keep_the_english_placeholders() -> None:
    wrong = [
        english
        for english, arabic in ARABIC.items()
        if placeholders(english) != placeholders(arabic)
    ]
    assert not wrong, wrong
    not_arabic = [
        english for english, arabic in ARABIC.items() if not _ARABIC_LETTER.search(arabic)
    ]
    assert not not_arabic, not_arabic


def test_a_server_reason_is_arabic_when_it_needs_no_details() -> None:
    set_language(Language.ARABIC)
    assert (
        server_reason("duplicate_op", "This operation was already received.")
        == (ARABIC_REASONS[Reason.DUPLICATE_OP])
    )
    # A sentence with details keeps the server's words rather than lose them.
    assert server_reason("invalid_op", "bad gate") == "bad gate"
    assert server_reason("not_a_reason", None) == "not_a_reason"
