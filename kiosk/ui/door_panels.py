"""Parts of the door screen: a search result's text, the manual check-in's confirmation, and
"this kiosk is revoked".

Both render and emit; the door window decides what their buttons do.
`ConfirmCheckIn` sits under the search results: a tap on a ticket asks "Check
in Aaliyah Joseph?" before anything is written, because a tap on the wrong
row of a long list admits the wrong person. `RevokedScreen` covers the whole
window once the server has revoked this device: the door admits nobody (the
service refuses every scan), and the screen says what to do.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.services.search import TicketMatch
from kiosk.ui.i18n import tr


def clock_time(moment: datetime | None) -> str:
    """A time on the door's clock ("21:04:05"), or "never"."""
    return tr("never") if moment is None else moment.astimezone().strftime("%H:%M:%S")


def describe_match(match: TicketMatch) -> str:
    """One search result: the name; handle and code; whether it is already in.

    Three short lines rather than one long one: a wrapped line makes the list
    clip the item and hide the state line beneath it.
    """
    name = match.holder_name or tr("(no name)")
    details = "   ".join(
        part for part in (f"@{match.handle}" if match.handle else "", match.code) if part
    )
    line = f"{name}\n{details}" if details else name
    if match.revoked:
        state = tr("✖ revoked")
    elif match.checked_in_at is not None:
        when = clock_time(match.checked_in_at)
        state = tr("⚠ in {time} at {gate}", time=when, gate=match.checked_in_gate or "?")
    else:
        state = tr("→ tap to check in")
    return f"{line}\n{state}"


class ConfirmCheckIn(QFrame):
    """ "Check in <name>?" with Check in / Cancel; `confirmed(ticket_id)` on yes."""

    confirmed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setStyleSheet("QFrame#panel { border: 2px solid #2e7d4f; }")
        self.question = QLabel()
        self.question.setWordWrap(True)
        self.question.setStyleSheet("font-size: 22px; background: transparent;")
        self.yes = QPushButton(tr("Check in"))
        self.yes.setStyleSheet("background: #16452a;")
        self.no = QPushButton(tr("Cancel"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.no)
        buttons.addWidget(self.yes)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(buttons)
        self.ticket_id: str | None = None
        self.yes.clicked.connect(self._confirm)
        self.no.clicked.connect(self.dismiss)
        self.hide()

    def ask(self, match: TicketMatch) -> None:
        """Ask to check this ticket in (replacing any question still open)."""
        name = match.holder_name or (f"@{match.handle}" if match.handle else match.code or "?")
        self.ticket_id = str(match.ticket_id)
        self.question.setText(tr("Check in {name} by hand?", name=name))
        self.show()
        self.yes.setFocus()

    def dismiss(self) -> None:
        """Close the question without checking anyone in."""
        self.ticket_id = None
        self.hide()

    def _confirm(self) -> None:
        ticket_id = self.ticket_id
        self.dismiss()
        if ticket_id is not None:
            self.confirmed.emit(ticket_id)


class RevokedScreen(QFrame):
    """Covers the whole door window: this kiosk was revoked and lets nobody in."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("revokedScreen")
        self.setStyleSheet(
            "QFrame#revokedScreen { background: #5a1010; }"
            " QLabel { background: transparent; color: #ffffff; }"
        )
        self.headline = QLabel(tr("✖ This kiosk has been revoked"))
        self.headline.setStyleSheet("font-size: 56px; font-weight: 800;")
        self.advice = QLabel(
            tr(
                "It admits nobody. Scans made before are kept and are sent once it is "
                "paired again: ask HQ or the promoter for a new pairing code "
                "(soca-kiosk setup)."
            )
        )
        self.advice.setStyleSheet("font-size: 28px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(64, 64, 64, 64)
        layout.addStretch(1)
        for label in (self.headline, self.advice):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addStretch(1)
        self.hide()

    def cover(self) -> None:
        """Show over the whole window, above the verdict card."""
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()
