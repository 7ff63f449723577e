"""The promoter's review against a real server: door kiosks scan and push, a PROMOTER kiosk pulls.

Everything is computed offline from the promoter kiosk's cache: totals,
arrivals per 15 minutes, superfans, countries and circuits, and the CSV.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.wire import ScanRow
from kiosk.app import open_kiosk
from kiosk.errors import WrongMode
from kiosk.services.attendance import (
    CSV_COLUMNS,
    ArrivalBucket,
    AttendanceService,
    PlaceCount,
    bucket_arrivals,
)
from kiosk.store.cache import Cache
from tests.kiosk.attendance_world import PromoterHistory, make_history
from tests.kiosk.live import LiveServer, live_server
from tests.kiosk.world import NOW, make_world


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server("sqlite", tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.fixture(scope="module")
def history(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> PromoterHistory:
    return make_history(live, tmp_path_factory.mktemp("kiosks"))


@pytest.fixture
def service(history: PromoterHistory) -> Iterator[AttendanceService]:
    with open_kiosk(history.settings) as kiosk:
        yield kiosk.require_attendance()


def test_totals_count_each_ticket_once_and_keep_reentries_and_refusals_apart(
    service: AttendanceService, history: PromoterHistory
) -> None:
    review = service.get_review()
    by_id = {str(event.id): event for event in review.events}
    assert len(review.events) == 5  # all the promoter's events, even those without tickets
    tonight, miami = by_id[history.tonight["id"]], by_id[history.miami["id"]]
    assert (tonight.tickets, tonight.arrived, tonight.no_shows) == (11, 5, 6)
    assert (tonight.reentries, tonight.refused, tonight.revoked) == (1, 1, 1)
    assert (miami.tickets, miami.arrived, miami.reentries, miami.refused) == (3, 2, 0, 0)
    assert miami.turnout == pytest.approx(2 / 3)
    assert (tonight.country_code, tonight.carnival_circuit) == ("TT", "Trinidad Carnival")
    assert review.events[0].id == tonight.id  # latest first
    totals = review.totals
    assert (totals.events, totals.tickets, totals.arrived, totals.no_shows) == (5, 14, 7, 7)
    assert (totals.reentries, totals.refused, totals.fans) == (1, 1, 5)
    assert review.last_pull_at is not None


def test_arrivals_are_first_admissions_per_quarter_hour_with_empty_quarters_kept(
    service: AttendanceService, history: PromoterHistory
) -> None:
    review = service.get_review()
    tonight = review.arrivals[uuid.UUID(history.tonight["id"])]
    hour = history.tonight_hour
    assert tonight.bucket == timedelta(minutes=15)
    # 21:05 and 21:07, 21:20, nothing, 21:50 and 21:52; the 22:10 re-entry is no arrival.
    assert tonight.buckets == (
        ArrivalBucket(hour, 2),
        ArrivalBucket(hour + timedelta(minutes=15), 1),
        ArrivalBucket(hour + timedelta(minutes=30), 0),
        ArrivalBucket(hour + timedelta(minutes=45), 2),
    )
    assert tonight.peak == ArrivalBucket(hour, 2)
    miami = review.arrivals[uuid.UUID(history.miami["id"])]
    assert [(b.start - history.miami_hour, b.count) for b in miami.buckets] == [
        (timedelta(0), 1),
        (timedelta(minutes=15), 1),
    ]
    quiet = [
        a for a in review.arrivals.values() if a.event_id not in {tonight.event_id, miami.event_id}
    ]
    assert len(quiet) == 3 and all(a.buckets == () for a in quiet)


def test_arrivals_spread_over_a_day_get_wider_buckets() -> None:
    start = datetime(2026, 2, 14, 20, 7, tzinfo=UTC)
    arrivals = bucket_arrivals(uuid.uuid4(), [start, start + timedelta(hours=30)])
    assert arrivals.bucket == timedelta(minutes=30)
    assert arrivals.buckets[0] == ArrivalBucket(datetime(2026, 2, 14, 20, 0, tzinfo=UTC), 1)
    assert len(arrivals.buckets) == 61 and arrivals.total == 2


def test_superfans_are_holders_admitted_at_two_or_more_of_the_promoters_events(
    service: AttendanceService, history: PromoterHistory, live: LiveServer
) -> None:
    attendees = live.world["attendees"]
    superfans = service.get_review().superfans
    assert [str(fan.user_id) for fan in superfans] == sorted(
        (attendees[0]["user_id"], attendees[1]["user_id"]),
        key=lambda user_id: next(a["handle"] for a in attendees if a["user_id"] == user_id),
    )
    for fan in superfans:
        assert fan.event_count == 2
        assert fan.events == (history.miami["name"], history.tonight["name"])  # earliest first
        assert fan.countries == ("US", "TT")
        assert fan.circuits == ("Miami Carnival", "Trinidad Carnival")
        assert fan.tier == live.passport(str(fan.user_id))["current_tier"]
    # Attendee 2 holds a Miami ticket too but never came: one event, no superfan.
    assert attendees[2]["user_id"] not in {str(fan.user_id) for fan in superfans}


def test_countries_and_circuits_count_arrivals_and_distinct_fans(
    service: AttendanceService,
) -> None:
    review = service.get_review()
    assert review.countries == (
        PlaceCount("TT", events=1, arrived=5, fans=5),
        PlaceCount("US", events=1, arrived=2, fans=2),
        PlaceCount("BB", events=1, arrived=0, fans=0),
        PlaceCount("CA", events=1, arrived=0, fans=0),
        PlaceCount("GB", events=1, arrived=0, fans=0),
    )
    assert [(c.name, c.arrived) for c in review.circuits[:2]] == [
        ("Trinidad Carnival", 5),
        ("Miami Carnival", 2),
    ]
    assert {c.name for c in review.circuits[2:]} == {
        "Toronto Caribana",
        "Notting Hill Carnival",
        "Crop Over",
    }


def _expected_rows(history: PromoterHistory, live: LiveServer) -> list[list[str]]:
    attendees = live.world["attendees"]
    tiers = {a["user_id"]: live.passport(a["user_id"])["current_tier"] for a in attendees}

    def row(
        event: dict[str, str], index: int, ticket: dict[str, str], status: str, at: str, gate: str
    ) -> list[str]:
        person = attendees[index]
        reentries = "1" if event is history.tonight and index == 0 else "0"
        return [
            event["id"],
            event["name"],
            datetime.fromisoformat(event["starts_at"]).isoformat(timespec="seconds"),
            event["country_code"],
            event["carnival_circuit"],
            str(ticket.get("ticket_id") or ticket.get("id")),
            ticket["code"],
            person["display_name"],
            person["handle"],
            tiers[person["user_id"]],
            status,
            at,
            gate,
            reentries,
        ]

    def at(hour: datetime, minutes: int) -> str:
        return (hour + timedelta(minutes=minutes)).isoformat(timespec="seconds")

    miami, tonight = history.miami, history.tonight
    mt, th = history.miami_tickets, history.tonight_hour
    rows = [
        row(miami, 0, mt[0], "ADMITTED", at(history.miami_hour, 10), "North"),
        row(miami, 1, mt[1], "ADMITTED", at(history.miami_hour, 25), "North"),
        row(miami, 2, mt[2], "NO_SHOW", "", ""),
    ]
    for index, minutes in ((0, 5), (1, 7), (2, 20), (3, 50), (4, 52)):
        ticket = attendees[index]["tickets"][0]
        rows.append(row(tonight, index, ticket, "ADMITTED", at(th, minutes), "Gate 2"))
    rest = sorted(range(5, 12), key=lambda i: attendees[i]["display_name"].casefold())
    for index in rest:
        status = "REVOKED" if index == 11 else "NO_SHOW"
        rows.append(row(tonight, index, attendees[index]["tickets"][0], status, "", ""))
    return rows


def test_csv_has_one_row_per_ticket_in_event_then_arrival_order(
    service: AttendanceService, history: PromoterHistory, live: LiveServer, tmp_path: Path
) -> None:
    text = service.export_csv()
    lines = text.split("\r\n")
    assert lines[0] == ",".join(CSV_COLUMNS) and lines[-1] == ""
    assert list(csv.reader(io.StringIO(text))) == [
        list(CSV_COLUMNS),
        *_expected_rows(history, live),
    ]
    assert f"{history.miami['id']},Miami Carnival J'ouvert," in lines[1]

    path = tmp_path / "attendance.csv"
    assert service.write_csv(path) == 3 + 12  # Miami, tonight
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read "Fête" right
    assert raw[3:].decode("utf-8") == text


def test_a_door_device_has_no_promoter_review(live: LiveServer, tmp_path: Path) -> None:
    from tests.kiosk.attendance_world import pair

    settings = pair(live, tmp_path / "door", {"role": "DOOR", "event_id": live.event_id}, "Gate 9")
    with open_kiosk(settings) as kiosk, pytest.raises(WrongMode, match="PROMOTER"):
        kiosk.require_attendance()


def test_a_revoked_ticket_is_no_arrival_and_a_pulled_check_in_without_a_scan_row_is_one(
    tmp_path: Path,
) -> None:
    world = make_world(3)
    tickets = world.ticket_rows()
    at = NOW + timedelta(minutes=40)
    tickets[0] = tickets[0].model_copy(update={"revoked": True})
    tickets[1] = tickets[1].model_copy(update={"checked_in_at": at, "checked_in_gate": "VIP"})
    scan = ScanRow(
        id=uuid.uuid4(),
        event_id=world.event.id,
        ticket_id=tickets[0].id,
        user_id=tickets[0].user_id,
        gate="Gate 1",
        scanned_at=NOW,
        outcome="ADMITTED",
    )
    cache = Cache.open(tmp_path / "cache.sqlite3", busy_timeout_ms=1000)
    try:
        cache.apply_page(world.page(tickets=tickets, scans=[scan]), ack_mark=0)
        service = AttendanceService(cache=cache)
        review = service.get_review()
        records = service.list_records()
    finally:
        cache.close()
    event = next(e for e in review.events if e.id == world.event.id)
    assert (event.tickets, event.arrived, event.revoked) == (2, 1, 1)
    assert review.arrivals[world.event.id].buckets == (
        ArrivalBucket(NOW + timedelta(minutes=30), 1),
    )
    assert review.totals.fans == 1
    # The export keeps the revoked ticket's admission: it happened before the revocation.
    assert [(r.status, r.arrived_at, r.gate) for r in records] == [
        ("REVOKED", NOW, "Gate 1"),
        ("ADMITTED", at, "VIP"),
        ("NO_SHOW", None, None),
    ]
