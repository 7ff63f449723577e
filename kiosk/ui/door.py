"""The door screen: camera preview, verdict card, counters, sync status, search with check-in.

The window renders and wires; every action is one operation on the
`DatabaseWorker` (scan, check in, search, refresh), reached by a queued
signal. The camera (`Scanner`), the wedge filter and the search list all feed
the same `submit_code` / `check_in` path. `stop()` (and closing the window)
ends the scanner, sync and database threads within about a second.
"""

from __future__ import annotations

from datetime import datetime

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

from kiosk.scanner._signals import emit
from kiosk.scanner.sources import FrameSource
from kiosk.scanner.worker import Scanner, ScannerState
from kiosk.services.pin import PinGuard
from kiosk.services.search import TicketMatch
from kiosk.services.verdict import Verdict
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import SyncReport
from kiosk.ui.counters import CountersPanel
from kiosk.ui.i18n import tr
from kiosk.ui.lock import PinLock
from kiosk.ui.screen import ScannerScreen
from kiosk.ui.sounds import Sounds
from kiosk.ui.verdict_card import VerdictCard
from kiosk.ui.workers import DatabaseWorker, DoorSnapshot, SyncWorker


def _clock_time(moment: datetime | None) -> str:
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
        when = _clock_time(match.checked_in_at)
        state = tr("⚠ in {time} at {gate}", time=when, gate=match.checked_in_gate or "?")
    else:
        state = tr("→ tap to check in")
    return f"{line}\n{state}"


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

    scan_requested = Signal(str)
    check_in_requested = Signal(str)
    search_requested = Signal(str)
    refresh_requested = Signal()

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
    ) -> None:
        database = DatabaseWorker(settings)
        super().__init__(
            database,
            thread_name="kiosk-database",
            sync=sync if sync is not None else SyncWorker.for_settings(settings),
            sounds=sounds,
            install_wedge=install_wedge,
        )
        self.database = database
        self.settings = settings
        self.setWindowTitle(tr("Soca Passport — door ({gate})", gate=settings.gate))
        self.scanner = scanner or (Scanner(source, parent=self) if source is not None else None)
        self.snapshot: DoorSnapshot | None = None
        self.last_report: SyncReport | None = None
        self.scanner_state = "idle"
        self.errors: list[str] = []
        self._unlocked = pin is None
        self._build(clear_after_ms)
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
        title = QLabel(tr("<b>Door</b> · {gate}", gate=self.settings.gate))
        title.setStyleSheet("font-size: 22px;")
        strip.addWidget(title)
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
        right.addWidget(self.problem)

        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 12, 16, 16)
        root.addLayout(strip)
        root.addLayout(body, 1)

        self.card = VerdictCard(self, clear_after_ms=clear_after_ms)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)

    def _wire(self) -> None:
        database = self.database
        self.scan_requested.connect(database.scan)
        self.check_in_requested.connect(database.check_in)
        self.search_requested.connect(database.search)
        self.refresh_requested.connect(database.refresh)
        database.verdict_ready.connect(self.show_verdict)
        database.matches_ready.connect(self.show_matches)
        database.snapshot_ready.connect(self.show_snapshot)
        database.failed.connect(self.show_problem)
        self.sync.report_ready.connect(self.on_sync_report)
        self.sync.failed.connect(self.show_problem)
        self.wedge.code_scanned.connect(self.on_wedge_code)
        self.search_box.textChanged.connect(lambda _text: self._search_timer.start())
        self._search_timer.timeout.connect(
            lambda: emit(self.search_requested, self.search_box.text())
        )
        self.results.itemClicked.connect(self.on_result_clicked)
        self._clock_timer.timeout.connect(self._tick)
        self._wire_scanner()

    # ------------------------------------------------------------------ life

    def _on_start(self) -> None:
        self._clock_timer.start()

    def _on_stop(self) -> None:
        self._clock_timer.stop()
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

    # ------------------------------------------------------------------ inputs

    @Slot(str)
    def submit_code(self, code: str) -> None:
        """Send a scanned code (camera or wedge) to the door's scan operation."""
        emit(self.scan_requested, code)

    @Slot(str)
    def on_wedge_code(self, code: str) -> None:
        """A wedge scan: clear the search box if the burst landed in it, then scan."""
        text = self.search_box.text()
        if text.endswith(code):
            self.search_box.setText(text[: -len(code)])
        self.submit_code(code)

    @Slot(QListWidgetItem)
    def on_result_clicked(self, item: QListWidgetItem) -> None:
        """One tap on a search result checks that ticket in."""
        ticket_id = item.data(Qt.ItemDataRole.UserRole)
        if ticket_id:
            emit(self.check_in_requested, str(ticket_id))

    # ------------------------------------------------------------------ outputs

    @Slot(object)
    def show_verdict(self, verdict: Verdict) -> None:
        """Fill the window with the verdict, play its sound, and sync soon if an op was written."""
        self.card.show_verdict(verdict)
        self.sounds.play(verdict.colour)
        if verdict.op_id is not None:
            self.sync.trigger()
        if self.search_box.text().strip():
            emit(self.search_requested, self.search_box.text())

    @Slot(object)
    def show_matches(self, matches: list[TicketMatch]) -> None:
        """List search results, each carrying its ticket id."""
        self.results.clear()
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
        if status.revoked:
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
        self.last_sync.set(tr("Last sync {time}", time=_clock_time(status.last_success_at)))
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
        emit(self.refresh_requested)

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
        self.problem.set(f"⚠ {message}", "bad")
        self.problem.setWordWrap(True)
        self.problem.show()

    def _tick(self) -> None:
        if self.snapshot is None:
            emit(self.refresh_requested)
