"""Kiosk mode's lock: with a PIN set, leaving the window asks for it first (in the screen).

The PIN is checked by a `PinGuard` (a stored scrypt hash from `soca-kiosk pin
set`, or a plain `--pin`); a wrong one clears the field and says so, and
after a few misses the next try has to wait (the button counts down). Nothing
here is a security boundary against someone with the machine's keyboard and
OS access; it stops a guest closing the door screen.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.services.pin import PinGuard
from kiosk.ui.i18n import tr


class PinLock(QFrame):
    """An in-window PIN prompt; `unlocked` when the right PIN is entered."""

    unlocked = Signal()

    def __init__(self, pin: str | PinGuard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.guard = pin if isinstance(pin, PinGuard) else PinGuard.from_pin(pin)
        self.setObjectName("panel")
        self.setStyleSheet("QFrame#panel { background: #262a31; border: 2px solid #5b626b; }")
        self.prompt = QLabel(tr("Enter the PIN to leave kiosk mode"))
        self.prompt.setStyleSheet("font-size: 24px; background: transparent;")
        self.prompt.setWordWrap(True)
        self.entry = QLineEdit()
        self.entry.setEchoMode(QLineEdit.EchoMode.Password)
        self.entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.unlock = QPushButton(tr("Unlock"))
        self.cancel = QPushButton(tr("Cancel"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.unlock)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(self.prompt)
        layout.addWidget(self.entry)
        layout.addLayout(buttons)
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick)
        self.unlock.clicked.connect(self.try_unlock)
        self.entry.returnPressed.connect(self.try_unlock)
        self.cancel.clicked.connect(self.hide)
        self.setFixedWidth(420)
        self.hide()

    def ask(self) -> None:
        """Show the prompt centred over the parent, with an empty field focused."""
        parent = self.parentWidget()
        self.entry.clear()
        if self.guard.wait_s() <= 0:
            self.prompt.setText(tr("Enter the PIN to leave kiosk mode"))
        self.adjustSize()
        if parent is not None:
            self.move((parent.width() - self.width()) // 2, (parent.height() - self.height()) // 2)
        self.show()
        self.raise_()
        self.entry.setFocus()

    def try_unlock(self) -> None:
        """Check the PIN typed: `unlocked` if it matches, else say so (and how long to wait)."""
        if not self.unlock.isEnabled():
            return
        result = self.guard.check(self.entry.text())
        self.entry.clear()
        if result.ok:
            self.hide()
            self.unlocked.emit()
            return
        if result.wait_s > 0:
            self._tick()
            self._countdown.start()
        else:
            self.prompt.setText(tr("Wrong PIN. Try again."))

    def _tick(self) -> None:
        seconds = math.ceil(self.guard.wait_s())
        if seconds <= 0:
            self._countdown.stop()
            self.unlock.setEnabled(True)
            self.entry.setEnabled(True)
            self.prompt.setText(tr("Wrong PIN. Try again."))
            self.entry.setFocus()
            return
        self.unlock.setEnabled(False)
        self.entry.setEnabled(False)
        self.prompt.setText(tr("Wrong PIN. Too many tries: wait {seconds} s.", seconds=seconds))


class KioskModeLock(QObject):
    """Kiosk mode for any window: its close is held until the PIN is entered in a `PinLock`.

    An event filter on the window: a close (the window manager's, Alt+F4,
    `close()`) is ignored and the prompt shown; the right PIN removes the
    filter and closes the window for real, so its own `closeEvent` runs.
    """

    def __init__(self, window: QWidget, pin: str | PinGuard) -> None:
        super().__init__(window)
        self.window = window
        self.lock = PinLock(pin, window)
        self.lock.unlocked.connect(self._release)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Hold the window's close events and ask for the PIN instead."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            event.ignore()
            self.lock.ask()
            return True
        return False

    def _release(self) -> None:
        self.window.removeEventFilter(self)
        self.window.close()
