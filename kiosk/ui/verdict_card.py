"""The verdict card: fills the window in green, amber or red; clears itself; never stacks.

It renders a `Verdict` and nothing else: handle and name, tier, points, and on
amber or red the reason in plain words, all in the kiosk's language
(`kiosk.ui.i18n`). A new verdict replaces the one shown (and restarts the
timer); a tap or the timer hides it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from kiosk.services.verdict import Colour, Verdict
from kiosk.ui.i18n import is_arabic, tr, verdict_headline, verdict_reason
from kiosk.ui.theme import CARD_COLOURS

# Glyphs every stock font has (DejaVu): a kiosk without an emoji font must not show boxes.
TIER_BADGES = {"BRONZE": "◆ Bronze", "SILVER": "◆ Silver", "GOLD": "★ Gold", "ELITE": "♛ Elite"}
SYMBOLS = {Colour.GREEN: "✔", Colour.AMBER: "⚠", Colour.RED: "✖"}


def tier_badge(tier: str | None, tier_ar: str | None = None) -> str:
    """The badge of a tier ("★ Gold" for GOLD) in the kiosk's language; else the tier's label.

    `tier_ar` is a stamp-card tier's own Arabic label, shown when the kiosk speaks Arabic.
    """
    if tier is None:
        return ""
    if tier.upper() in TIER_BADGES:
        return tr(TIER_BADGES[tier.upper()])
    if is_arabic() and tier_ar:
        return tier_ar
    return tier.title()


def who(verdict: Verdict) -> str:
    """ "@handle · Display Name", whichever parts are known."""
    parts = [f"@{verdict.handle}" if verdict.handle else "", verdict.display_name or ""]
    return "  ·  ".join(part for part in parts if part)


def standing(verdict: Verdict) -> str:
    """The tier and points line, e.g. "★ Gold · 1,000 pts (+100)"."""
    parts = [tier_badge(verdict.tier, verdict.tier_ar)]
    if verdict.points is not None:
        earned = f" (+{verdict.points_earned})" if verdict.points_earned else ""
        parts.append(tr("{points} pts", points=f"{verdict.points:,}") + earned)
    if verdict.tier_changed and verdict.previous_tier:
        previous = tier_badge(verdict.previous_tier, verdict.previous_tier_ar)
        parts.append(tr("up from {tier}!", tier=previous))
    return "  ·  ".join(part for part in parts if part)


class VerdictCard(QFrame):
    """A full-window card; `shown_verdict` is what it shows now (None when hidden)."""

    cleared = Signal()

    def __init__(self, parent: QWidget, *, clear_after_ms: int = 4000) -> None:
        super().__init__(parent)
        self.setObjectName("verdictCard")
        self.shown_verdict: Verdict | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(clear_after_ms)
        self._timer.timeout.connect(self.clear)
        self.headline = self._label(64, bold=True)
        self.who = self._label(44, bold=True)
        self.standing = self._label(36)
        self.reason = self._label(34)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.addStretch(1)
        for label in (self.headline, self.who, self.standing, self.reason):
            layout.addWidget(label)
        layout.addStretch(1)
        self.hide()

    def _label(self, size: int, *, bold: bool = False) -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet(
            f"font-size: {size}px; {'font-weight: 800;' if bold else ''} background: transparent;"
        )
        return label

    def show_verdict(self, verdict: Verdict) -> None:
        """Show `verdict` over the whole window (replacing any shown) and restart the timer."""
        background, text = CARD_COLOURS[verdict.colour]
        self.setStyleSheet(
            f"QFrame#verdictCard {{ background: {background}; border-radius: 0; }}"
            f" QLabel {{ color: {text}; }}"
        )
        self.headline.setText(f"{SYMBOLS[verdict.colour]}  {verdict_headline(verdict)}")
        self.who.setText(who(verdict))
        self.standing.setText(standing(verdict))
        reason = verdict_reason(verdict) if verdict.colour is not Colour.GREEN else ""
        self.reason.setText(reason)
        for label in (self.who, self.standing, self.reason):
            label.setVisible(bool(label.text()))
        self.shown_verdict = verdict
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()
        self._timer.start()

    def clear(self) -> None:
        """Hide the card."""
        self._timer.stop()
        was_shown = self.shown_verdict is not None
        self.shown_verdict = None
        self.hide()
        if was_shown:
            self.cleared.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """A tap clears the card."""
        self.clear()
        event.accept()
