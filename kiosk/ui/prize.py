"""The prize screen (touch-first): scan a pass, see the card, add a stamp or confirm a prize.

The card names the customer (display name and @handle), the offer and its
prize, "4 of 5", the tier with its icon and completions, and what the next
tier needs, in the chosen language. "Add stamp" is enabled for a card that is
not full; a second stamp on the same card moments later asks "Add another
stamp?" first; "Undo stamp" withdraws the last stamp for a short while
(`STAMP_UNDO_WINDOW`). "Confirm prize given: <prize>" only on a full card,
and it asks once more in the screen itself (never a dialog) before the
operation runs. A tier change after a prize shows a celebration banner. The
scanner and the wedge feed `submit_code` (a look-up); the cardholder search
finds a customer whose phone is dead and shows their card (stamps and prizes
still need the pass scanned).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
)

from core import limits
from kiosk.app import open_kiosk
from kiosk.scanner.worker import Scanner
from kiosk.services.prize import BranchActivity, CardholderMatch, PrizeService
from kiosk.services.status import KioskStatus
from kiosk.services.verdict import Colour, Verdict
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import SyncReport
from kiosk.ui.cardholder_search import CardholderSearch
from kiosk.ui.door import Chip
from kiosk.ui.i18n import (
    tier_name,
    tr,
    verdict_headline,
    verdict_reason,
)
from kiosk.ui.ops import StoreOp, StoreThread
from kiosk.ui.prize_card import CardPanel, describe_activity
from kiosk.ui.screen import ScannerScreen
from kiosk.ui.sounds import Sounds
from kiosk.ui.workers import SyncWorker

LOOK_UP = "look_up"
ADD_STAMP = "add_stamp"
ADD_STAMP_AGAIN = "add_stamp_again"  # the second yes after "Add another stamp?"
UNDO_STAMP = "undo_stamp"
CONFIRM_PRIZE = "confirm_prize"
LOOK_UP_HOLDER = "look_up_holder"  # a cardholder found by search (the code is a user id)


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
        self._asking: str | None = None  # the action the confirm bar's yes runs
        self._undo_code: str | None = None  # the pass whose last stamp "Undo" withdraws
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(int(limits.STAMP_UNDO_WINDOW.total_seconds() * 1000))
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

        panel = CardPanel()
        card = panel.column
        self.panel = panel
        self.customer, self.handle, self.offer = panel.customer, panel.handle, panel.offer
        self.stamps, self.summary, self.next_tier = panel.stamps, panel.summary, panel.next_tier
        self.message, self.celebration = panel.message, panel.celebration

        self.add_stamp = QPushButton(tr("Add stamp"))
        self.undo = QPushButton(tr("Undo stamp"))
        self.undo.hide()
        self.confirm = QPushButton(tr("Confirm prize given"))
        self.yes = QPushButton(tr("Yes, prize given"))
        self.cancel = QPushButton(tr("Cancel"))
        self.ask = QLabel("")
        self.ask.setWordWrap(True)
        self.ask.setStyleSheet("font-size: 24px; background: transparent;")
        self.yes.setStyleSheet("background: #0f5f2c;")
        for button in (self.add_stamp, self.undo, self.confirm, self.yes, self.cancel):
            button.setMinimumHeight(72)
        actions = QHBoxLayout()
        actions.addWidget(self.add_stamp)
        actions.addWidget(self.undo)
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
        self.search = CardholderSearch()
        left.addWidget(self.search)
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
        self.undo.clicked.connect(self.undo_stamp)
        self._undo_timer.timeout.connect(self._undo_expired)
        self.search.query_ready.connect(self.search_cardholders)
        self.search.chosen.connect(self.show_cardholder)
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
        if code != self._undo_code:
            self._undo_expired()
        self.code = code
        self._cancel_confirm()
        self.celebration.hide()
        self._act(LOOK_UP)

    @Slot(str)
    def show_cardholder(self, user_id: str) -> None:
        """A customer picked from the search: show their card (nothing can be written)."""
        self._undo_expired()
        self.code = None
        self._cancel_confirm()
        self.celebration.hide()
        holder = uuid.UUID(user_id)
        self._run(
            lambda prize: prize.look_up_holder(holder),
            lambda verdict: self.show_verdict(LOOK_UP_HOLDER, verdict),
        )

    @Slot(str)
    def search_cardholders(self, query: str) -> None:
        """Find the offer's cardholders by name or @handle in the cache; show the matches."""
        store = self.store

        def operation() -> list[CardholderMatch]:
            return store.kiosk().require_prize().search(query)

        StoreOp(operation).success(self.search.show_matches).failure(
            self.show_problem
        ).run_in_background(store)

    @Slot()
    def stamp(self) -> None:
        """Add a stamp to the card shown."""
        self._act(ADD_STAMP)

    @Slot()
    def undo_stamp(self) -> None:
        """Withdraw the last stamp this tablet gave the card (while the undo is offered)."""
        if self._undo_code is not None:
            self._act(UNDO_STAMP, self._undo_code)

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
        prize = self.verdict.card.prize or tr("the prize")
        self._ask(
            CONFIRM_PRIZE,
            tr("Give {prize} to {who}?", prize=prize, who=self._who()),
            tr("Yes, prize given"),
        )

    def _ask(self, action: str, question: str, yes: str) -> None:
        self._asking = action
        self.ask.setText(question)
        self.yes.setText(yes)
        self.confirm_bar.show()
        self._update_buttons()

    def _who(self) -> str:
        verdict = self.verdict
        if verdict is not None and verdict.display_name:
            return verdict.display_name
        if verdict is not None and verdict.handle:
            return f"@{verdict.handle}"
        return tr("this customer")

    @Slot()
    def _confirmed(self) -> None:
        action, self._asking = self._asking, None
        self.confirm_bar.hide()
        if action is not None:
            self._act(action)

    @Slot()
    def _cancel_confirm(self) -> None:
        if self._asking == ADD_STAMP_AGAIN:
            self.message.hide()  # "stamped just now" answered: no second stamp
        self._asking = None
        self.confirm_bar.hide()
        self._update_buttons()

    @Slot()
    def _undo_expired(self) -> None:
        self._undo_timer.stop()
        self._undo_code = None
        self.undo.hide()

    def _act(self, action: str, code: str | None = None) -> None:
        qr = code if code is not None else self.code
        if qr is None:
            return

        def work(prize: PrizeService) -> Verdict:
            operation: Callable[[str], Verdict] = {
                LOOK_UP: prize.look_up,
                ADD_STAMP: prize.add_stamp,
                ADD_STAMP_AGAIN: prize.stamp_again,
                UNDO_STAMP: prize.undo_stamp,
                CONFIRM_PRIZE: prize.confirm_prize,
            }[action]
            return operation(qr)

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
        """Show the card and what the action did; ask again, offer an undo, celebrate a tier-up."""
        if verdict.card is not None or verdict.colour is Colour.RED:
            self.verdict = verdict
        self._show_card(verdict)
        self._show_message(action, verdict)
        if verdict.needs_confirmation:
            self._ask(ADD_STAMP_AGAIN, tr("Add another stamp?"), tr("Yes, add another"))
        if action in (ADD_STAMP, ADD_STAMP_AGAIN) and verdict.op_id is not None:
            self._undo_code = self.code
            self.undo.show()
            self._undo_timer.start()
        elif (action == UNDO_STAMP and verdict.op_id is not None) or action == CONFIRM_PRIZE:
            self._undo_expired()
        if action == CONFIRM_PRIZE and verdict.tier_changed and verdict.tier:
            tier = tier_name(verdict.tier, verdict.tier_ar)
            self.celebration.setText(tr("★ Tier up! Now {tier} ★", tier=tier))
            self.celebration.show()
        if verdict.op_id is not None:
            self.sync.trigger()
        self._update_buttons()

    def _show_card(self, verdict: Verdict) -> None:
        self.panel.show_card(verdict)
        card = verdict.card
        if card is not None:
            self.confirm.setText(
                tr("Confirm prize given:\n{prize}", prize=card.prize)
                if card.prize
                else tr("Confirm prize given")
            )

    def _show_message(self, action: str, verdict: Verdict) -> None:
        if action == LOOK_UP_HOLDER and verdict.colour is Colour.GREEN:
            self.panel.set_message(
                Colour.AMBER, tr("Found by search: scan their pass to stamp it.")
            )
            return
        if action == LOOK_UP and verdict.colour is Colour.GREEN:
            self.message.hide()
            return
        if verdict.needs_confirmation:
            self.panel.set_message(Colour.AMBER, tr("This card was stamped just now."))
            self.sounds.play(verdict.colour)
            return
        words = verdict_reason(verdict) if verdict.colour is Colour.RED else None
        self.panel.set_message(verdict.colour, words or verdict_headline(verdict))
        self.sounds.play(verdict.colour)

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
        free = not self.confirm_bar.isVisibleTo(self)
        ready = card is not None and self.code is not None and free
        self.add_stamp.setEnabled(ready and card is not None and not card.full)
        self.confirm.setEnabled(ready and card is not None and card.full)
        self.undo.setEnabled(self._undo_code is not None and free)
