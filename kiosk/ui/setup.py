"""The setup screen: pair (typed code or pairing QR), choose the mode and its scope, see the sync.

Every operation is one call into `kiosk.app` / `kiosk.services.setup`, run
as a `StoreOp` on the window's store thread (pairing and syncing talk to the
network, reading the state and saving the choices open the store); results
come back to methods here on the GUI thread. The pairing QR is read by the same `Scanner` as the door screen,
from a `FrameSource` the `camera` factory opens only when asked; its raw text
goes to `parse_pairing_qr`, so a ticket held up by mistake is a plain error.
The device's role comes from the pairing code, so the mode and scope offered
are the ones that role allows (`allowed_modes`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.app import open_kiosk, pair_device, sync_once
from kiosk.errors import KioskError
from kiosk.scanner.sources import FrameSource
from kiosk.scanner.worker import Scanner
from kiosk.services.headless import ScanMode
from kiosk.services.setup import SetupState, get_setup_state, parse_pairing_qr, save_choices
from kiosk.services.status import KioskStatus
from kiosk.settings import KioskSettings
from kiosk.ui.door import Chip
from kiosk.ui.i18n import tr
from kiosk.ui.ops import StoreOp, StoreThread, describe_error
from kiosk.ui.theme import STYLESHEET

CameraFactory = Callable[[], FrameSource]
STATUS_REFRESH_MS = 5000


def mode_label(mode: ScanMode) -> str:
    """A mode as a person reads it."""
    labels = {
        ScanMode.DOOR: tr("Door: scan tickets at a gate"),
        ScanMode.PRIZE: tr("Prize: stamp cards and give prizes"),
        ScanMode.REVIEW: tr("Review: attendance and sync problems"),
    }
    return labels[mode]


@dataclass(frozen=True, slots=True)
class Choices:
    """What the form asks `save_choices` to keep."""

    mode: ScanMode
    gate: str | None
    offer_id: uuid.UUID | None


def read_state(settings: KioskSettings) -> SetupState:
    """The setup state as the store holds it now (store thread)."""
    with open_kiosk(settings) as kiosk:
        return get_setup_state(
            settings, config=kiosk.config, cache=kiosk.cache, status=kiosk.status.get_status()
        )


def read_status(settings: KioskSettings) -> KioskStatus:
    """The sync state alone (store thread)."""
    with open_kiosk(settings) as kiosk:
        return kiosk.status.get_status()


@dataclass(frozen=True, slots=True)
class Paired:
    """What pairing gave: the role, rows of the first sync, its failure if any, the new state."""

    role: str
    rows: int
    problem: str | None
    state: SetupState


def pair_and_sync(settings: KioskSettings, server: str, code: str, name: str) -> Paired:
    """`pair_device`, then a first sync (a failed sync is reported, the pairing stands)."""
    config = pair_device(settings, server_url=server, code=code, name=name or None)
    rows, problem = 0, None
    try:
        report = sync_once(settings)
        rows, problem = report.rows, report.error
    except Exception as exc:
        problem = describe_error(exc)
    return Paired(config.role.value, rows, problem, read_state(settings))


def save_and_read(settings: KioskSettings, choices: Choices) -> SetupState:
    """`save_choices`, then the new state."""
    with open_kiosk(settings) as kiosk:
        save_choices(
            settings,
            cache=kiosk.cache,
            mode=choices.mode,
            gate=choices.gate,
            offer_id=choices.offer_id,
        )
    return read_state(settings)


def sync_and_read(settings: KioskSettings) -> tuple[str | None, SetupState]:
    """One sync cycle now: its failure if any, and the new state."""
    report = sync_once(settings)
    return report.error, read_state(settings)


class SetupWindow(QWidget):
    """Pair, choose mode and scope, see the sync state; `paired(role)` and `saved(mode)`."""

    paired = Signal(str)
    saved = Signal(str)

    def __init__(
        self,
        settings: KioskSettings,
        *,
        server: str = "",
        camera: CameraFactory | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.camera = camera
        self.scanner: Scanner | None = None
        self.state: SetupState | None = None
        self._busy = False
        self._stopped = False
        self.setWindowTitle(tr("Soca Passport — set up this kiosk"))
        self.setStyleSheet(STYLESHEET)
        self._build(server)
        self.store = StoreThread("kiosk-setup")
        self.store.start(owner=self)
        self._wire()
        self.refresh()
        self._status_timer = QTimer(self)  # pending ops and the last sync change behind our back
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()

    # ------------------------------------------------------------------ layout

    def _build(self, server: str) -> None:
        title = QLabel(f"<b>{tr('Set up this kiosk')}</b>")
        title.setStyleSheet("font-size: 30px;")

        self.server = QLineEdit(server)
        self.server.setPlaceholderText("http://server:8000")
        self.code = QLineEdit()
        self.code.setPlaceholderText("XXXX-XXXX")
        self.name = QLineEdit(self.settings.device_name)
        self.pair_button = QPushButton(tr("Pair this kiosk"))
        self.scan_button = QPushButton(tr("Scan pairing QR"))
        self.scan_button.setEnabled(self.camera is not None)
        self.preview = QLabel(tr("Hold the pairing QR up to the camera"))
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(360, 240)
        self.preview.hide()
        self.result = QLabel(tr("Ask HQ, your promoter or branch manager for a pairing code."))
        self.result.setWordWrap(True)
        pairing = QFrame()
        pairing.setObjectName("panel")
        form = QFormLayout()
        form.addRow(tr("Server"), self.server)
        form.addRow(tr("Pairing code"), self.code)
        form.addRow(tr("Device name"), self.name)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pair_button)
        buttons.addWidget(self.scan_button)
        pairing_layout = QVBoxLayout(pairing)
        pairing_layout.addWidget(QLabel(f"<b>{tr('1. Pair')}</b>"))
        pairing_layout.addLayout(form)
        pairing_layout.addLayout(buttons)
        pairing_layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        pairing_layout.addWidget(self.result)
        pairing_layout.addStretch(1)

        self.device = QLabel(tr("Not paired yet."))
        self.device.setWordWrap(True)
        self.mode = QComboBox()
        self.event_label = QLabel("—")
        self.gate = QLineEdit()
        self.gate.setPlaceholderText(tr("e.g. Gate 2"))
        self.offer = QComboBox()
        self.promoter = QLabel("—")
        self.save_button = QPushButton(tr("Save"))
        self.saved_note = QLabel("")
        self.saved_note.setWordWrap(True)
        self.pin_note = QLabel("")
        self.pin_note.setObjectName("muted")
        self.pin_note.setWordWrap(True)
        scope = QFrame()
        scope.setObjectName("panel")
        self.scope_form = QFormLayout()
        self.scope_form.addRow(tr("Mode"), self.mode)
        self.scope_form.addRow(tr("Event"), self.event_label)
        self.scope_form.addRow(tr("Gate"), self.gate)
        self.scope_form.addRow(tr("Offer"), self.offer)
        self.scope_form.addRow(tr("Promoter"), self.promoter)
        scope_layout = QVBoxLayout(scope)
        scope_layout.addWidget(QLabel(f"<b>{tr('2. Mode and scope')}</b>"))
        scope_layout.addWidget(self.device)
        scope_layout.addLayout(self.scope_form)
        scope_layout.addWidget(self.save_button)
        scope_layout.addWidget(self.saved_note)
        scope_layout.addWidget(self.pin_note)
        scope_layout.addStretch(1)

        self.online = Chip(tr("Not synced yet"))
        self.pending = Chip(tr("Pending —"))
        self.last_sync = Chip(tr("Last sync —"))
        self.sync_button = QPushButton(tr("Sync now"))
        sync = QHBoxLayout()
        sync.addWidget(QLabel(f"<b>{tr('3. Sync')}</b>"))
        for chip in (self.online, self.pending, self.last_sync):
            sync.addWidget(chip)
        sync.addStretch(1)
        sync.addWidget(self.sync_button)

        columns = QHBoxLayout()
        columns.addWidget(pairing, 1)
        columns.addWidget(scope, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(36, 28, 36, 28)
        layout.addWidget(title)
        layout.addLayout(columns, 1)
        layout.addLayout(sync)
        self._show_scope(None)

    def _wire(self) -> None:
        self.pair_button.clicked.connect(self.start_pairing)
        self.code.returnPressed.connect(self.start_pairing)
        self.scan_button.clicked.connect(self.toggle_camera)
        self.save_button.clicked.connect(self.save)
        self.sync_button.clicked.connect(self._sync)
        self.mode.currentIndexChanged.connect(self._mode_changed)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Show the current state (the store thread already runs)."""
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Read the setup state on the store thread, then show it."""
        settings = self.settings
        StoreOp(lambda: read_state(settings)).success(self.show_state).failure(
            self._failed
        ).run_in_background(self.store)

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop the camera and the worker; a pairing in flight is waited for (HTTP deadlines)."""
        if self._stopped:
            return True
        self._stopped = True
        self._status_timer.stop()
        self.stop_camera()
        return self.store.stop(timeout)  # a pairing in flight is waited for (HTTP deadlines)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closing the window stops the camera and the worker."""
        self.stop()
        event.accept()

    # ------------------------------------------------------------------ pairing

    def start_pairing(self) -> None:
        """Pair with what the form says, on the worker thread."""
        if self._busy or self._stopped:
            return
        self._set_busy(True)
        self.result.setText(tr("Pairing…"))
        settings = self.settings
        server, code, name = (w.text().strip() for w in (self.server, self.code, self.name))
        StoreOp(lambda: pair_and_sync(settings, server, code, name)).success(self._paired).failure(
            self._failed
        ).run_in_background(self.store)

    def toggle_camera(self) -> None:
        """Start reading a pairing QR with the camera, or stop."""
        if self.scanner is not None:
            self.stop_camera()
            self.result.setText(tr("Camera stopped"))
            return
        if self.camera is None:
            return
        try:
            scanner = Scanner(self.camera(), parent=self)
            scanner.code_accepted.connect(self.read_pairing_qr)
            scanner.frame_ready.connect(self._show_frame)
            scanner.error_occurred.connect(self._camera_error)
            scanner.start()
        except KioskError as exc:
            self.result.setText(f"✖ {exc.message}")
            return
        self.scanner = scanner
        self.scan_button.setText(tr("Stop camera"))
        self.preview.show()
        self.result.setText(tr("Hold the pairing QR up to the camera"))

    def stop_camera(self) -> None:
        """Stop the camera if it runs (within a second)."""
        scanner, self.scanner = self.scanner, None
        if scanner is None:
            return
        scanner.stop(timeout=1.0)
        self.preview.hide()
        self.scan_button.setText(tr("Scan pairing QR"))

    @Slot(str)
    def read_pairing_qr(self, text: str) -> None:
        """A code the camera read: a pairing QR fills the form and pairs; anything else says so."""
        try:
            link = parse_pairing_qr(text)
        except KioskError as exc:
            self.result.setText(f"✖ {exc.message}")
            return
        self.server.setText(link.server_url)
        self.code.setText(link.code)
        QTimer.singleShot(0, self.stop_camera)  # not from inside the scanner's own signal
        self.start_pairing()

    @Slot(QImage)
    def _show_frame(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image).scaled(
            self.preview.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
        self.preview.setPixmap(pixmap)

    @Slot(str)
    def _camera_error(self, message: str) -> None:
        self.result.setText(f"✖ {message}")
        QTimer.singleShot(0, self.stop_camera)

    def _paired(self, paired: Paired) -> None:
        self._set_busy(False)
        self.code.clear()
        self.result.setText(
            tr(
                "✔ Paired as a {role} device; downloaded {rows} row(s).",
                role=paired.role,
                rows=paired.rows,
            )
        )
        self.paired.emit(paired.role)
        if paired.problem:
            self.result.setText(
                "✖ " + tr("Paired, but the first sync failed: {error}", error=paired.problem)
            )
        self.show_state(paired.state)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.result.setText(f"✖ {message}")

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for button in (self.pair_button, self.save_button, self.sync_button):
            button.setEnabled(not busy)

    # ------------------------------------------------------------------ mode and scope

    def chosen_mode(self) -> ScanMode | None:
        """The mode selected in the list (None before pairing)."""
        data = self.mode.currentData()
        return ScanMode(data) if data is not None else None

    def save(self) -> None:
        """Keep the mode and scope in the device config, on the worker thread."""
        mode = self.chosen_mode()
        if mode is None or self._busy:
            return
        offer = self.offer.currentData()
        choices = Choices(
            mode=mode,
            gate=self.gate.text(),
            offer_id=uuid.UUID(offer) if offer else None,
        )
        self._set_busy(True)
        self.saved_note.setText(tr("Saving…"))
        settings = self.settings
        StoreOp(lambda: save_and_read(settings, choices)).success(self._saved).failure(
            self._failed
        ).run_in_background(self.store)

    def _saved(self, state: SetupState) -> None:
        self._set_busy(False)
        self.show_state(state)
        mode = state.mode.value if state.mode else ""
        self.saved_note.setText(tr("✔ Saved: `soca-kiosk run` opens this mode."))
        self.saved.emit(mode)

    def _refresh_status(self) -> None:
        if not self._busy:
            settings = self.settings
            StoreOp(lambda: read_status(settings)).success(self.show_status).failure(
                self._failed
            ).run_in_background(self.store)

    def _sync(self) -> None:
        if self._busy:
            return
        self.online.set(tr("Syncing…"), "warn")
        settings = self.settings
        StoreOp(lambda: sync_and_read(settings)).success(self._synced).failure(
            self._failed
        ).run_in_background(self.store)

    def _synced(self, outcome: tuple[str | None, SetupState]) -> None:
        problem, state = outcome
        if problem:
            self.result.setText("✖ " + tr("Sync failed: {error}", error=problem))
        self.show_state(state)

    @Slot(int)
    def _mode_changed(self, _index: int) -> None:
        self._show_scope(self.chosen_mode())

    @Slot(object)
    def show_state(self, state: SetupState) -> None:
        """Render the pairing, the choices the role allows and the sync state."""
        self.state = state
        self.show_status(state.status)
        self.save_button.setEnabled(state.paired and not self._busy)
        self.sync_button.setEnabled(state.paired and not self._busy)
        config = state.config
        if config is None:
            self.device.setText(tr("Not paired yet."))
            self.mode.clear()
            self._show_scope(None)
            self.pin_note.setText("")
            return
        if not self.server.text():
            self.server.setText(config.server_url)  # pairing again is usually with the same server
        self.device.setText(
            tr(
                "Paired as {name}, a {role} device, with {server}.",
                name=config.name,
                role=config.role.value,
                server=config.server_url,
            )
        )
        self.mode.blockSignals(True)
        self.mode.clear()
        for mode in state.modes:
            self.mode.addItem(mode_label(mode), mode.value)
        if state.mode is not None:
            self.mode.setCurrentIndex(state.modes.index(state.mode))
        self.mode.blockSignals(False)
        self.event_label.setText(state.event.label if state.event else "—")
        self.gate.setText(state.gate)
        self.offer.clear()
        self.offer.addItem(tr("The only active offer"), "")
        for option in state.offers:
            self.offer.addItem(option.label, str(option.id))
        if state.offer_id is not None:
            index = self.offer.findData(str(state.offer_id))
            self.offer.setCurrentIndex(max(index, 0))
        promoter = config.scope.promoter_id
        self.promoter.setText(str(promoter) if promoter else "—")
        self.pin_note.setText(
            tr("Kiosk mode: on — a PIN is needed to leave the screen.")
            if state.pin_set
            else tr("Kiosk mode: off. Set a PIN with `soca-kiosk pin set` to turn it on.")
        )
        self._show_scope(self.chosen_mode())

    def _show_scope(self, mode: ScanMode | None) -> None:
        rows: dict[QWidget, bool] = {
            self.event_label: mode is ScanMode.DOOR,
            self.gate: mode is ScanMode.DOOR,
            self.offer: mode is ScanMode.PRIZE,
            self.promoter: mode is ScanMode.REVIEW
            and self.state is not None
            and self.state.config is not None
            and self.state.config.scope.promoter_id is not None,
        }
        for widget, visible in rows.items():
            self.scope_form.setRowVisible(widget, visible)
        self.scope_form.setRowVisible(self.mode, mode is not None)

    @Slot(object)
    def show_status(self, status: KioskStatus) -> None:
        """Online/offline, pending ops and the last successful sync."""
        if status.revoked:
            self.online.set(tr("● Revoked: pair again"), "bad")
        elif status.online is None:
            self.online.set(tr("● Not synced yet"), "warn" if status.paired else "")
        elif status.online:
            self.online.set(tr("● Online"), "good")
        else:
            self.online.set(tr("● Offline"), "bad")
        self.pending.set(
            tr("Pending {count}", count=status.pending), "warn" if status.pending else ""
        )
        last = status.last_success_at
        when = last.astimezone().strftime("%H:%M:%S") if last else tr("never")
        self.last_sync.set(tr("Last sync {time}", time=when))
