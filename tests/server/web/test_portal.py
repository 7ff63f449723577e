"""The promoter portal and the HQ dashboard: flows, roles, and tenancy page by page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import EventPassportBilling, Promoter
from server.db.models.enums import BillingStatus, PromoterStatus
from server.db.session import unit_of_work
from tests.server.web.conftest import login, post_form, register
from tests.server.web.world import WebWorld


def door_scan(client: TestClient, world: WebWorld, minute: int = 3) -> dict[str, Any]:
    """A kiosk at event A pushes one scan of the attendee's ticket."""
    at = datetime(2026, 2, 14, 21, minute, tzinfo=UTC).isoformat()
    body = {
        "device_time": at,
        "ops": [
            {
                "op_id": str(uuid.uuid4()),
                "seq": 1,
                "type": "ticket.scan",
                "occurred_at": at,
                "device_clock": at,
                "payload": {"qr": world.ticket_qr, "event_id": str(world.event_a_id), "gate": "A"},
            }
        ],
    }
    response = client.post(
        "/api/v1/sync/push", json=body, headers={"Authorization": f"Bearer {world.door_token}"}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def test_passport_shows_a_stamp_after_a_kiosk_sync(client: TestClient, world: WebWorld) -> None:
    login(client, world.emails["attendee"])
    before = client.get("/passport")
    assert "No stamps yet" in before.text
    assert "<svg" in before.text  # the passport QR
    assert door_scan(client, world)["status"] == "applied"
    after = client.get("/passport").text
    assert "Soca Sunrise" in after
    assert '<div class="country">TT</div>' in after
    assert "Trinidad Carnival" in after
    assert '<strong id="points">50</strong>' in after
    assert "250 points to <strong>SILVER</strong>" in after


def test_promoter_enables_the_passport_and_sees_attendance(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    portal = client.get("/promoter")
    assert "Soca Sunrise" in portal.text and "Miami Lime" in portal.text
    assert "Their Fête" not in portal.text
    page = f"/promoter/events/{world.event_c_id}"
    assert 'id="enable"' in client.get(page).text
    enabled = post_form(client, page, f"{page}/enable", {})
    assert enabled.status_code == 303
    shown = client.get(page).text
    assert 'id="passport-enabled"' in shown
    assert '<strong id="billing-status">DRAFT</strong>' in shown
    with unit_of_work(factory) as session:
        bill = session.scalars(
            select(EventPassportBilling).where(EventPassportBilling.event_id == world.event_c_id)
        ).one()
        assert bill.status == BillingStatus.DRAFT

    door_scan(client, world)
    event_a = client.get(f"/promoter/events/{world.event_a_id}").text
    assert '<strong id="admitted">1</strong>' in event_a
    assert 'id="arrivals-chart"' in event_a
    assert "<title>21:00: 1</title>" in event_a
    csv = client.get(f"/promoter/events/{world.event_a_id}/attendance.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("scanned_at,ticket_code")
    assert ",ADMITTED," in csv.text
    assert "TT: 1" in client.get("/promoter").text


def test_promoter_gets_a_pairing_code_for_a_door_device(
    client: TestClient, world: WebWorld
) -> None:
    login(client, world.emails["promoter_a"])
    page = f"/promoter/events/{world.event_a_id}"
    shown = post_form(client, page, f"{page}/pairing-code", {})
    assert shown.status_code == 200
    assert 'id="pairing-code"' in shown.text


def _promoter_a_pages_for(world: WebWorld) -> list[tuple[str, str]]:
    other = world.event_b_id
    return [
        ("GET", f"/promoter/events/{other}"),
        ("POST", f"/promoter/events/{other}/enable"),
        ("POST", f"/promoter/events/{other}/pairing-code"),
        ("GET", f"/promoter/events/{other}/attendance.csv"),
        ("GET", f"/promoter/events/{uuid.uuid4()}"),
        ("GET", "/promoter/events/not-an-id"),
    ]


def test_a_promoter_never_sees_another_promoters_event(client: TestClient, world: WebWorld) -> None:
    login(client, world.emails["promoter_a"])
    token_page = client.get("/promoter").text
    token = token_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for method, path in _promoter_a_pages_for(world):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token})
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Their Fête" not in response.text
        assert "couldn&#39;t find" in response.text


@pytest.mark.parametrize(
    ("who", "headline"),
    [("attendee", "You're not a promoter yet"), ("hq", "This is an HQ account")],
)
def test_only_promoters_open_the_portal_and_others_are_told_why(
    client: TestClient, world: WebWorld, who: str, headline: str
) -> None:
    login(client, world.emails[who])
    shown = client.get("/promoter")
    assert shown.status_code == 200
    assert headline in shown.text
    assert 'id="events"' not in shown.text
    assert client.get(f"/promoter/events/{world.event_a_id}").status_code == 403


@pytest.mark.parametrize("who", ["attendee", "promoter_a"])
def test_only_hq_opens_the_dashboard(client: TestClient, world: WebWorld, who: str) -> None:
    login(client, world.emails[who])
    assert client.get("/hq").status_code == 403


def test_hq_approves_a_promoter_who_can_then_open_the_portal(
    app: Any, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    from tests.server.web.conftest import browser

    with browser(app) as fan, browser(app) as hq:
        register(fan, "new_promoter")
        post_form(
            fan,
            "/passport-promoters",
            "/passport-promoters",
            {"name": "New Crew", "email": "crew@example.com"},
        )
        pending_page = fan.get("/promoter")  # pending: not yet, and it says so
        assert pending_page.status_code == 200
        assert "Your application is pending" in pending_page.text
        login(hq, world.emails["hq"])
        dashboard = hq.get("/hq").text
        assert "New Crew" in dashboard
        with unit_of_work(factory) as session:
            pending = session.scalars(select(Promoter).where(Promoter.name == "New Crew")).one()
        approved = post_form(hq, "/hq", f"/hq/promoters/{pending.id}/approve", {})
        assert approved.status_code == 303
        with unit_of_work(factory) as session:
            assert session.get(Promoter, pending.id).status == PromoterStatus.APPROVED  # type: ignore[union-attr]
        assert 'id="new-event"' in fan.get("/promoter").text


def test_hq_rejects_an_application(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        from server.domain import promoters

        pending = promoters.register(session, name="Nope Crew", email="nope@example.com").id
    login(client, world.emails["hq"])
    assert post_form(client, "/hq", f"/hq/promoters/{pending}/reject", {}).status_code == 303
    with unit_of_work(factory) as session:
        assert session.get(Promoter, pending).status == PromoterStatus.REJECTED  # type: ignore[union-attr]
    assert client.post(f"/hq/promoters/{uuid.uuid4()}/approve").status_code == 403  # no token
