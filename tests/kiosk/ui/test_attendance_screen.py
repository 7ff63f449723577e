"""The promoter review screen against a real server: the chart's bars, the tables, the CSV.

Door kiosks scan and push for real (`tests.kiosk.attendance_world`); the
PROMOTER kiosk's window then reads its cache on its worker thread and the
screen renders what arrives by signal.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from kiosk.app import open_kiosk
from kiosk.settings import Language
from kiosk.ui.attendance import PromoterReviewWindow, bucket_label, table_text
from kiosk.ui.i18n import ARABIC, set_language
from kiosk.ui.main import review_window
from tests.kiosk.attendance_world import PromoterHistory, make_history
from tests.kiosk.live import LiveServer

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def history(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> PromoterHistory:
    return make_history(live, tmp_path_factory.mktemp("kiosks"))


@pytest.fixture
def window(qtbot: QtBot, history: PromoterHistory) -> Iterator[PromoterReviewWindow]:
    screen = PromoterReviewWindow(history.settings)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    screen.start()
    qtbot.waitUntil(lambda: screen.review is not None, timeout=WAIT_MS)
    yield screen
    assert screen.stop()


def test_chart_shows_arrivals_per_quarter_hour_of_the_chosen_event(
    qtbot: QtBot, window: PromoterReviewWindow, history: PromoterHistory
) -> None:
    view = window.attendance
    # The latest event with arrivals is chosen first: tonight, 2 · 1 · 0 · 2 arrivals.
    assert view.event_choice.currentText() == history.tonight["name"]
    assert view.chart.counts() == [2, 1, 0, 2]
    hour = history.tonight_hour
    assert view.chart.labels() == [
        bucket_label(hour + timedelta(minutes=m), with_day=False) for m in (0, 15, 30, 45)
    ]
    assert "per 15 min" in view.chart.chart().title()
    assert view.chart.axis_y.max() == 2
    assert view.peak.text() == f"Busiest: {bucket_label(hour, with_day=False)} (2)"

    view.event_choice.setCurrentIndex(view.event_choice.findText(history.miami["name"]))
    assert view.chart.counts() == [1, 1]
    quiet = view.event_choice.findText("Caribana Boat Ride")
    view.event_choice.setCurrentIndex(quiet)
    assert view.chart.counts() == [] and view.peak.text() == "No arrivals yet"

    # A refresh keeps the event the promoter was looking at.
    view.event_choice.setCurrentIndex(view.event_choice.findText(history.miami["name"]))
    first = window.review
    qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.review is not first, timeout=WAIT_MS)
    assert view.event_choice.currentText() == history.miami["name"]
    assert view.chart.counts() == [1, 1]


def test_totals_and_tables_show_events_superfans_countries_and_circuits(
    window: PromoterReviewWindow, history: PromoterHistory, live: LiveServer
) -> None:
    view = window.attendance
    shown = {key: label.text() for key, label in view.totals.items()}
    assert shown == {
        "Events": "5",
        "Tickets": "14",
        "Arrived": "7",
        "No-shows": "7",
        "Re-entries": "1",
        "Refused": "1",
        "Fans": "5",
        "Superfans": "2",
    }
    events = table_text(view.events_table)
    assert len(events) == 5
    assert events[0][0] == history.tonight["name"]
    starts = datetime.fromisoformat(history.tonight["starts_at"]).astimezone()
    assert events[0][1] == starts.strftime("%Y-%m-%d")
    assert events[0][2:] == ["TT", "Trinidad Carnival", "11", "5", "6", "1", "1"]
    assert events[1][0] == history.miami["name"]
    assert events[1][2:] == ["US", "Miami Carnival", "3", "2", "1", "0", "0"]

    attendees = live.world["attendees"]
    fans = table_text(view.superfans_table)
    assert sorted(row[0] for row in fans) == sorted(f"@{attendees[i]['handle']}" for i in (0, 1))
    for row in fans:
        person = next(a for a in attendees if f"@{a['handle']}" == row[0])
        assert row[1] == person["display_name"]
        assert row[2] == live.passport(person["user_id"])["current_tier"]
        assert row[3:] == ["2", "US, TT", "Miami Carnival, Trinidad Carnival"]

    countries = table_text(view.countries_table)
    assert countries[:2] == [["TT", "1", "5", "5"], ["US", "1", "2", "2"]]
    assert sorted(row[0] for row in countries[2:]) == ["BB", "CA", "GB"]
    circuits = table_text(view.circuits_table)
    assert circuits[:2] == [["Trinidad Carnival", "1", "5", "5"], ["Miami Carnival", "1", "2", "2"]]
    assert window.tabs.tabText(1) == "Sync"


def test_export_button_writes_the_services_csv_where_the_promoter_chose(
    qtbot: QtBot,
    window: PromoterReviewWindow,
    history: PromoterHistory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "tonight.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "CSV files (*.csv)")
    )
    view = window.attendance
    assert view.export_button.isEnabled()
    # (waitUntil, not waitSignal: the worker emits on its own thread.)
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.message.text() == f"Saved 15 rows to {target}", timeout=WAIT_MS)
    with open_kiosk(history.settings) as kiosk:
        expected = kiosk.require_attendance().export_csv()
    assert target.read_bytes().decode("utf-8-sig") == expected
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    tonight = [row for row in rows if row["event_id"] == history.tonight["id"]]
    assert [row["status"] for row in tonight[:5]] == ["ADMITTED"] * 5
    assert [row["gate"] for row in tonight[:5]] == ["Gate 2"] * 5
    assert {row["status"] for row in tonight[5:]} == {"NO_SHOW", "REVOKED"}
    assert uuid.UUID(tonight[0]["ticket_id"])


def test_a_failed_export_is_shown_not_swallowed(
    qtbot: QtBot, window: PromoterReviewWindow, tmp_path: Path
) -> None:
    window.attendance.export_to(tmp_path / "missing-folder" / "attendance.csv")
    qtbot.waitUntil(
        lambda: window.attendance.message.text().startswith("⚠ Cannot export:"), timeout=WAIT_MS
    )
    assert "missing-folder" in window.attendance.message.text()


def test_in_arabic_the_screen_is_right_to_left_and_translated(
    qtbot: QtBot, history: PromoterHistory
) -> None:
    set_language(Language.ARABIC)
    try:
        screen = PromoterReviewWindow(history.settings)
        qtbot.addWidget(screen)
        screen.start()
        qtbot.waitUntil(lambda: screen.review is not None, timeout=WAIT_MS)
        assert screen.layoutDirection() == Qt.LayoutDirection.RightToLeft
        assert screen.tabs.tabText(0) == ARABIC["Attendance"]
        assert screen.attendance.export_button.text() == ARABIC["Export CSV…"]
        assert screen.attendance.chart.counts() == [2, 1, 0, 2]
        assert screen.stop()
    finally:
        set_language(Language.ENGLISH)


def test_the_review_mode_of_a_promoter_device_is_the_promoter_screen(
    qtbot: QtBot, history: PromoterHistory
) -> None:
    # `review_window` is this plus `_run`; running a second Qt event loop inside
    # the test process would leave it unusable for the tests after this one.
    window = review_window(history.settings)
    qtbot.addWidget(window)
    assert isinstance(window, PromoterReviewWindow)
    window.start()
    try:
        qtbot.waitUntil(lambda: window.review is not None, timeout=WAIT_MS)
        assert window.review is not None and window.review.totals.arrived == 7
    finally:
        window.stop()
