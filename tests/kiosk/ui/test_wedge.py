"""The keyboard-wedge filter on real Qt key events, with a clock the test moves (no timing luck)."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from kiosk.ui.wedge import WedgeFilter


class Ticks:
    """A clock that moves `step` seconds per reading."""

    def __init__(self, step: float) -> None:
        self.step = step
        self._now = itertools.count()

    def __call__(self) -> float:
        return next(self._now) * self.step


@pytest.fixture
def box(qtbot: QtBot) -> QLineEdit:
    widget = QLineEdit()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)
    return widget


def _scanned(qtbot: QtBot, box: QLineEdit, ticks: Ticks, code: str) -> list[str]:
    wedge = WedgeFilter(clock=ticks)
    seen: list[str] = []
    wedge.code_scanned.connect(seen.append)
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(wedge)
    try:
        for char in code:
            if char.isupper():  # as a wedge types an upper-case letter: Shift, the key, release
                qtbot.keyPress(box, Qt.Key.Key_Shift)
                qtbot.keyClick(box, char, Qt.KeyboardModifier.ShiftModifier)
                qtbot.keyRelease(box, Qt.Key.Key_Shift)
            else:
                qtbot.keyClick(box, char)
        qtbot.keyClick(box, Qt.Key.Key_Return)
    finally:
        app.removeEventFilter(wedge)
    return seen


def test_shift_between_upper_case_letters_keeps_the_burst(qtbot: QtBot, box: QLineEdit) -> None:
    assert _scanned(qtbot, box, Ticks(0.002), "UN49-Y3NQ") == ["UN49-Y3NQ"]


def test_a_person_typing_slowly_with_shift_is_not_a_scan(qtbot: QtBot, box: QLineEdit) -> None:
    assert _scanned(qtbot, box, Ticks(0.2), "UN49-Y3NQ") == []
    assert box.text() == "UN49-Y3NQ"  # the keys reached the box untouched
