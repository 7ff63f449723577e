"""The prize screen's cardholder search: type a name or @handle, pick the customer (offline).

For a customer whose phone is dead. Typing waits a moment before asking
(`query_ready`), so a fast typist costs one search, not one per key; picking a
line emits `chosen(user_id)`. The owner runs the search off the GUI thread and
hands the matches back to `show_matches`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core import limits
from kiosk.services.prize import CardholderMatch
from kiosk.ui.i18n import tr

TYPING_PAUSE_MS = 250


def describe_match(match: CardholderMatch) -> str:
    """One result line: the name, the handle, and the card as it stands."""
    name = match.holder_name or (f"@{match.handle}" if match.handle else tr("Unnamed customer"))
    handle = f"  @{match.handle}" if match.handle and match.holder_name else ""
    return f"{name}{handle}\n{match.summary}"


class CardholderSearch(QWidget):
    """A search box and its results; `query_ready(text)` asks, `chosen(user_id)` picks."""

    query_ready = Signal(str)
    chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.box = QLineEdit()
        self.box.setPlaceholderText(tr("Phone dead? Search by name or @handle"))
        self.box.setMaxLength(limits.SEARCH_QUERY.max_length)
        self.box.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setMaximumHeight(200)
        self.results.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.results)
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(TYPING_PAUSE_MS)
        self._pause.timeout.connect(self._ask)
        self.box.textChanged.connect(self._typed)
        self.results.itemActivated.connect(self._picked)
        self.results.itemClicked.connect(self._picked)

    @Slot(str)
    def _typed(self, text: str) -> None:
        if not text.strip():
            self._pause.stop()
            self.results.clear()
            self.results.hide()
            return
        self._pause.start()

    @Slot()
    def _ask(self) -> None:
        self.query_ready.emit(self.box.text())

    @Slot(object)
    def show_matches(self, matches: list[CardholderMatch]) -> None:
        """The cardholders found for what is typed now (nothing when the box was cleared)."""
        self.results.clear()
        if not self.box.text().strip():
            self.results.hide()
            return
        for match in matches:
            item = QListWidgetItem(describe_match(match))
            item.setData(Qt.ItemDataRole.UserRole, str(match.user_id))
            self.results.addItem(item)
        if not matches:
            self.results.addItem(tr("No cardholder found."))
        self.results.show()

    @Slot(QListWidgetItem)
    def _picked(self, item: QListWidgetItem) -> None:
        user_id = item.data(Qt.ItemDataRole.UserRole)
        if user_id:
            self.chosen.emit(str(user_id))
            self.box.clear()
