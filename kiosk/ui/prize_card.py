"""The prize screen's card panel (who, which offer and prize, the stamps, the tier, a message)
and its recent-activity lines.

Built and updated on the GUI thread only (`show_card`, `set_message`); the
window adds its buttons below (`layout()`) and keeps the labels as its own
attributes, so tests and screenshots read `window.summary` and the like.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from core.cards import EntryKind
from kiosk.services.prize import BranchActivity
from kiosk.services.verdict import Colour, Verdict
from kiosk.ui.i18n import card_summary, next_tier_text, tr, verdict_headline
from kiosk.ui.theme import CARD_COLOURS

_ACTIVITY_STATES = {
    "pending": "⏳",
    "applied": "✔",
    "duplicate": "✔",
    "conflict": "⚠",
    "rejected": "✖",
}


def describe_activity(entry: BranchActivity) -> str:
    """One activity line: time, what was given, to whom, on which offer, and its sync mark."""
    when = entry.occurred_at.astimezone().strftime("%H:%M")
    what = {EntryKind.CLAIM.value: tr("Prize given"), "UNSTAMP": tr("Stamp undone")}.get(
        entry.kind, tr("Stamp")
    )
    mark = _ACTIVITY_STATES.get(entry.state, "")
    offer = f"\n{entry.offer}" if entry.offer else ""
    return f"{when}  {what} → {entry.customer}  {mark}{offer}"


_MESSAGE_STYLE = "font-size: 26px; border-radius: 10px; padding: 12px;"


def _label(style: str, text: str = "") -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setStyleSheet(f"{style} background: transparent;")
    return label


class CardPanel(QFrame):
    """The card as the customer and staff see it (labels, tier-up banner, message)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.customer = _label(
            "font-size: 34px; font-weight: 700;", tr("Scan a pass to see its card")
        )
        self.handle = _label("font-size: 22px; color: #b9c2d0;")
        self.offer = _label("font-size: 22px;")
        self.stamps = _label("font-size: 56px; letter-spacing: 6px;")
        self.summary = _label("font-size: 28px;")
        self.next_tier = _label("font-size: 22px; color: #b9c2d0;")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(_MESSAGE_STYLE)
        self.message.hide()
        self.celebration = QLabel("")
        self.celebration.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.celebration.setWordWrap(True)
        self.celebration.setStyleSheet(
            "font-size: 40px; font-weight: 800; background: #5b2a86; border-radius: 14px;"
            " padding: 18px;"
        )
        self.celebration.hide()
        self.column = QVBoxLayout(self)  # the window adds its buttons at the end
        self.column.setContentsMargins(28, 28, 28, 28)
        for label in self._card_labels():
            self.column.addWidget(label)
        self.column.addWidget(self.celebration)
        self.column.addWidget(self.message)
        self.column.addStretch(1)

    def _card_labels(self) -> tuple[QLabel, ...]:
        return (self.customer, self.handle, self.offer, self.stamps, self.summary, self.next_tier)

    def show_card(self, verdict: Verdict) -> None:
        """The verdict's card: name and @handle, offer and prize, stamps, tier, next tier."""
        card = verdict.card
        if card is None:
            for label in self._card_labels():
                label.setText("")
            self.customer.setText(verdict_headline(verdict))
            return
        handle = f"@{verdict.handle}" if verdict.handle else ""
        self.customer.setText(verdict.display_name or handle or tr("Customer"))
        self.handle.setText(handle if verdict.display_name else "")
        prize = tr("Prize: {prize}", prize=card.prize) if card.prize else ""
        self.offer.setText(" · ".join(part for part in (card.offer_name, prize) if part))
        empty = card.max_stamps - card.current_stamps
        self.stamps.setText("●" * card.current_stamps + "○" * empty)
        self.summary.setText(card_summary(card))
        self.next_tier.setText(next_tier_text(card))

    def set_message(self, colour: Colour, words: str) -> None:
        """A message under the card in the verdict's colours."""
        background, text = CARD_COLOURS[colour]
        self.message.setText(words)
        self.message.setStyleSheet(f"{_MESSAGE_STYLE} background: {background}; color: {text};")
        self.message.show()
