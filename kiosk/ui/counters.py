"""The door screen's counters panel: it renders `DoorCounters`, it does not count.

The counting (read-only queries over the kiosk's stores) is the
`kiosk.services.counters` operation, run on the database worker's thread; the
snapshot it is part of reaches this panel through a signal.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from kiosk.services.counters import DoorCounters
from kiosk.ui.i18n import tr


class CountersPanel(QFrame):
    """Admissions as three big numbers: this device, this gate, the whole event."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        grid = QGridLayout(self)
        self.device_count = self._counter(grid, 0, tr("this device"))
        self.gate_count = self._counter(grid, 1, tr("this gate"))
        self.event_count = self._counter(grid, 2, tr("whole event"))

    def show_counters(self, counters: DoorCounters) -> None:
        """Show the counts."""
        self.device_count.setText(str(counters.device))
        self.gate_count.setText(str(counters.gate))
        self.event_count.setText(str(counters.event))

    @staticmethod
    def _counter(grid: QGridLayout, column: int, caption: str) -> QLabel:
        value = QLabel("0")
        value.setObjectName("counter")
        value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label = QLabel(caption)
        label.setObjectName("counterCaption")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(value, 0, column)
        grid.addWidget(label, 1, column)
        return value
