"""The promoter's journey over HTTP: apply signed out, wait, get approved, create and edit an
event, enable the passport after seeing the fee, issue tickets one by one and by CSV, revoke one
after a confirmation, pair a door device and revoke it; tenancy page by page."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import Device, Event, Promoter, Ticket, User, utcnow
from server.db.session import unit_of_work
from server.domain import devices, promoters
from server.domain.attendance import Arrivals, EventAttendance
from server.web.promoter import arrivals_chart
from tests.conftest import _Databases
from tests.server.api.conftest import empty_tables
from tests.server.web.conftest import login, post_form, register, token_of
from tests.server.web.world import WebWorld

APPLY = {
    "name": "Fresh Crew",
    "email": "fresh@crew.example",
    "location_country": "TT",
    "password": "wine-n-grind",
    "password_confirmation": "wine-n-grind",
}
EVENT = {
    "name": "Sunrise Cooler Fête",
    "starts_at": "2026-02-14T21:00",
    "ends_at": "2026-02-15T04:00",
    "time_zone": "America/Port_of_Spain",
    "venue": "Queen's Park Savannah",
    "city": "Port of Spain",
    "country_code": "tt",
    "carnival_circuit": "Trinidad Carnival",
    "stamp_points_default": "120",
}


@pytest.fixture
def web_engine(databases: _Databases) -> Engine:
    """These pages run on SQLite; the services under them run on both engines in
    tests/server/domain (test_portal_services, test_tickets_by_email)."""
    engine = databases.engine("sqlite")
    empty_tables(engine)
    return engine


def test_applying_signed_out_signs_in_shows_pending_then_opens_the_portal(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    differs = post_form(
        client,
        "/passport-promoters",
        "/passport-promoters",
        {**APPLY, "password_confirmation": "something-else"},
    )
    assert differs.status_code == 422 and 'id="password_confirmation-error"' in differs.text
    applied = post_form(client, "/passport-promoters", "/passport-promoters", APPLY)
    assert (applied.status_code, applied.headers["location"]) == (303, "/promoter")
    pending = client.get("/promoter").text
    assert "Your application is pending" in pending and 'id="confirmation"' in pending
    again = post_form(client, "/passport-promoters", "/passport-promoters", APPLY)
    assert again.status_code == 409 and "already have an application" in again.text
    with unit_of_work(factory) as session:
        [row] = session.scalars(select(Promoter).where(Promoter.email == APPLY["email"])).all()
        promoters.approve(session, promoter_id=row.id)
    client.cookies.clear()
    shown = post_form(
        client, "/login", "/login", {"email": "FRESH@crew.example", "password": "wine-n-grind"}
    )
    assert shown.headers["location"] == "/promoter"  # a promoter's login lands on the portal
    portal = client.get("/promoter").text
    assert 'id="no-events"' in portal and 'id="new-event"' in portal


def test_a_rejected_applicant_is_told_and_may_apply_again(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    register(client, "hopeful")
    post_form(
        client,
        "/passport-promoters",
        "/passport-promoters",
        {"name": "Hope", "email": "h@x.example"},
    )
    with unit_of_work(factory) as session:
        row = session.scalars(select(Promoter).where(Promoter.name == "Hope")).one()
        promoters.reject(session, promoter_id=row.id)
    page = client.get("/promoter").text
    assert "Your application was not approved" in page and "Apply again" in page


def test_a_promoter_creates_and_edits_an_event_on_the_venues_clock(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    bad = post_form(
        client,
        "/promoter/events/new",
        "/promoter/events",
        {**EVENT, "name": "", "starts_at": "soon", "stamp_points_default": "10001"},
    )
    assert bad.status_code == 422
    for name in ("name", "starts_at", "stamp_points_default"):
        assert f'id="{name}-error"' in bad.text, name
    assert "Queen&#39;s Park Savannah" in bad.text  # what was typed stays
    made = post_form(client, "/promoter/events/new", "/promoter/events", EVENT)
    assert made.status_code == 303
    page = client.get(made.headers["location"]).text
    assert "Sunrise Cooler Fête is created" in page
    assert "Sat 14 Feb 2026, 21:00 AST" in page  # the venue's clock, with its zone
    with unit_of_work(factory) as session:
        event = session.scalars(select(Event).where(Event.name == EVENT["name"])).one()
        assert event.starts_at.isoformat() == "2026-02-15T01:00:00+00:00"
        assert (event.country_code, event.time_zone, event.stamp_points_default) == (
            "TT",
            "America/Port_of_Spain",
            120,
        )
    edit = f"/promoter/events/{event.id}/edit"
    assert 'value="2026-02-14T21:00"' in client.get(edit).text
    saved = post_form(
        client, edit, edit, {**EVENT, "name": "Sunset Cooler Fête", "starts_at": "2026-02-14T18:30"}
    )
    assert saved.status_code == 303
    assert "Sunset Cooler Fête: changes saved." in client.get(f"/promoter/events/{event.id}").text


def test_enabling_shows_the_fee_first_and_disabling_stops_at_the_first_stamp(
    client: TestClient, world: WebWorld
) -> None:
    login(client, world.emails["promoter_a"])
    event = f"/promoter/events/{world.event_c_id}"
    ask = client.get(f"{event}/enable")
    assert ask.status_code == 200 and "billed per event" in ask.text and 'id="confirm"' in ask.text
    assert post_form(client, f"{event}/enable", f"{event}/enable", {}).status_code == 303
    page = client.get(event).text
    assert "Soca Passport is on for this event." in page and 'id="disable"' in page
    assert post_form(client, event, f"{event}/disable", {}).status_code == 303
    assert 'id="enable"' in client.get(event).text


def test_tickets_are_issued_by_email_and_csv_listed_and_revoked_after_a_confirmation(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    tickets_page = f"/promoter/events/{world.event_a_id}/tickets"
    bad = post_form(client, tickets_page, tickets_page, {"email": "nope"})
    assert bad.status_code == 422 and 'id="email-error"' in bad.text
    messages = []
    for email in (world.emails["attendee"], "stranger@example.com"):
        response = post_form(client, tickets_page, tickets_page, {"email": email})
        assert response.status_code == 303
        messages.append(client.get(tickets_page).text.split('id="flash">', 1)[1].split("<", 1)[0])
    assert all(m.startswith("Ticket ") and " issued to " in m for m in messages)
    assert messages[0].endswith(
        f"issued to {world.emails['attendee']} ({world.emails['attendee']})."
    )
    assert all("Road Runner" not in message for message in messages)  # never the account's name
    upload = client.post(
        f"{tickets_page}/csv",
        data={"csrf_token": token_of(client.get(tickets_page).text)},
        files={
            "file": (
                "buyers.csv",
                io.BytesIO(b"email,name\nann@example.com,Ann\nbad,Bob\n"),
                "text/csv",
            )
        },
    )
    assert upload.status_code == 200
    assert (
        "1 of 2 rows got a ticket" in upload.text
        and "doesn&#39;t look like an email" in upload.text
    )
    listed = client.get(tickets_page).text
    assert 'id="ticket-total">4<' in listed  # the world's, two by hand, one from the CSV
    with unit_of_work(factory) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.holder_name == "Ann")).one()
    ask = client.get(f"/promoter/tickets/{ticket.id}/revoke")
    assert ask.status_code == 200 and f"Revoke ticket {ticket.code}?" in ask.text
    revoked = post_form(client, ask.url.path, ask.url.path, {})
    assert revoked.status_code == 303
    after = client.get(tickets_page).text
    assert f"Ticket {ticket.code} (Ann) is revoked" in after
    assert (
        after.split(f'id="ticket-{ticket.code}"', 1)[1].split("</tr>", 1)[0].count("Revoked") == 1
    )
    empty = client.post(
        f"{tickets_page}/csv",
        data={"csrf_token": token_of(after)},
        files={"file": ("e.csv", b"", "text/csv")},
    )
    assert empty.status_code == 422 and 'id="upload-error"' in empty.text


def test_a_pairing_code_comes_with_its_qr_and_countdown_and_devices_are_revoked(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    event = f"/promoter/events/{world.event_a_id}"
    shown = post_form(client, event, f"{event}/pairing-code", {})
    assert shown.status_code == 200
    code = shown.text.split('id="pairing-code">', 1)[1].split("<", 1)[0]
    assert len(code) == 9 and code[4] == "-"
    assert 'class="qr" id="pairing-qr"' in shown.text and "<svg" in shown.text
    assert 'data-countdown="600"' in shown.text
    assert '<script src="/static/site.js" defer></script>' in shown.text
    assert client.get("/static/site.js").status_code == 200
    with unit_of_work(factory) as session:
        paired = devices.pair(session, code=code, name="Gate 9", now=utcnow())
    listed = client.get("/promoter/devices").text
    assert "Gate 9" in listed and "Gate 1" in listed and "Event: Soca Sunrise" in listed
    ask = client.get(f"/promoter/devices/{paired.device.id}/revoke")
    assert "Revoke Gate 9?" in ask.text
    assert post_form(client, ask.url.path, ask.url.path, {}).status_code == 303
    assert "Gate 9 is revoked" in client.get("/promoter/devices").text
    with unit_of_work(factory) as session:
        assert session.get(Device, paired.device.id).revoked_at is not None  # type: ignore[union-attr]


def test_a_promoter_never_reaches_another_promoters_tickets_or_devices(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_b"])
    token = token_of(client.get("/promoter").text)
    with unit_of_work(factory) as session:
        owner_before = session.get(Ticket, world.ticket_id).status  # type: ignore[union-attr]
        users_before = len(session.scalars(select(User)).all())
    theirs = world.event_a_id
    for path in (
        f"/promoter/events/{theirs}/tickets",
        f"/promoter/events/{theirs}/edit",
        f"/promoter/events/{theirs}/enable",
        f"/promoter/tickets/{world.ticket_id}/revoke",
        f"/promoter/devices/{world.door_id}/revoke",
        f"/promoter/tickets/{uuid.uuid4()}/revoke",
    ):
        assert client.get(path).status_code == 404, path
    for path, data in (
        (f"/promoter/events/{theirs}/tickets", {"email": "sneak@example.com"}),
        (f"/promoter/events/{theirs}/edit", EVENT),
        (f"/promoter/events/{theirs}/disable", {}),
        (f"/promoter/tickets/{world.ticket_id}/revoke", {}),
        (f"/promoter/devices/{world.door_id}/revoke", {}),
    ):
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 404, path
    assert "Gate 1" not in client.get("/promoter/devices").text
    with unit_of_work(factory) as session:
        assert session.get(Ticket, world.ticket_id).status == owner_before  # type: ignore[union-attr]
        assert len(session.scalars(select(User)).all()) == users_before
        assert session.get(Device, world.door_id).revoked_at is None  # type: ignore[union-attr]


def test_registering_with_a_ticket_email_claims_the_ticket_on_the_web(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with TestClient(client.app, follow_redirects=False) as promoter:
        login(promoter, world.emails["promoter_a"])
        page = f"/promoter/events/{world.event_a_id}/tickets"
        post_form(promoter, page, page, {"email": "later@example.com", "holder_name": "Later Fan"})
    registered = register(client, "later_fan", email="LATER@example.com")
    assert registered.status_code == 303
    with unit_of_work(factory) as session:
        user = session.scalars(select(User).where(User.username == "later_fan")).one()
        held = session.scalars(select(Ticket).where(Ticket.holder_name == "Later Fan")).one()
        assert held.user_id == user.id and not user.placeholder
    target = urlparse(registered.headers["location"])
    assert target.path == "/passport" and not parse_qs(target.query)


def test_the_arrivals_chart_reads_the_venue_clock() -> None:
    """A fête in Port of Spain that fills at 01:15 UTC shows its bar at 21:15, the time the
    promoter lived through, not the server's UTC."""
    window = Arrivals(datetime(2027, 1, 3, 1, 15, tzinfo=UTC), 40)
    figures = EventAttendance(uuid.uuid4(), 40, 0, 0, [window])
    assert [b["label"] for b in arrivals_chart(figures, "America/Port_of_Spain")["bars"]] == [
        "21:15"
    ]
    assert [b["label"] for b in arrivals_chart(figures, None)["bars"]] == ["01:15"]
