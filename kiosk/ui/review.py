"""The review screen: this device's sync state and every op the server did not simply apply.

It reads `StatusService.get_status()` (which carries the problems: ops
`rejected` or in `conflict`, newest first, with the server's reason) on its
own store thread (a `StoreOp`), and "Sync now" asks the sync worker for a cycle; each
finished cycle refreshes the screen.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QThread, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from kiosk.app import open_kiosk
from kiosk.services.status import KioskStatus, Problem
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import SyncReport
from kiosk.ui.door import Chip
from kiosk.ui.i18n import server_reason, tr
from kiosk.ui.ops import StoreOp, StoreThread, wait_for_thread
from kiosk.ui.theme import STYLESHEET
from kiosk.ui.workers import SyncWorker, start_worker


def describe_problem(problem: Problem) -> str:
    """One line per problem: when, what, the outcome and the server's words."""
    when = problem.occurred_at.astimezone().strftime("%H:%M:%S")
    words = server_reason(problem.reason, problem.message)
    return f"{when}  {problem.type}  {tr(problem.state.upper())}  {words}"


class ReviewWindow(QWidget):
    """Sync status and problems; "Sync now" and "Refresh"."""

    def __init__(
        self,
        settings: KioskSettings,
        *,
        sync: SyncWorker | None = None,
        store: StoreThread | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(tr("Soca Passport — review"))
        self.setStyleSheet(STYLESHEET)
        self.settings = settings
        self._own_store = store is None
        self.store = store if store is not None else StoreThread("kiosk-review")
        self.sync = sync if sync is not None else SyncWorker.for_settings(settings)
        self.status: KioskStatus | None = None
        self._threads: list[QThread] = []
        self._stopped = False
        self.online = Chip("…")
        self.pending = Chip(tr("Pending —"))
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.summary.setWordWrap(True)
        self.problems = QListWidget()
        self.empty = QLabel(tr("No problems: every op the server saw was applied."))
        self.sync_now = QPushButton(tr("Sync now"))
        self.refresh_button = QPushButton(tr("Refresh"))
        strip = QHBoxLayout()
        title = QLabel(tr("<b>Review</b> · sync and problems"))
        title.setStyleSheet("font-size: 22px;")
        strip.addWidget(title)
        strip.addStretch(1)
        strip.addWidget(self.online)
        strip.addWidget(self.pending)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.sync_now)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.addLayout(strip)
        layout.addWidget(self.summary)
        layout.addWidget(self.empty)
        layout.addWidget(self.problems, 1)
        layout.addLayout(buttons)
        self.sync.report_ready.connect(self.on_sync_report)
        self.sync.failed.connect(self.show_problem)
        self.sync_now.clicked.connect(self.sync.trigger)
        self.refresh_button.clicked.connect(self.refresh)

    def start(self) -> None:
        """Start the store and sync threads, and show the status at once."""
        self.store.start(owner=self)
        self.refresh()
        self._threads.append(start_worker(self.sync, self.sync.run, "kiosk-sync"))

    @Slot()
    def refresh(self) -> None:
        """Read the status with its problems (on the store thread), then show it."""
        settings = self.settings

        def read() -> KioskStatus:
            with open_kiosk(settings) as kiosk:
                return kiosk.status.get_status(problems=100)

        StoreOp(read).success(self.show_status).failure(self.show_problem).run_in_background(
            self.store
        )

    @Slot(object)
    def on_sync_report(self, _report: SyncReport) -> None:
        """A sync cycle ended: read the status again."""
        self.refresh()

    @Slot(str)
    def show_problem(self, message: str) -> None:
        """A failure, in words, where the summary goes."""
        self.summary.setText(f"⚠ {message}")

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop both threads; True when they ended within `timeout` seconds."""
        if self._stopped:
            return True
        self._stopped = True
        deadline = time.monotonic() + timeout
        self.sync.stop()
        ended = not self._own_store or self.store.stop(timeout)
        for thread in self._threads:
            ended = wait_for_thread(thread, max(0.0, deadline - time.monotonic())) and ended
        self._threads.clear()
        return ended

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closing the window stops its threads."""
        self.stop()
        event.accept()

    @Slot(object)
    def show_status(self, status: KioskStatus) -> None:
        """Render the status and its problems."""
        self.status = status
        if status.online is None:
            self.online.set(tr("● Not synced yet"), "warn")
        else:
            online = bool(status.online)
            text = tr("● Online") if online else tr("● Offline")
            self.online.set(text, "good" if online else "bad")
        pending = tr("Pending {count}", count=status.pending)
        self.pending.set(pending, "warn" if status.pending else "")
        self.summary.setText(status.to_text())
        self.problems.clear()
        for problem in status.problems:
            self.problems.addItem(describe_problem(problem))
        self.empty.setVisible(not status.problems)
