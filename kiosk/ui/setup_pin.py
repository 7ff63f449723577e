"""The setup screen's kiosk-mode panel: set the PIN (typed twice), or turn kiosk mode off.

It renders and asks: `pin_requested(pin, again)` and `clear_requested()` go to
the setup worker, which checks and stores the PIN (`kiosk.services.setup.set_pin`);
what it answers comes back through `show_result` and the next `SetupState`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from kiosk.ui.i18n import tr


class PinPanel(QFrame):
    """Kiosk mode: on or off, and the fields to set a new PIN."""

    pin_requested = Signal(str, str)
    clear_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.state = QLabel(tr("Kiosk mode: off."))
        self.state.setWordWrap(True)
        self.pin = QLineEdit()
        self.again = QLineEdit()
        for field, hint in ((self.pin, tr("New PIN")), (self.again, tr("PIN again"))):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setPlaceholderText(hint)
        self.set_button = QPushButton(tr("Set PIN"))
        self.clear_button = QPushButton(tr("Turn kiosk mode off"))
        self.result = QLabel("")
        self.result.setWordWrap(True)
        fields = QHBoxLayout()
        fields.addWidget(self.pin)
        fields.addWidget(self.again)
        fields.addWidget(self.set_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{tr('Kiosk mode')}</b>"))
        layout.addWidget(self.state)
        layout.addLayout(fields)
        layout.addWidget(self.clear_button)
        layout.addWidget(self.result)
        self.set_button.clicked.connect(self._ask_set)
        self.again.returnPressed.connect(self._ask_set)
        self.clear_button.clicked.connect(self._ask_clear)
        self.show_pin_state(paired=False, pin_set=False)

    def show_pin_state(self, *, paired: bool, pin_set: bool) -> None:
        """Whether kiosk mode is on; the fields work only on a paired kiosk."""
        if not paired:
            self.state.setText(tr("Pair this kiosk first, then set a PIN for kiosk mode."))
        elif pin_set:
            self.state.setText(tr("Kiosk mode: on — a PIN is needed to leave the screen."))
        else:
            self.state.setText(tr("Kiosk mode: off. Set a PIN to open full screen."))
        for widget in (self.pin, self.again, self.set_button):
            widget.setEnabled(paired)
        self.clear_button.setEnabled(paired and pin_set)

    def show_result(self, message: str) -> None:
        """What the last request did, in words."""
        self.result.setText(message)

    def _ask_set(self) -> None:
        pin, again = self.pin.text(), self.again.text()
        self.pin.clear()
        self.again.clear()
        self.result.setText(tr("Saving…"))
        self.pin_requested.emit(pin, again)

    def _ask_clear(self) -> None:
        self.result.setText(tr("Saving…"))
        self.clear_requested.emit()
