"""The promoter's review screen: attendance of their own events, offline, and the sync tab.

`AttendanceService` (in `kiosk.services.attendance`) computes everything from
the cache; this module only renders its `AttendanceReview`: totals, an
arrivals chart per event (QtCharts bars, one per time bucket), the events,
superfans, countries and circuits tables, and "Export CSV…". The service runs
on the window's store thread as a `StoreOp` (the store opened per request,
like the sync screen's status); results come back to methods here. Every finished
sync cycle refreshes the review. The "Sync" tab is the sync-problems screen
(`kiosk.ui.review.ReviewWindow`), whose sync worker this window shares.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QValueAxis,
)
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.app import open_kiosk
from kiosk.services.attendance import AttendanceReview, EventArrivals, PlaceCount
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import SyncReport
from kiosk.ui.i18n import tier_name, tr
from kiosk.ui.ops import StoreOp, StoreThread
from kiosk.ui.review import ReviewWindow
from kiosk.ui.theme import BACKGROUND, MUTED, STYLESHEET, SURFACE, TEXT
from kiosk.ui.workers import SyncWorker

BAR_COLOUR = "#2f9e5b"
_EXTRA_STYLE = f"""
QTableWidget {{ background: {SURFACE}; border: none; border-radius: 8px; font-size: 16px;
                gridline-color: #2a2e35; }}
QHeaderView::section {{ background: #2b3038; color: {MUTED}; border: none; padding: 6px; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ background: {SURFACE}; color: {MUTED}; padding: 10px 18px; margin: 2px;
                border-radius: 8px; }}
QTabBar::tab:selected {{ background: #2b3038; color: {TEXT}; }}
QComboBox {{ background: {SURFACE}; border: 1px solid #3a3f47; border-radius: 8px; padding: 8px; }}
"""
TOTALS = ("Events", "Tickets", "Arrived", "No-shows", "Re-entries", "Refused", "Fans", "Superfans")


def bucket_label(moment: datetime, *, with_day: bool) -> str:
    """A bucket's axis label in the kiosk's local time: "21:15", or "02-14 21:15"."""
    local = moment.astimezone()
    return local.strftime("%m-%d %H:%M") if with_day else local.strftime("%H:%M")


def arrival_labels(arrivals: EventArrivals) -> list[str]:
    """The chart's category labels for an event's buckets."""
    days = {b.start.astimezone().date() for b in arrivals.buckets}
    return [bucket_label(b.start, with_day=len(days) > 1) for b in arrivals.buckets]


def _table(*headers: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str | int]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            if isinstance(value, int):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def table_text(table: QTableWidget) -> list[list[str]]:
    """A table's cells as text, row by row (what the screen shows)."""
    return [
        [_cell(table.item(r, c)) for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def _cell(item: QTableWidgetItem | None) -> str:
    return "" if item is None else item.text()


class ArrivalsChart(QChartView):
    """One event's arrivals per time bucket as bars; `counts` and `labels` are what it shows."""

    def __init__(self) -> None:
        chart = QChart()
        chart.setTheme(QChart.ChartTheme.ChartThemeDark)
        chart.setBackgroundBrush(QColor(SURFACE))
        chart.legend().hide()
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        super().__init__(chart)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(260)
        self.bars = QBarSet(tr("Arrivals"))
        self.bars.setColor(QColor(BAR_COLOUR))
        self.series = QBarSeries()
        self.series.append(self.bars)
        self.axis_x = QBarCategoryAxis()
        self.axis_y = QValueAxis()
        self.axis_y.setLabelFormat("%d")
        font = QFont(chart.titleFont())
        font.setPixelSize(17)
        chart.setTitleFont(font)
        font.setPixelSize(14)
        self.axis_x.setLabelsFont(font)
        self.axis_y.setLabelsFont(font)
        chart.addSeries(self.series)
        chart.addAxis(self.axis_x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.axis_y, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.axis_x)
        self.series.attachAxis(self.axis_y)

    def show_arrivals(self, arrivals: EventArrivals | None, title: str) -> None:
        """Replace the bars with one event's buckets."""
        self.chart().setTitle(title)
        if self.bars.count():
            self.bars.remove(0, self.bars.count())
        self.axis_x.clear()
        if arrivals is None or not arrivals.buckets:
            self.axis_y.setRange(0, 1)
            return
        self.axis_x.append(arrival_labels(arrivals))
        self.bars.append([float(b.count) for b in arrivals.buckets])
        peak = arrivals.peak
        top = peak.count if peak is not None else 1
        self.axis_y.setRange(0, max(1, top))
        self.axis_y.setTickCount(min(max(1, top), 5) + 1)

    def counts(self) -> list[int]:
        """The bar heights shown."""
        return [int(self.bars.at(i)) for i in range(self.bars.count())]

    def labels(self) -> list[str]:
        """The category labels shown."""
        return list(self.axis_x.categories())


class AttendanceView(QWidget):
    """Renders an `AttendanceReview`; asks for a refresh or an export through its signals."""

    refresh_requested = Signal()
    export_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.review: AttendanceReview | None = None
        title = QLabel(tr("<b>Review</b> · attendance of your events"))
        title.setStyleSheet("font-size: 22px;")
        self.as_of = QLabel(tr("Loading…"))
        self.as_of.setObjectName("muted")
        self.message = QLabel("")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.export_button = QPushButton(tr("Export CSV…"))
        self.export_button.setEnabled(False)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.as_of)
        header.addWidget(self.refresh_button)
        header.addWidget(self.export_button)

        self.totals: dict[str, QLabel] = {}
        strip = QGridLayout()
        for column, key in enumerate(TOTALS):
            panel = QFrame()
            panel.setObjectName("panel")
            box = QVBoxLayout(panel)
            value = QLabel("—")
            value.setObjectName("counter")
            caption = QLabel(tr(key))
            caption.setObjectName("counterCaption")
            box.addWidget(value)
            box.addWidget(caption)
            strip.addWidget(panel, 0, column)
            self.totals[key] = value

        self.event_choice = QComboBox()
        self.chart = ArrivalsChart()
        self.peak = QLabel("")
        self.peak.setObjectName("muted")
        choice_row = QHBoxLayout()
        choice_row.addWidget(QLabel(tr("Arrivals over time:")))
        choice_row.addWidget(self.event_choice, 1)
        choice_row.addWidget(self.peak)

        self.events_table = _table(
            tr("Event"),
            tr("Date"),
            tr("Country"),
            tr("Circuit"),
            tr("Tickets"),
            tr("Arrived"),
            tr("No-shows"),
            tr("Re-entries"),
            tr("Refused"),
        )
        self.superfans_table = _table(
            tr("Handle"), tr("Name"), tr("Tier"), tr("Events"), tr("Countries"), tr("Circuits")
        )
        self.countries_table = _table(tr("Country"), tr("Events"), tr("Arrived"), tr("Fans"))
        self.circuits_table = _table(tr("Circuit"), tr("Events"), tr("Arrived"), tr("Fans"))
        self.tables = QTabWidget()
        self.tables.addTab(self.events_table, tr("Events"))
        self.tables.addTab(self.superfans_table, tr("Superfans"))
        self.tables.addTab(self.countries_table, tr("Countries"))
        self.tables.addTab(self.circuits_table, tr("Circuits"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.addLayout(header)
        layout.addWidget(self.message)
        layout.addLayout(strip)
        layout.addLayout(choice_row)
        layout.addWidget(self.chart, 3)
        layout.addWidget(self.tables, 2)
        self.event_choice.currentIndexChanged.connect(self._show_chosen_event)
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.export_button.clicked.connect(self.choose_export)

    # ------------------------------------------------------------------ user actions

    @Slot()
    def choose_export(self) -> None:
        """Ask where to save the CSV, then export there."""
        default = str(Path.home() / "attendance.csv")
        path, _filter = QFileDialog.getSaveFileName(
            self, tr("Export attendance"), default, tr("CSV files (*.csv)")
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Export the attendance CSV to `path` (on the worker thread)."""
        self.message.setText(tr("Exporting…"))
        self.export_requested.emit(str(path))

    # ------------------------------------------------------------------ rendering

    @Slot(str, int)
    def show_exported(self, path: str, rows: int) -> None:
        """Say where the CSV went."""
        self.message.setText(tr("Saved {rows} rows to {path}", rows=rows, path=path))

    @Slot(str)
    def show_failure(self, message: str) -> None:
        """A worker's failure, in words."""
        self.message.setText(f"⚠ {message}")

    @Slot(object)
    def show_review(self, review: AttendanceReview) -> None:
        """Render totals, the chosen event's chart and the four tables."""
        chosen = self.event_choice.currentData()
        self.review = review
        totals = review.totals
        values = (
            totals.events,
            totals.tickets,
            totals.arrived,
            totals.no_shows,
            totals.reentries,
            totals.refused,
            totals.fans,
            len(review.superfans),
        )
        for key, value in zip(TOTALS, values, strict=True):
            self.totals[key].setText(str(value))
        pulled = review.last_pull_at
        self.as_of.setText(
            tr("As of last sync {time}", time=pulled.astimezone().strftime("%Y-%m-%d %H:%M"))
            if pulled is not None
            else tr("Not synced yet")
        )
        self.export_button.setEnabled(bool(review.events))
        self._fill_tables(review)
        self.event_choice.blockSignals(True)
        self.event_choice.clear()
        for event in review.events:
            self.event_choice.addItem(event.name, str(event.id))
        self.event_choice.blockSignals(False)
        index = self.event_choice.findData(chosen) if chosen is not None else -1
        if index < 0:  # the latest event with arrivals, else the latest
            index = next(
                (i for i, e in enumerate(review.events) if review.arrivals[e.id].buckets), 0
            )
        self.event_choice.setCurrentIndex(index)
        self._show_chosen_event()

    def _fill_tables(self, review: AttendanceReview) -> None:
        unknown = tr("Unknown")
        _fill(
            self.events_table,
            [
                [
                    e.name,
                    e.starts_at.astimezone().strftime("%Y-%m-%d") if e.starts_at else "",
                    e.country_code or unknown,
                    e.carnival_circuit or unknown,
                    e.tickets,
                    e.arrived,
                    e.no_shows,
                    e.reentries,
                    e.refused,
                ]
                for e in review.events
            ],
        )
        _fill(
            self.superfans_table,
            [
                [
                    f"@{f.handle}" if f.handle else "",
                    f.name or "",
                    tier_name(f.tier),
                    f.event_count,
                    ", ".join(f.countries),
                    ", ".join(f.circuits),
                ]
                for f in review.superfans
            ],
        )
        self.superfans_table.setToolTip(
            "\n".join(f"{f.handle}: {', '.join(f.events)}" for f in review.superfans)
        )

        def places(rows: tuple[PlaceCount, ...]) -> list[list[str | int]]:
            return [[p.name or unknown, p.events, p.arrived, p.fans] for p in rows]

        _fill(self.countries_table, places(review.countries))
        _fill(self.circuits_table, places(review.circuits))

    @Slot()
    def _show_chosen_event(self) -> None:
        review = self.review
        if review is None or self.event_choice.currentIndex() < 0:
            self.chart.show_arrivals(None, "")
            self.peak.setText("")
            return
        event = review.events[self.event_choice.currentIndex()]
        arrivals = review.arrivals.get(event.id)
        minutes = int(arrivals.bucket.total_seconds() // 60) if arrivals else 15
        self.chart.show_arrivals(
            arrivals, tr("{event}: arrivals per {minutes} min", event=event.name, minutes=minutes)
        )
        peak = arrivals.peak if arrivals is not None else None
        self.peak.setText(
            tr(
                "Busiest: {time} ({count})",
                time=bucket_label(peak.start, with_day=False),
                count=peak.count,
            )
            if peak is not None and peak.count
            else tr("No arrivals yet")
        )


class PromoterReviewWindow(QWidget):
    """The promoter device's window: "Attendance" and "Sync" tabs, two worker threads."""

    def __init__(self, settings: KioskSettings, *, sync: SyncWorker | None = None) -> None:
        super().__init__()
        self.setWindowTitle(tr("Soca Passport — promoter review"))
        self.setStyleSheet(STYLESHEET + _EXTRA_STYLE)
        self.settings = settings
        self.store = StoreThread("kiosk-attendance")
        self.attendance = AttendanceView()
        self.sync_page = ReviewWindow(settings, sync=sync, store=self.store)
        self.sync = self.sync_page.sync
        self.tabs = QTabWidget()
        self.tabs.addTab(self.attendance, tr("Attendance"))
        self.tabs.addTab(self.sync_page, tr("Sync"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.setStyleSheet(self.styleSheet() + f"QTabWidget {{ background: {BACKGROUND}; }}")
        self._stopped = False
        self.attendance.refresh_requested.connect(self.refresh)
        self.attendance.export_requested.connect(self.export)
        self.sync.report_ready.connect(self.on_sync_report)

    @property
    def review(self) -> AttendanceReview | None:
        """The review shown (None until the first one arrives)."""
        return self.attendance.review

    def start(self) -> None:
        """Start the store thread (showing the cached review at once) and the sync tab."""
        self.store.start(owner=self)
        self.refresh()
        self.sync_page.start()

    @Slot()
    def refresh(self) -> None:
        """Read the review as the cache holds it now (on the store thread), then show it."""
        settings = self.settings

        def read() -> AttendanceReview:
            with open_kiosk(settings) as kiosk:
                return kiosk.require_attendance().get_review()

        StoreOp(read).success(self.attendance.show_review).failure(
            self.attendance.show_failure
        ).run_in_background(self.store)

    @Slot(str)
    def export(self, path: str) -> None:
        """Write the attendance CSV to `path` (on the store thread), then say where it went."""
        settings = self.settings

        def write() -> int:
            with open_kiosk(settings) as kiosk:
                return kiosk.require_attendance().write_csv(Path(path))

        def failed(message: str) -> None:
            self.attendance.show_failure(tr("Cannot export: {error}", error=message))

        StoreOp(write).success(lambda rows: self.attendance.show_exported(path, rows)).failure(
            failed
        ).run_in_background(self.store)

    @Slot(object)
    def on_sync_report(self, _report: SyncReport) -> None:
        """A sync cycle ended: read the review again."""
        self.refresh()

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop every thread; True when they ended within `timeout` seconds."""
        if self._stopped:
            return True
        self._stopped = True
        ended = self.sync_page.stop(timeout)
        return self.store.stop(timeout) and ended

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Closing the window stops its threads."""
        self.stop()
        event.accept()
