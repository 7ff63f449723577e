"""The prize screen (touch-first): scan a pass, see the card, add a stamp or confirm a prize.

"Add stamp" is enabled for a card that is not full; "Confirm prize given"
only on a full card, and it asks once more in the screen itself (never a
dialog) before the operation runs. A tier change after a prize shows a
celebration banner. The scanner and the wedge feed `submit_code` (a look-up).
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import Qt, QThread, Signal, Slot
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.errors import KioskError
from kiosk.scanner._signals import emit
from kiosk.scanner.worker import Scanner
from kiosk.services.status import KioskStatus
from kiosk.services.verdict import Colour, Verdict
from kiosk.settings import KioskSettings
from kiosk.ui.door import Chip
from kiosk.ui.prize_worker import ADD_STAMP, CONFIRM_PRIZE, LOOK_UP, PrizeWorker
from kiosk.ui.sounds import Sounds
from kiosk.ui.theme import CARD_COLOURS, STYLESHEET
from kiosk.ui.wedge import WedgeFilter
from kiosk.ui.workers import SyncWorker, start_worker


class PrizeWindow(QWidget):
    """A branch kiosk's prize screen. `start()` starts its threads; closing stops them."""

    action_requested = Signal(str, str)
    refresh_requested = Signal()
    close_requested = Signal()

    def __init__(
        self,
        settings: KioskSettings,
        *,
        scanner: Scanner | None = None,
        sounds: Sounds | None = None,
        sync: SyncWorker | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Soca Passport — prize")
        self.setStyleSheet(STYLESHEET)
        self.sounds = sounds if sounds is not None else Sounds(parent=self)
        self.scanner = scanner
        self.worker = PrizeWorker(settings)
        self.sync = sync if sync is not None else SyncWorker.for_settings(settings)
        self.wedge = WedgeFilter(parent=self)
        self.code: str | None = None
        self.verdict: Verdict | None = None
        self.status: KioskStatus | None = None
        self._threads: list[QThread] = []
        self._stopped = False
        self._build()
        self._wire()

    def _build(self) -> None:
        self.online = Chip("Starting…")
        self.pending = Chip("Pending —")
        self.problem = Chip()
        self.problem.hide()
        strip = QHBoxLayout()
        title = QLabel("<b>Prize</b> · stamp card")
        title.setStyleSheet("font-size: 22px;")
        strip.addWidget(title)
        strip.addStretch(1)
        strip.addWidget(self.online)
        strip.addWidget(self.pending)

        self.preview = QLabel("Scan the customer's pass")
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(360, 240)

        panel = QFrame()
        panel.setObjectName("panel")
        card = QVBoxLayout(panel)
        card.setContentsMargins(28, 28, 28, 28)
        self.customer = QLabel("Scan a pass to see its card")
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

        self.add_stamp = QPushButton("Add stamp")
        self.confirm = QPushButton("Confirm prize given")
        self.yes = QPushButton("Yes, prize given")
        self.cancel = QPushButton("Cancel")
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
        left.addWidget(self.problem)
        body.addLayout(left, 2)
        body.addWidget(panel, 3)
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 16)
        root.addLayout(strip)
        root.addLayout(body, 1)
        self._update_buttons()

    def _wire(self) -> None:
        self.action_requested.connect(self.worker.act)
        self.refresh_requested.connect(self.worker.refresh)
        self.close_requested.connect(self.worker.close)
        self.worker.verdict_ready.connect(self.show_verdict)
        self.worker.status_ready.connect(self.show_status)
        self.worker.failed.connect(self.show_problem)
        self.sync.report_ready.connect(lambda _report: emit(self.refresh_requested))
        self.sync.failed.connect(self.show_problem)
        self.wedge.code_scanned.connect(self.submit_code)
        self.add_stamp.clicked.connect(lambda: self._act(ADD_STAMP))
        self.confirm.clicked.connect(self.ask_to_confirm)
        self.yes.clicked.connect(self._confirmed)
        self.cancel.clicked.connect(self._cancel_confirm)
        if self.scanner is not None:
            self.scanner.code_accepted.connect(self.submit_code)
            self.scanner.frame_ready.connect(self.show_frame)
            self.scanner.error_occurred.connect(self.show_problem)

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Start the database and sync threads, the scanner and the wedge filter."""
        self._threads.append(start_worker(self.worker, self.worker.open, "kiosk-prize-db"))
        self._threads.append(start_worker(self.sync, self.sync.run, "kiosk-sync"))
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.wedge)
        if self.scanner is not None:
            try:
                self.scanner.start()
            except KioskError as exc:
                self.show_problem(exc.message)

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop every thread; True when all ended within `timeout` seconds."""
        if self._stopped:
            return True
        self._stopped = True
        deadline = time.monotonic() + timeout
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.wedge)
        ended = True
        if self.scanner is not None:
            ended = self.scanner.stop(timeout=timeout) and ended
        self.sync.stop()
        emit(self.close_requested)
        for thread in self._threads:
            if shiboken6.isValid(thread):
                remaining = max(0, int((deadline - time.monotonic()) * 1000))
                ended = thread.wait(remaining) and ended
        self.sounds.close()
        return ended

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closing the window stops its threads."""
        self.stop()
        event.accept()

    # ------------------------------------------------------------------ actions

    @Slot(str)
    def submit_code(self, code: str) -> None:
        """A scanned pass: look its card up (writes nothing)."""
        self.code = code
        self._cancel_confirm()
        self.celebration.hide()
        emit(self.action_requested, LOOK_UP, code)

    def ask_to_confirm(self) -> None:
        """The confirmation step before a prize is recorded."""
        if self.verdict is None or self.verdict.card is None or not self.verdict.card.full:
            return
        who = f"@{self.verdict.handle}" if self.verdict.handle else "this customer"
        self.ask.setText(f"Give the prize to {who}?")
        self.confirm_bar.show()
        self._update_buttons()

    def _confirmed(self) -> None:
        self.confirm_bar.hide()
        self._act(CONFIRM_PRIZE)

    def _cancel_confirm(self) -> None:
        self.confirm_bar.hide()
        self._update_buttons()

    def _act(self, action: str) -> None:
        if self.code is not None:
            emit(self.action_requested, action, self.code)

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
            self.summary.setText(card.summary)
        else:
            self.customer.setText(verdict.headline)
            self.stamps.setText("")
            self.summary.setText("")
        if action != LOOK_UP or verdict.colour is not Colour.GREEN:
            background, text = CARD_COLOURS[verdict.colour]
            words = verdict.explanation if verdict.colour is not Colour.GREEN else None
            self.message.setText(words or verdict.headline)
            self.message.setStyleSheet(
                f"font-size: 26px; border-radius: 10px; padding: 12px;"
                f" background: {background}; color: {text};"
            )
            self.message.show()
            self.sounds.play(verdict.colour)
        else:
            self.message.hide()
        if action == CONFIRM_PRIZE and verdict.tier_changed and verdict.tier:
            self.celebration.setText(f"★ Tier up! Now {verdict.tier} ★")
            self.celebration.show()
        if verdict.op_id is not None:
            self.sync.trigger()
        self._update_buttons()

    @Slot(object)
    def show_status(self, status: KioskStatus) -> None:
        """Online/offline and pending ops."""
        self.status = status
        if status.online is None:
            self.online.set("● Not synced yet", "warn")
        else:
            self.online.set(
                "● Online" if status.online else "● Offline", "good" if status.online else "bad"
            )
        self.pending.set(f"Pending {status.pending}", "warn" if status.pending else "")

    @Slot(QImage)
    def show_frame(self, image: QImage) -> None:
        """Paint the newest camera preview."""
        self.preview.setPixmap(
            QPixmap.fromImage(image).scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio)
        )

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
