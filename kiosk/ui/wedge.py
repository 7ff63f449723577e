"""A USB keyboard-wedge scanner: fast keystrokes ending in Enter, caught for the whole app.

A wedge scanner "types" a code in a few milliseconds and presses Enter. The
filter is installed on the QApplication, so it works whatever has focus and
without clicking first. A keystroke counts only on its first delivery (to the
focus widget, or to the window when nothing has focus), not again as it
propagates to parents. A burst is kept only while keys come at most
`max_gap_s` apart; a person typing is slower, so their keys pass untouched.
The Enter that ends a burst of at least `min_length` characters is consumed
and `code_scanned(text)` is emitted; the keys themselves are never swallowed
(the window clears a search box the burst landed in).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class WedgeFilter(QObject):
    """Collects fast printable keystrokes; Enter after a burst emits the code."""

    code_scanned = Signal(str)

    def __init__(
        self,
        *,
        max_gap_s: float = 0.05,
        min_length: int = 4,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._max_gap_s = max_gap_s
        self._min_length = min_length
        self._clock = clock
        self._buffer: list[str] = []
        self._last = float("-inf")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Watch key presses at their first delivery; consume only a burst's Enter."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if not self._first_delivery(watched):
            return False
        now = self._clock()
        fast = now - self._last <= self._max_gap_s
        self._last = now
        if event.key() in _ENTER:
            code = "".join(self._buffer) if fast else ""
            self._buffer = []
            if len(code) >= self._min_length:
                self.code_scanned.emit(code)
                return True
            return False
        text = event.text()
        if not text or not text.isprintable():
            self._buffer = []
            return False
        if not fast:
            self._buffer = []
        self._buffer.append(text)
        return False

    @staticmethod
    def _first_delivery(watched: QObject) -> bool:
        if not isinstance(watched, QWidget):
            return False  # the QWindow's copy: the widget gets the same key next
        focus = QApplication.focusWidget()
        return watched is focus if focus is not None else watched.isWindow()
