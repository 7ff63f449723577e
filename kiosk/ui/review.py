"""The review screen: this device's sync state and every op the server did not simply apply.

It reads `StatusService.get_status()` (which carries the problems: ops
`rejected` or in `conflict`, newest first, with the server's reason) on its
own database thread, and "Sync now" asks the sync worker for a cycle; each
finished cycle refreshes the screen.
"""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from kiosk.services.status import KioskStatus, Problem
from kiosk.settings import KioskSettings
from kiosk.ui.door import Chip
from kiosk.ui.i18n import server_reason, tr
from kiosk.ui.theme import STYLESHEET
from kiosk.ui.workers import StoreReader, SyncWorker, start_worker


def describe_problem(problem: Problem) -> str:
    """One line per problem: when, what, the outcome and the server's words."""
    when = problem.occurred_at.astimezone().strftime("%H:%M:%S")
    words = server_reason(problem.reason, problem.message)
    return f"{when}  {problem.type}  {tr(problem.state.upper())}  {words}"


class StatusWorker(StoreReader):
    """Reads the status with its problems (see `StoreReader` for the threading contract)."""

    status_ready = Signal(object)

    @Slot()
    def refresh(self) -> None:
        """Emit the current status with its problems."""
        self._with_store(
            lambda kiosk: self.status_ready.emit(kiosk.status.get_status(problems=100))
        )


class ReviewWindow(QWidget):
    """Sync status and problems; "Sync now" and "Refresh"."""

    refresh_requested = Signal()
    close_requested = Signal()

    def __init__(self, settings: KioskSettings, *, sync: SyncWorker | None = None) -> None:
        super().__init__()
        self.setWindowTitle(tr("Soca Passport — review"))
        self.setStyleSheet(STYLESHEET)
        self.worker = StatusWorker(settings)
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
        self.refresh_requested.connect(self.worker.refresh)
        self.close_requested.connect(self.worker.close)
        self.worker.status_ready.connect(self.show_status)
        self.worker.failed.connect(lambda message: self.summary.setText(f"⚠ {message}"))
        self.sync.report_ready.connect(lambda _report: self.refresh_requested.emit())
        self.sync.failed.connect(lambda message: self.summary.setText(f"⚠ {message}"))
        self.sync_now.clicked.connect(self.sync.trigger)
        self.refresh_button.clicked.connect(lambda: self.refresh_requested.emit())

    def start(self) -> None:
        """Start the status and sync threads, and show the status at once."""
        self._threads.append(start_worker(self.worker, self.worker.refresh, "kiosk-review"))
        self._threads.append(start_worker(self.sync, self.sync.run, "kiosk-sync"))

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop both threads; True when they ended within `timeout` seconds."""
        if self._stopped:
            return True
        self._stopped = True
        deadline = time.monotonic() + timeout
        self.sync.stop()
        self.close_requested.emit()
        ended = True
        for thread in self._threads:
            if shiboken6.isValid(thread):
                remaining = max(0, int((deadline - time.monotonic()) * 1000))
                ended = thread.wait(remaining) and ended
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
