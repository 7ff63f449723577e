"""The door screen: camera preview, verdict card, counters, sync status, search with check-in.

The window renders and wires; every action (scan, check in, search,
refresh) is one `StoreOp` on the window's store thread, whose result comes
back to a method here on the GUI thread. The camera (`Scanner`), the wedge
filter, a ticket code typed in the search box and the search list (after
"Check in … by hand?") all feed the same `submit_code` / `check_in` path.
Without a camera the screen works by wedge and search and tries the camera
again every few seconds; a revoked kiosk is covered by `RevokedScreen`.
`stop()` (and closing the window) ends the scanner, sync and store threads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.app import open_kiosk
from kiosk.errors import CameraNotFound, KioskError
from kiosk.scanner.sources import FrameSource
from kiosk.scanner.worker import Scanner, ScannerState
from kiosk.services.door import DoorService
from kiosk.services.pin import PinGuard
from kiosk.services.search import TicketMatch, looks_like_ticket_code
from kiosk.services.verdict import Verdict
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import SyncReport
from kiosk.ui.counters import CountersPanel
from kiosk.ui.door_panels import ConfirmCheckIn, RevokedScreen, clock_time, describe_match
from kiosk.ui.i18n import tr
from kiosk.ui.lock import PinLock
from kiosk.ui.ops import StoreOp, StoreThread
from kiosk.ui.screen import ScannerScreen
from kiosk.ui.sounds import Sounds
from kiosk.ui.verdict_card import VerdictCard
from kiosk.ui.workers import DoorSnapshot, SyncWorker, door_snapshot

T = TypeVar("T")
KEPT_ERRORS = 100


class Chip(QLabel):
    """A small status label whose colour follows its state (good, warn, bad, or plain)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("statusChip")

    def set(self, text: str, state: str = "") -> None:
        """Show `text` in `state`'s colour."""
        self.setText(text)
        self.setProperty("state", state)
        self.style().unpolish(self)
        self.style().polish(self)


