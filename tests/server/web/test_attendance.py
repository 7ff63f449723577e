"""server.domain.attendance on both engines: totals, 15-minute arrivals, repeat fans,
countries and circuits, and the CSV rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from server.db.models import Event, Promoter, TicketScan, User
from server.db.models.enums import PromoterStatus, ScanOutcome
from server.domain import attendance, passport
from tests.server.factories import make_event, make_user

T0 = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)


def _promoter(session: Session, name: str) -> Promoter:
    promoter = Promoter(name=name, email=f"{name}@example.com", status=PromoterStatus.APPROVED)
    session.add(promoter)
    session.flush()
    return promoter


def _scan(
    session: Session, event: Event, user: User, minutes: float, outcome: str = ScanOutcome.ADMITTED
) -> None:
    session.add(
        TicketScan(
            event_id=event.id,
            user_id=user.id,
            outcome=outcome,
            scanned_at=T0 + timedelta(minutes=minutes),
        )
    )
    session.flush()


def test_event_attendance_counts_outcomes_and_buckets_arrivals(session: Session) -> None:
    event = make_event(session)
    fans = [make_user(session) for _ in range(4)]
    _scan(session, event, fans[0], 0)
    _scan(session, event, fans[1], 14.9)
    _scan(session, event, fans[2], 15)
    _scan(session, event, fans[3], 47)
    _scan(session, event, fans[0], 50, ScanOutcome.REENTRY)
    _scan(session, event, fans[1], 51, ScanOutcome.REFUSED)
    result = attendance.event_attendance(session, event_id=event.id)
    assert (result.admitted, result.reentries, result.refused) == (4, 1, 1)
    assert [(a.starts_at, a.count) for a in result.arrivals] == [
        (T0, 2),
        (T0 + timedelta(minutes=15), 1),
        (T0 + timedelta(minutes=45), 1),
    ]


def test_event_without_scans_has_zeros(session: Session) -> None:
    event = make_event(session)
    result = attendance.event_attendance(session, event_id=event.id)
    assert (result.admitted, result.reentries, result.refused, result.arrivals) == (0, 0, 0, [])


def test_repeat_attendees_countries_and_circuits_stay_within_the_promoter(
    session: Session,
) -> None:
    mine, theirs = _promoter(session, "mine"), _promoter(session, "theirs")
    trini = make_event(session, promoter_id=mine.id, circuit="Trinidad Carnival")
    miami = make_event(session, promoter_id=mine.id, country="US", circuit="Miami Carnival")
    other = make_event(session, promoter_id=theirs.id, circuit="Trinidad Carnival")
    loyal = make_user(session, display_name="Loyal", home_country="TT")
    once = make_user(session, display_name="Once", home_country="GB")
    elsewhere = make_user(session, display_name="Elsewhere", home_country="US")
    _scan(session, trini, loyal, 0)
    _scan(session, trini, loyal, 5, ScanOutcome.REENTRY)
    _scan(session, miami, loyal, 0)
    _scan(session, trini, once, 1)
    _scan(session, other, elsewhere, 0)
    _scan(session, other, once, 0)

    handle = passport.get_or_create_profile(session, user_id=loyal.id).handle
    repeat = attendance.repeat_attendees(session, promoter_id=mine.id)
    assert [(fan.handle, fan.events) for fan in repeat] == [(handle, 2)]  # never the real name
    assert attendance.countries(session, promoter_id=mine.id) == [("GB", 1), ("TT", 1)]
    assert attendance.circuits(session, promoter_id=mine.id) == [
        ("Trinidad Carnival", 2),
        ("Miami Carnival", 1),
    ]
    assert attendance.repeat_attendees(session, promoter_id=theirs.id) == []


def test_scan_rows_are_in_door_time_order(session: Session) -> None:
    event = make_event(session)
    fan = make_user(session)
    _scan(session, event, fan, 10, ScanOutcome.REENTRY)
    _scan(session, event, fan, 0)
    rows = attendance.scan_rows(session, event_id=event.id)
    assert [row["outcome"] for row in rows] == ["ADMITTED", "REENTRY"]
