"""The setup screen: pair this kiosk with a server by a one-time code, then download its data.

`pair_device` and the first sync run on a worker thread (they talk to the
network); the screen shows progress and the result, or the error in plain
words, and emits `paired(role)` when the device is ready.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kiosk.app import open_synchronizer, pair_device
from kiosk.errors import KioskError
from kiosk.scanner._signals import emit
from kiosk.settings import KioskSettings
from kiosk.ui.theme import STYLESHEET
from kiosk.ui.workers import start_worker


class PairingWorker(QObject):
    """Pairs and syncs once on its own thread; `done(role, rows)` or `failed(message)`."""

    done = Signal(str, int)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, settings: KioskSettings, server: str, code: str, name: str) -> None:
        super().__init__()
        self._settings = settings
        self._server = server
        self._code = code
        self._name = name

    @Slot()
    def run(self) -> None:
        """Pair, then download this device's data."""
        try:
            config = pair_device(
                self._settings,
                server_url=self._server,
                code=self._code,
                name=self._name or None,
            )
            synchronizer = open_synchronizer(self._settings)
            try:
                report = synchronizer.sync_once()
            finally:
                synchronizer.close()
            emit(self.done, config.role.value, report.rows)
        except KioskError as exc:
            emit(self.failed, exc.message)
        except Exception as exc:
            emit(self.failed, f"pairing failed: {exc}")
        finally:
            emit(self.finished)


class SetupWindow(QWidget):
    """Server address, pairing code and a device name; "Pair" does the rest."""

    paired = Signal(str)

    def __init__(self, settings: KioskSettings, *, server: str = "") -> None:
        super().__init__()
        self.settings = settings
        self.setWindowTitle("Soca Passport — set up this kiosk")
        self.setStyleSheet(STYLESHEET)
        self.server = QLineEdit(server)
        self.server.setPlaceholderText("http://server:8000")
        self.code = QLineEdit()
        self.code.setPlaceholderText("XXXX-XXXX")
        self.name = QLineEdit(settings.device_name)
        self.pair_button = QPushButton("Pair this kiosk")
        self.result = QLabel("Ask HQ, your promoter or branch manager for a pairing code.")
        self.result.setWordWrap(True)
        title = QLabel("<b>Set up this kiosk</b>")
        title.setStyleSheet("font-size: 30px;")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("Server", self.server)
        form.addRow("Pairing code", self.code)
        form.addRow("Device name", self.name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 36, 48, 36)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.pair_button)
        layout.addWidget(self.result)
        layout.addStretch(1)
        self.pair_button.clicked.connect(self.start_pairing)
        self.code.returnPressed.connect(self.start_pairing)
        self._thread: QThread | None = None
        self._worker: PairingWorker | None = None

    def start_pairing(self) -> None:
        """Pair with what the form says, on a worker thread."""
        if self._thread is not None:
            return
        self.pair_button.setEnabled(False)
        self.result.setText("Pairing…")
        worker = PairingWorker(
            self.settings, self.server.text().strip(), self.code.text().strip(), self.name.text()
        )
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        worker.finished.connect(self._ended)
        self._worker = worker
        self._thread = start_worker(worker, worker.run, "kiosk-pairing")

    @Slot(str, int)
    def _done(self, role: str, rows: int) -> None:
        self.result.setText(f"✔ Paired as a {role} device; downloaded {rows} row(s).")
        emit(self.paired, role)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.result.setText(f"✖ {message}")

    @Slot()
    def _ended(self) -> None:
        if self._thread is not None:
            self._thread.wait(1000)
        self._thread = None
        self._worker = None
        self.pair_button.setEnabled(True)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Wait for a pairing in flight (bounded by the HTTP deadlines) before closing."""
        if self._thread is not None:
            self._thread.wait()
        event.accept()