class DoorWindow(ScannerScreen):
    """The door kiosk's window. `start()` starts its threads; `stop()` or closing ends them."""

    verdict_shown = Signal(object)

    def __init__(
        self,
        settings: KioskSettings,
        source: FrameSource | None,
        *,
        scanner: Scanner | None = None,
        sounds: Sounds | None = None,
        sync: SyncWorker | None = None,
        clear_after_ms: int = 4000,
        install_wedge: bool = True,
        pin: str | PinGuard | None = None,
        camera_retry_ms: int = 3000,
    ) -> None:
        super().__init__(
            StoreThread("kiosk-database", open_store=lambda: open_kiosk(settings)),
            sync=sync if sync is not None else SyncWorker.for_settings(settings),
            sounds=sounds,
            install_wedge=install_wedge,
        )
        self.settings = settings
        self.setWindowTitle(tr("Soca Passport — door ({gate})", gate=settings.gate))
        self.scanner = scanner or (Scanner(source, parent=self) if source is not None else None)
        self.snapshot: DoorSnapshot | None = None
        self.last_report: SyncReport | None = None
        self.scanner_state = "idle"
        self.errors: list[str] = []  # the latest KEPT_ERRORS failures shown
        self._unlocked = pin is None
        self._matches: dict[str, TicketMatch] = {}
        self._build(clear_after_ms)
        self._camera_timer = QTimer(self)  # a camera plugged in later is picked up
        self._camera_timer.setInterval(camera_retry_ms)
        self.lock = PinLock(pin or "", self)
        self.lock.unlocked.connect(self._unlock_and_close)
        self._wire()

    # ------------------------------------------------------------------ layout

    def _build(self, clear_after_ms: int) -> None:
        self.online = Chip(tr("Starting…"))
        self.pending = Chip(tr("Pending —"))
        self.last_sync = Chip(tr("Last sync —"))
        self.clock_warning = Chip()
        self.clock_warning.hide()
        self.camera = Chip(tr("Camera —"))
        self.problem = Chip()
        self.problem.hide()
        strip = QHBoxLayout()
        self.title = QLabel(tr("<b>Door</b> · {gate}", gate=self.settings.gate))
        self.title.setStyleSheet("font-size: 22px;")
        strip.addWidget(self.title)
        strip.addStretch(1)
        for chip in (self.camera, self.online, self.pending, self.last_sync, self.clock_warning):
            strip.addWidget(chip)

        self.preview = QLabel(tr("No camera"))
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(QSize(480, 270))

        self.counters = CountersPanel()
        self.device_count = self.counters.device_count
        self.gate_count = self.counters.gate_count
        self.event_count = self.counters.event_count

        left = QVBoxLayout()
        left.addWidget(self.preview, 1)
        left.addWidget(self.counters)

        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText(tr("Search name, @handle or ticket code"))
        self.results = QListWidget()
        self.results.setMinimumWidth(380)
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        hint = QLabel(tr("Code won't read? Search, then tap a ticket to check it in."))
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.search_box)
        right.addWidget(hint)
        right.addWidget(self.results, 1)
        self.confirm = ConfirmCheckIn(self)
        right.addWidget(self.confirm)
        right.addWidget(self.problem)

        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 16)
        root.addLayout(strip)
        root.addLayout(body, 1)

        self.card = VerdictCard(self, clear_after_ms=clear_after_ms)
        self.revoked_screen = RevokedScreen(self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)

    def _wire(self) -> None:
        self.sync.report_ready.connect(self.on_sync_report)
        self.sync.failed.connect(self.show_problem)
        self.wedge.code_scanned.connect(self.on_wedge_code)
        self.search_box.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._search)
        self.search_box.returnPressed.connect(self.on_search_entered)
        self.results.itemClicked.connect(self.on_result_clicked)
        self.confirm.confirmed.connect(self.check_in)
        self._clock_timer.timeout.connect(self._tick)
        self._camera_timer.timeout.connect(self._retry_camera)
        self._wire_scanner()

    # ------------------------------------------------------------------ life

    def _on_start(self) -> None:
        self._clock_timer.start()
        self.refresh()

    def _on_stop(self) -> None:
        self._clock_timer.stop()
        self._camera_timer.stop()
        self.card.clear()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closing the window stops its threads; in kiosk mode (a PIN) it asks for the PIN first."""
        if not self._unlocked:
            event.ignore()
            self.lock.ask()
            return
        super().closeEvent(event)

    def _unlock_and_close(self) -> None:
        self._unlocked = True
        self.close()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Keep the verdict card over the whole window."""
        super().resizeEvent(event)
        self.card.setGeometry(self.rect())
        self.revoked_screen.setGeometry(self.rect())

    # ------------------------------------------------------------------ inputs

    @Slot(str)
    def submit_code(self, code: str) -> None:
        """Run the door's scan operation on a scanned code (camera or wedge)."""
        self._door_op(lambda door: door.scan(code), self.show_verdict)

    @Slot(str)
    def on_wedge_code(self, code: str) -> None:
        """A wedge scan: clear the search box if the burst landed in it, then scan."""
        text = self.search_box.text()
        if text.endswith(code):
            self.search_box.setText(text[: -len(code)])
        self.submit_code(code)

    @Slot()
    def on_search_entered(self) -> None:
        """Enter in the search box: a printed ticket code typed by hand is scanned."""
        text = self.search_box.text()
        if looks_like_ticket_code(text):
            self.search_box.clear()
            self.submit_code(text)

    @Slot(QListWidgetItem)
    def on_result_clicked(self, item: QListWidgetItem) -> None:
        """A tap on a search result asks to confirm checking that ticket in by hand."""
        match = self._matches.get(str(item.data(Qt.ItemDataRole.UserRole)))
        if match is not None:
            self.confirm.ask(match)

    @Slot(str)
    def check_in(self, ticket_id: str) -> None:
        """Run the door's manual check-in of `ticket_id` (confirmed by the door person)."""
        self._door_op(lambda door: door.check_in(uuid.UUID(ticket_id)), self.show_verdict)

    def refresh(self) -> None:
        """Fetch the strip's status and counters."""
        self._door_op(lambda _door: None, None)

    def _search(self) -> None:
        query = self.search_box.text()
        if not query.strip():
            self.show_matches([])
            return
        store = self.store
        StoreOp(lambda: store.kiosk().require_search().search(query)).success(
            self.show_matches
        ).failure(self.show_problem).run_in_background(store)

    def _door_op(
        self, work: Callable[[DoorService], T], show: Callable[[T], object] | None
    ) -> None:
        """Run `work` on the store thread, then show its result and a fresh snapshot."""
        store = self.store

        def operation() -> tuple[T, DoorSnapshot]:
            kiosk = store.kiosk()
            value = work(kiosk.require_door())
            return value, door_snapshot(kiosk)

        def done(outcome: tuple[T, DoorSnapshot]) -> None:
            if show is not None:
                show(outcome[0])
            self.show_snapshot(outcome[1])

        StoreOp(operation).success(done).failure(self.show_problem).run_in_background(store)

    # ------------------------------------------------------------------ outputs

    @Slot(object)
    def show_verdict(self, verdict: Verdict) -> None:
        """Fill the window with the verdict, play its sound, and sync soon if an op was written."""
        self.card.show_verdict(verdict)
        self.sounds.play(verdict.colour)
        if verdict.op_id is not None:
            self.sync.trigger()
        if verdict.open_search:  # the way out is a search by name: put the cursor there
            self.search_box.setFocus()
            self.search_box.selectAll()
        if self.search_box.text().strip():
            self._search()
        self.verdict_shown.emit(verdict)

    @Slot(object)
    def show_matches(self, matches: list[TicketMatch]) -> None:
        """List search results, each carrying its ticket id."""
        self.results.clear()
        self._matches = {str(match.ticket_id): match for match in matches}
        for match in matches:
            item = QListWidgetItem(describe_match(match))
            item.setData(Qt.ItemDataRole.UserRole, str(match.ticket_id))
            self.results.addItem(item)

    @Slot(object)
    def show_snapshot(self, snapshot: DoorSnapshot) -> None:
        """Counters, online/offline, pending, last sync and the clock warning."""
        self.snapshot = snapshot
        status = snapshot.status
        self.counters.show_counters(snapshot.counters)
        gate = self.settings.gate
        if status.event_name:
            self.title.setText(
                tr("<b>Door</b> · {gate} · {event}", gate=gate, event=status.event_name)
            )
        if status.revoked:
            self.revoked_screen.cover()
            self.confirm.dismiss()
            self.online.set(tr("● Revoked"), "bad")
        elif status.online is None:
            self.online.set(tr("● Not synced yet"), "warn")
        elif status.online:
            self.online.set(
                tr("● Online via venue hub" if status.via == "hub" else "● Online"), "good"
            )
        else:
            self.online.set(tr("● Offline"), "bad")
        pending = tr("Pending {count}", count=status.pending)
        self.pending.set(pending, "warn" if status.pending else "")
        self.last_sync.set(tr("Last sync {time}", time=clock_time(status.last_success_at)))
        if status.clock_warning:
            offset = status.clock_offset_s
            self.clock_warning.set(tr("⚠ Clock off by {offset:+.0f} s", offset=offset), "bad")
            self.clock_warning.show()
        else:
            self.clock_warning.hide()

    @Slot(object)
    def on_sync_report(self, report: SyncReport) -> None:
        """A sync cycle ended: refresh what the strip shows."""
        self.last_report = report
        self.refresh()

    @Slot(str)
    def on_scanner_state(self, state: str) -> None:
        """Show the camera's state."""
        self.scanner_state = state
        labels = {
            ScannerState.RUNNING: (tr("Camera on"), "good"),
            ScannerState.CAMERA_LOST: (tr("Camera lost"), "bad"),
            ScannerState.RECOVERING: (tr("Camera reconnecting…"), "warn"),
            ScannerState.STOPPED: (tr("Camera stopped"), "warn"),
            ScannerState.ERROR: (tr("Camera error"), "bad"),
        }
        text, tone = labels.get(ScannerState(state), (state, ""))
        self.camera.set(text, tone)

    def on_camera_missing(self, message: str) -> None:
        """No camera: the door works by wedge and search; a camera plugged in later is tried."""
        del message  # "No camera found at index 0 ..." is for a command line; say it for the door
        self.scanner_state = "no_camera"
        self.camera.set(tr("No camera"), "warn")
        self.preview.setText(
            tr(
                "No camera: scan with the handheld scanner, or search by name.\n"
                "A camera plugged in is picked up by itself."
            )
        )
        self._camera_timer.start()

    def _retry_camera(self) -> None:
        if self.scanner is None or self.scanner.running:
            self._camera_timer.stop()
            return
        try:
            self.scanner.start()
        except CameraNotFound:
            return  # still none: try again on the next tick
        except KioskError as exc:
            self._camera_timer.stop()
            self.on_scanner_error(exc.message)
            return
        self._camera_timer.stop()
        self.preview.setText(tr("Camera on"))

    @Slot(str)
    def on_scanner_error(self, message: str) -> None:
        """A camera or decoder failure is shown, never swallowed."""
        self.scanner_state = ScannerState.ERROR.value
        self.camera.set(tr("Camera error"), "bad")
        self.preview.setText(message)
        self.show_problem(message)

    @Slot(str)
    def show_problem(self, message: str) -> None:
        """Show a worker's failure under the search list."""
        self.errors.append(message)
        del self.errors[:-KEPT_ERRORS]
        self.problem.set(f"⚠ {message}", "bad")
        self.problem.setWordWrap(True)
        self.problem.show()

    def _tick(self) -> None:
        if self.snapshot is None:
            self.refresh()
