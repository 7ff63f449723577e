"""Kiosk mode's lock: with a PIN set, leaving the window asks for it first (in the screen).

The PIN is compared with `hmac.compare_digest`; a wrong one clears the field
and says so. Nothing here is a security boundary against someone with the
machine's keyboard and OS access; it stops a guest closing the door screen.
"""

from __future__ import annotations

import hmac

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.scanner._signals import emit


class PinLock(QFrame):
    """An in-window PIN prompt; `unlocked` when the right PIN is entered."""

    unlocked = Signal()

    def __init__(self, pin: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pin = pin
        self.setObjectName("panel")
        self.setStyleSheet("QFrame#panel { background: #262a31; border: 2px solid #5b626b; }")
        self.prompt = QLabel("Enter the PIN to leave kiosk mode")
        self.prompt.setStyleSheet("font-size: 24px; background: transparent;")
        self.entry = QLineEdit()
        self.entry.setEchoMode(QLineEdit.EchoMode.Password)
        self.entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.unlock = QPushButton("Unlock")
        self.cancel = QPushButton("Cancel")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.unlock)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(self.prompt)
        layout.addWidget(self.entry)
        layout.addLayout(buttons)
        self.unlock.clicked.connect(self.try_unlock)
        self.entry.returnPressed.connect(self.try_unlock)
        self.cancel.clicked.connect(self.hide)
        self.setFixedWidth(420)
        self.hide()

    def ask(self) -> None:
        """Show the prompt centred over the parent, with an empty field focused."""
        parent = self.parentWidget()
        self.entry.clear()
        self.prompt.setText("Enter the PIN to leave kiosk mode")
        self.adjustSize()
        if parent is not None:
            self.move((parent.width() - self.width()) // 2, (parent.height() - self.height()) // 2)
        self.show()
        self.raise_()
        self.entry.setFocus()

    def try_unlock(self) -> None:
        """Check the PIN typed; emit `unlocked` if it matches."""
        if hmac.compare_digest(self.entry.text().encode(), self._pin.encode()):
            self.hide()
            emit(self.unlocked)
            return
        self.entry.clear()
        self.prompt.setText("Wrong PIN. Try again.")
