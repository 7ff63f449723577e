"""The prize screen (touch-first): scan a pass, see the card, add a stamp or confirm a prize.

"Add stamp" is enabled for a card that is not full; "Confirm prize given"
only on a full card, and it asks once more in the screen itself (never a
dialog) before the operation runs. A tier change after a prize shows a
celebration banner. The scanner and the wedge feed `submit_code` (a look-up).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
)

from core.cards import EntryKind
from kiosk.app import open_kiosk
from kiosk.scanner.worker import Scanner
from kiosk.services.prize import BranchActivity, PrizeService
from kiosk.services.status import KioskStatus
from kiosk.services.verdict import Colour, Verdict
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import SyncReport
from kiosk.ui.door import Chip
from kiosk.ui.i18n import card_summary, tier_name, tr, verdict_headline, verdict_reason
from kiosk.ui.ops import StoreOp, StoreThread
from kiosk.ui.screen import ScannerScreen
from kiosk.ui.sounds import Sounds
from kiosk.ui.theme import CARD_COLOURS
from kiosk.ui.workers import SyncWorker

LOOK_UP = "look_up"
ADD_STAMP = "add_stamp"
CONFIRM_PRIZE = "confirm_prize"

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
    what = tr("Prize given") if entry.kind is EntryKind.CLAIM else tr("Stamp")
    mark = _ACTIVITY_STATES.get(entry.state, "")
    offer = f"\n{entry.offer}" if entry.offer else ""
    return f"{when}  {what} → {entry.customer}  {mark}{offer}"


class PrizeWindow(ScannerScreen):
    """A branch kiosk's prize screen. `start()` starts its threads; closing stops them."""

    def __init__(
        self,
        settings: KioskSettings,
        *,
        scanner: Scanner | None = None,
        sounds: Sounds | None = None,
        sync: SyncWorker | None = None,
    ) -> None:
        super().__init__(
            StoreThread("kiosk-prize-db", open_store=lambda: open_kiosk(settings)),
            sync=sync if sync is not None else SyncWorker.for_settings(settings),
            sounds=sounds,
        )
        self.setWindowTitle(tr("Soca Passport — prize"))
        self.scanner = scanner
        self.code: str | None = None
        self.verdict: Verdict | None = None
        self.status: KioskStatus | None = None
        self._build()
        self._wire()

    def _build(self) -> None:
        self.online = Chip(tr("Starting…"))
        self.pending = Chip(tr("Pending —"))
        self.problem = Chip()
        self.problem.hide()
        strip = QHBoxLayout()
        title = QLabel(tr("<b>Prize</b> · stamp card"))
        title.setStyleSheet("font-size: 22px;")
        strip.addWidget(title)
        strip.addStretch(1)
        strip.addWidget(self.online)
        strip.addWidget(self.pending)

        self.preview = QLabel(tr("Scan the customer's pass"))
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(360, 240)

        panel = QFrame()
        panel.setObjectName("panel")
        card = QVBoxLayout(panel)
        card.setContentsMargins(28, 28, 28, 28)
        self.customer = QLabel(tr("Scan a pass to see its card"))
        self.customer.setStyleSheet("font-size: 34px; font-weight: 700;")
        self.stamps = QLabel("")
        self.stamps.setStyleSheet("font-size: 56px; letter-spacing: 6px;")
        self.summary = QLabel("")
        self.summary.setStyleSheet("font-size: 28px;")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 26px; border-radius: 10px; padding: 12px;")
        self.message.hide()
        self.celebration = QLabel("")
        self.celebration.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.celebration.setWordWrap(True)
        self.celebration.setStyleSheet(
            "font-size: 40px; font-weight: 800; background: #5b2a86; border-radius: 14px;"
            " padding: 18px;"
        )
        self.celebration.hide()
        for label in (self.customer, self.stamps, self.summary):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            label.setStyleSheet(label.styleSheet() + " background: transparent;")
            card.addWidget(label)
        card.addWidget(self.celebration)
        card.addWidget(self.message)
        card.addStretch(1)

        self.add_stamp = QPushButton(tr("Add stamp"))
        self.confirm = QPushButton(tr("Confirm prize given"))
        self.yes = QPushButton(tr("Yes, prize given"))
        self.cancel = QPushButton(tr("Cancel"))
        self.ask = QLabel("")
        self.ask.setStyleSheet("font-size: 24px; background: transparent;")
        self.yes.setStyleSheet("background: #0f5f2c;")
        for button in (self.add_stamp, self.confirm, self.yes, self.cancel):
            button.setMinimumHeight(72)
        actions = QHBoxLayout()
        actions.addWidget(self.add_stamp)
        actions.addWidget(self.confirm)
        confirm_row = QHBoxLayout()
        confirm_row.addWidget(self.ask, 1)
        confirm_row.addWidget(self.cancel)
        confirm_row.addWidget(self.yes)
        self.confirm_bar = QFrame()
        self.confirm_bar.setLayout(confirm_row)
        self.confirm_bar.hide()
        card.addLayout(actions)
        card.addWidget(self.confirm_bar)

        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.preview, 1)
        activity_title = QLabel(tr("Recent activity"))
        activity_title.setObjectName("muted")
        left.addWidget(activity_title)
        self.activity = QListWidget()
        self.activity.setMaximumHeight(220)
        self.activity.setWordWrap(True)
        self.activity.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left.addWidget(self.activity)
        left.addWidget(self.problem)
        body.addLayout(left, 2)
        body.addWidget(panel, 3)
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 16)
        root.addLayout(strip)
        root.addLayout(body, 1)
        self._update_buttons()

    def _wire(self) -> None:
        self.sync.report_ready.connect(self.on_sync_report)
        self.sync.failed.connect(self.show_problem)
        self.wedge.code_scanned.connect(self.submit_code)
        self.add_stamp.clicked.connect(self.stamp)
        self.confirm.clicked.connect(self.ask_to_confirm)
        self.yes.clicked.connect(self._confirmed)
        self.cancel.clicked.connect(self._cancel_confirm)
        self._wire_scanner()

    def _on_start(self) -> None:
        self.refresh()

    # ------------------------------------------------------------------ actions

    @Slot(str)
    def submit_code(self, code: str) -> None:
        """A scanned pass: look its card up (writes nothing)."""
        self.code = code
        self._cancel_confirm()
        self.celebration.hide()
        self._act(LOOK_UP)

    @Slot()
    def stamp(self) -> None:
        """Add a stamp to the card shown."""
        self._act(ADD_STAMP)

    @Slot()
    def refresh(self) -> None:
        """Fetch the sync status and this tablet's recent activity."""
        self._run(lambda _prize: None)

    @Slot(object)
    def on_sync_report(self, _report: SyncReport) -> None:
        """A sync cycle ended: refresh the status and activity."""
        self.refresh()

    def ask_to_confirm(self) -> None:
        """The confirmation step before a prize is recorded."""
        if self.verdict is None or self.verdict.card is None or not self.verdict.card.full:
            return
        who = f"@{self.verdict.handle}" if self.verdict.handle else tr("this customer")
        self.ask.setText(tr("Give the prize to {who}?", who=who))
        self.confirm_bar.show()
        self._update_buttons()

    def _confirmed(self) -> None:
        self.confirm_bar.hide()
        self._act(CONFIRM_PRIZE)

    def _cancel_confirm(self) -> None:
        self.confirm_bar.hide()
        self._update_buttons()

    def _act(self, action: str) -> None:
        code = self.code
        if code is None:
            return

        def work(prize: PrizeService) -> Verdict:
            operation = {
                LOOK_UP: prize.look_up,
                ADD_STAMP: prize.add_stamp,
                CONFIRM_PRIZE: prize.confirm_prize,
            }[action]
            return operation(code)

        self._run(work, lambda verdict: self.show_verdict(action, verdict))

    def _run(
        self,
        work: Callable[[PrizeService], Verdict | None],
        show: Callable[[Verdict], object] | None = None,
    ) -> None:
        """Run `work` on the store thread, then show its verdict, the status and activity."""
        store = self.store

        def operation() -> tuple[Verdict | None, KioskStatus, list[BranchActivity]]:
            kiosk = store.kiosk()
            prize = kiosk.require_prize()
            verdict = work(prize)
            return verdict, kiosk.status.get_status(), prize.recent_activity()

        def done(outcome: tuple[Verdict | None, KioskStatus, list[BranchActivity]]) -> None:
            verdict, status, activity = outcome
            if show is not None and verdict is not None:
                show(verdict)
            self.show_status(status)
            self.show_activity(activity)

        StoreOp(operation).success(done).failure(self.show_problem).run_in_background(store)

    # ------------------------------------------------------------------ outputs

    @Slot(str, object)
    def show_verdict(self, action: str, verdict: Verdict) -> None:
        """Show the card and what the action did; celebrate a tier-up."""
        if verdict.card is not None or verdict.colour is Colour.RED:
            self.verdict = verdict
        card = verdict.card
        if card is not None:
            self.customer.setText(f"@{verdict.handle}" if verdict.handle else card.offer_name)
            self.stamps.setText(
                "●" * card.current_stamps + "○" * (card.max_stamps - card.current_stamps)
            )
            self.summary.setText(card_summary(card))
        else:
            self.customer.setText(verdict_headline(verdict))
            self.stamps.setText("")
            self.summary.setText("")
        if action != LOOK_UP or verdict.colour is not Colour.GREEN:
            background, text = CARD_COLOURS[verdict.colour]
            words = verdict_reason(verdict) if verdict.colour is not Colour.GREEN else None
            self.message.setText(words or verdict_headline(verdict))
            self.message.setStyleSheet(
                f"font-size: 26px; border-radius: 10px; padding: 12px;"
                f" background: {background}; color: {text};"
            )
            self.message.show()
            self.sounds.play(verdict.colour)
        else:
            self.message.hide()
        if action == CONFIRM_PRIZE and verdict.tier_changed and verdict.tier:
            tier = tier_name(verdict.tier, verdict.tier_ar)
            self.celebration.setText(tr("★ Tier up! Now {tier} ★", tier=tier))
            self.celebration.show()
        if verdict.op_id is not None:
            self.sync.trigger()
        self._update_buttons()

    @Slot(object)
    def show_activity(self, activity: list[BranchActivity]) -> None:
        """This tablet's latest stamps and prizes, newest first, each with its sync state."""
        self.activity.clear()
        for entry in activity:
            self.activity.addItem(describe_activity(entry))
        if not activity:
            self.activity.addItem(tr("No stamps or prizes yet on this tablet."))

    @Slot(object)
    def show_status(self, status: KioskStatus) -> None:
        """Online/offline and pending ops."""
        self.status = status
        if status.online is None:
            self.online.set(tr("● Not synced yet"), "warn")
        else:
            self.online.set(
                tr("● Online") if status.online else tr("● Offline"),
                "good" if status.online else "bad",
            )
        pending = tr("Pending {count}", count=status.pending)
        self.pending.set(pending, "warn" if status.pending else "")

    @Slot(str)
    def show_problem(self, message: str) -> None:
        """A worker's failure, shown."""
        self.problem.set(f"⚠ {message}", "bad")
        self.problem.setWordWrap(True)
        self.problem.show()

    def _update_buttons(self) -> None:
        card = self.verdict.card if self.verdict is not None else None
        asking = self.confirm_bar.isVisibleTo(self)
        self.add_stamp.setEnabled(card is not None and not card.full and not asking)
        self.confirm.setEnabled(card is not None and card.full and not asking)
