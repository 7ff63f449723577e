"""What the door and prize screens share: starting and stopping their threads, and the preview.

A `ScannerScreen` runs, beside the GUI thread, its store thread (the one
`Kiosk`, where every `StoreOp` runs), the sync worker, the scanner's capture and decode
threads, and the keyboard-wedge filter. A subclass builds its widgets (among
them `preview`, the label camera frames are painted in), wires its own
signals, and supplies what a scanned code does (`submit_code`) and how a
failure is shown (`show_problem`); the lifecycle is the same for every screen.
"""

from __future__ import annotations

import logging
import time

import shiboken6
from PySide6.QtCore import Qt, QThread, Slot
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from kiosk.errors import KioskError
from kiosk.scanner.worker import Scanner
from kiosk.ui.ops import StoreThread, wait_for_thread
from kiosk.ui.sounds import Sounds
from kiosk.ui.theme import STYLESHEET
from kiosk.ui.wedge import WedgeFilter
from kiosk.ui.workers import SyncWorker, start_worker

logger = logging.getLogger(__name__)


class ScannerScreen(QWidget):
    """A screen fed by a camera and a wedge: `start()` starts its threads; closing stops them.

    Threading contract: built, started and stopped in the GUI thread.
    `start()` starts the store thread (the store opens there on the first
    operation), starts the sync worker's thread, installs the wedge filter on the
    application and starts the scanner; a missing camera becomes
    `on_scanner_error(message)`, and the screen still works by wedge and by
    hand. `stop()` (closing the window calls it) asks every thread to end at
    once (flags, and the store thread's close queued after its operations)
    and then waits for all of them; it runs once, and returns False (and logs)
    when a thread outlived `timeout` seconds, but never leaves one running. The
    scanner's signals arrive in the GUI thread: `code_accepted` →
    `submit_code`, `frame_ready` → `show_frame`, `state_changed` →
    `on_scanner_state`, `error_occurred` → `on_scanner_error`, once a
    subclass has called `_wire_scanner()`. Subclasses may extend `_on_start`
    and `_on_stop` (run in the GUI thread just before the scanner starts and
    just after the wedge filter is removed).
    """

    preview: QLabel  # built by the subclass: where camera frames are painted

    def __init__(
        self,
        store: StoreThread,
        *,
        sync: SyncWorker,
        sounds: Sounds | None = None,
        install_wedge: bool = True,
    ) -> None:
        super().__init__()
        self.setStyleSheet(STYLESHEET)
        self.sounds = sounds if sounds is not None else Sounds(parent=self)
        self.sync = sync
        self.wedge = WedgeFilter(parent=self)
        self.scanner: Scanner | None = None
        self.store = store
        self._install_wedge = install_wedge
        self._threads: list[QThread] = []
        self._stopped = False

    def _wire_scanner(self) -> None:
        """Connect the scanner's signals to this screen's slots (after `scanner` is set)."""
        if self.scanner is None:
            return
        self.scanner.code_accepted.connect(self.submit_code)
        self.scanner.frame_ready.connect(self.show_frame)
        self.scanner.state_changed.connect(self.on_scanner_state)
        self.scanner.error_occurred.connect(self.on_scanner_error)

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Start the database and sync threads, the wedge filter and the scanner."""
        self.store.start(owner=self)
        self._threads.append(start_worker(self.sync, self.sync.run, "kiosk-sync"))
        if self._install_wedge:
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self.wedge)
        self._on_start()
        if self.scanner is not None:
            try:
                self.scanner.start()
            except KioskError as exc:
                self.on_scanner_error(exc.message)

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop every thread; True when all ended within `timeout` seconds."""
        if self._stopped:
            return True
        self._stopped = True
        deadline = time.monotonic() + timeout
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.wedge)
        self._on_stop()
        # Ask everyone first, then wait: the threads wind down side by side, not one by one.
        self.sync.stop()
        ended = True
        if self.scanner is not None:
            ended = self.scanner.stop(timeout=timeout) and ended
            while not self.scanner.stop(timeout=1.0):  # a running QThread must never be dropped
                logger.warning("the scanner's threads are still running: waiting")
        ended = self.store.stop(max(0.0, deadline - time.monotonic())) and ended
        for thread in self._threads:
            ended = wait_for_thread(thread, max(0.0, deadline - time.monotonic())) and ended
        self._threads.clear()
        if not ended:
            logger.warning(
                "%s threads did not all stop within %.1f s", type(self).__name__, timeout
            )
        self.sounds.close()
        return ended

    def threads_running(self) -> bool:
        """True while any of the screen's threads is still running."""
        running = any(t.isRunning() for t in self._threads if shiboken6.isValid(t))
        scanning = self.scanner is not None and self.scanner.running
        return running or scanning or self.store.running()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closing the window stops its threads."""
        self.stop()
        event.accept()

    def _on_start(self) -> None:
        """Start what else the screen runs (timers); called by `start()`."""

    def _on_stop(self) -> None:
        """Stop what `_on_start` started and put the screen at rest; called by `stop()`."""

    # ------------------------------------------------------------------ scanner

    @Slot(str)
    def submit_code(self, code: str) -> None:
        """What a scanned code (camera or wedge) does on this screen."""
        raise NotImplementedError

    @Slot(str)
    def show_problem(self, message: str) -> None:
        """Show a worker's failure."""
        raise NotImplementedError

    @Slot(str)
    def on_scanner_state(self, state: str) -> None:
        """The camera's state changed (a `ScannerState` value); shown where a screen has room."""

    @Slot(str)
    def on_scanner_error(self, message: str) -> None:
        """A camera or decoder failure is shown, never swallowed."""
        self.show_problem(message)

    @Slot(QImage)
    def show_frame(self, image: QImage) -> None:
        """Paint the newest camera preview, fitted to the preview area.

        The scanner is told the area's size, so previews arrive already fitted
        (shrunk on the capture thread) and are handed to the label as they are;
        one that does not fit (the first, or the first after a resize) is
        scaled here.
        """
        area = self.preview.size()
        pixmap = QPixmap.fromImage(image)
        fits = pixmap.width() <= area.width() and pixmap.height() <= area.height()
        if not fits or (pixmap.width() < area.width() and pixmap.height() < area.height()):
            pixmap = pixmap.scaled(
                area, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
        self.preview.setPixmap(pixmap)
        if self.scanner is not None:
            self.scanner.fit_previews(area.width(), area.height())
