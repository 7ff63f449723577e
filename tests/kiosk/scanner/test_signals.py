"""The PySide6 wheel keeps its references: nothing-returning calls, emits and disconnects.

PySide6 6.12.0's `cp310-abi3` wheel, on Python 3.11, returned `None`, `True`
and `False` without taking a reference (the limited-API `Py_RETURN_*` bug,
gh-134989), so every `setText`, `emit()` and `disconnect()` lowered a count
until the interpreter aborted with "none_dealloc". pyproject pins a clean
release; this test fails CI if a future wheel brings the defect back.
"""

from __future__ import annotations

import sys
import warnings

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

CALLS = 1000
TOLERANCE = 20  # other objects may come and go meanwhile; a leak moves by about 1000


class Pinger(QObject):
    ping = Signal(str)


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def test_a_thousand_qt_calls_leave_none_true_and_false_alone(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    pinger = Pinger()
    received: list[str] = []
    before = _counts()
    for _ in range(CALLS):
        label.setText("frame")  # returns nothing: None
        label.setVisible(False)
        pinger.ping.connect(received.append)
        pinger.ping.emit("frame")  # returns a bool
        pinger.ping.disconnect(received.append)  # returns a bool
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(CALLS):
            pinger.ping.disconnect(received.append)  # nothing connected: False
    after = _counts()
    assert len(received) == CALLS
    for name, start, end in zip(("None", "True", "False"), before, after, strict=True):
        assert abs(end - start) <= TOLERANCE, f"{name}: {start} -> {end}"
