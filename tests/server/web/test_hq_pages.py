"""HQ over HTTP: every irreversible action asks first and says what it did; bills name their
promoter and event; devices their place; conflicts their ticket and attendee, resolved with a
note; memberships their people."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from core.wire import OpStatus
from server.db.models import ConflictResolution, Device, SyncOp, Ticket
from server.db.session import unit_of_work
from server.domain import memberships, promoters
from tests.conftest import _Databases
from tests.server.api.conftest import empty_tables
from tests.server.factories import T0
from tests.server.web.conftest import login, post_form
from tests.server.web.world import WebWorld


@pytest.fixture
def web_engine(databases: _Databases) -> Engine:
    """These pages run on SQLite; the services under them run on both engines in
    tests/server/domain (test_portal_services, test_tickets_by_email)."""
    engine = databases.engine("sqlite")
    empty_tables(engine)
    return engine


def test_approving_asks_first_then_says_what_it_did(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        waiting = promoters.register(session, name="Wait Crew", email="wait@crew.example").id
        doomed = promoters.register(session, name="No Crew", email="no@crew.example").id
    login(client, world.emails["hq"])
    dashboard = client.get("/hq").text
    assert f'href="/hq/promoters/{waiting}/approve"' in dashboard  # a link to the question
    ask = client.get(f"/hq/promoters/{waiting}/approve")
    assert ask.status_code == 200
    assert "Approve Wait Crew?" in ask.text and "wait@crew.example" in ask.text
    assert "cannot be undone" in ask.text and 'href="/hq" id="cancel"' in ask.text
    done = post_form(client, ask.url.path, ask.url.path, {})
    assert done.status_code == 303
    assert "Approved Wait Crew (wait@crew.example)" in client.get("/hq").text
    refuse = client.get(f"/hq/promoters/{doomed}/reject")
    assert "Reject No Crew?" in refuse.text
    post_form(client, refuse.url.path, refuse.url.path, {})
    assert "Rejected the application from No Crew" in client.get("/hq").text
    assert client.get(f"/hq/promoters/{doomed}/promote").status_code == 404
    assert client.get(f"/hq/promoters/{uuid.uuid4()}/approve").status_code == 404


def test_billing_rows_name_promoter_and_event_and_a_status_asks_first(
    client: TestClient, world: WebWorld
) -> None:
    login(client, world.emails["hq"])
    row = client.get("/hq").text.split(f'id="bill-{world.billing_a_id}"', 1)[1].split("</tr>")[0]
    assert "Soca Sunrise" in row and "Island Vibes" in row
    fee = post_form(client, "/hq", f"/hq/billing/{world.billing_a_id}/fee", {"fee": "19.99"})
    assert fee.status_code == 303
    assert "The fee for Soca Sunrise (Island Vibes) is now 19.99 USD." in client.get("/hq").text
    for hostile in ("inf", "-inf", "1e308", "1e400000000", "NaN", "-1", "0.001"):
        bad = post_form(client, "/hq", f"/hq/billing/{world.billing_a_id}/fee", {"fee": hostile})
        assert bad.status_code == 422, hostile
    ask = client.get(f"/hq/billing/{world.billing_a_id}/status?to=WAIVED")
    assert "Mark the bill waived?" in ask.text and "This is final." in ask.text
    assert 'name="status" value="WAIVED"' in ask.text
    done = post_form(client, str(ask.url), ask.url.path, {"status": "WAIVED"})
    assert done.status_code == 303
    assert "The bill for Soca Sunrise (Island Vibes) is Waived." in client.get("/hq").text


def _conflict(factory: sessionmaker[Session], world: WebWorld) -> uuid.UUID:
    """Gate 1 admitted the attendee's ticket; a second (offline) scan lost to it."""
    with unit_of_work(factory) as session:
        ticket, door = session.get(Ticket, world.ticket_id), session.get(Device, world.door_id)
        assert ticket is not None and door is not None
        door.last_sync_at = T0
        ops: list[SyncOp] = []
        for status in (OpStatus.APPLIED, OpStatus.CONFLICT):
            op = SyncOp(
                op_id=uuid.uuid4(),
                device_id=world.door_id,
                seq=len(ops) + 1,
                type="ticket.scan",
                occurred_at=T0,
                device_clock=T0,
                payload={},
                status=status,
                first_status=status,
                subject_key=f"ticket:{ticket.id}",
                message="Already admitted" if ops else None,
                blocked_by_op_id=ops[0].op_id if ops else None,
            )
            session.add(op)
            session.flush()
            ops.append(op)
        return ops[1].op_id


def test_devices_name_their_event_and_conflicts_are_resolved_with_a_note(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    op_id = _conflict(factory, world)
    login(client, world.emails["hq"])
    page = client.get("/hq/devices").text
    device = page.split(f'id="device-{world.door_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Gate 1" in device and "Event: Soca Sunrise" in device and "data-local" in device
    conflict = page.split(f'id="conflict-{op_id}"', 1)[1].split("</article>", 1)[0]
    assert "Ticket " in conflict and "at Soca Sunrise" in conflict
    assert "@road_runner · road_runner@example.com" in conflict
    action = f"/hq/conflicts/{op_id}/resolve"
    empty = post_form(client, "/hq/devices", action, {"note": "   "})
    assert empty.status_code == 422 and 'id="note-error"' in empty.text
    done = post_form(client, "/hq/devices", action, {"note": "Let in once; told Gate 2."})
    assert done.status_code == 303
    after = client.get("/hq/devices").text
    assert "Conflict marked resolved" in after and "Let in once; told Gate 2." in after
    with unit_of_work(factory) as session:
        stored = session.get(ConflictResolution, op_id)
        assert stored is not None and stored.resolved_by_user_id is not None
    ask = client.get(f"/hq/devices/{world.door_id}/revoke")
    assert "Revoke Gate 1?" in ask.text and "Event: Soca Sunrise" in ask.text
    post_form(client, ask.url.path, ask.url.path, {})
    assert "Gate 1 is revoked" in client.get("/hq/devices").text


def test_memberships_show_people_by_handle_and_email(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        memberships.create(session, user_id=world.attendee_id, tier="GOLD", now=T0)
    login(client, world.emails["hq"])
    table = client.get("/hq/tiers").text.split('id="memberships"', 1)[1]
    assert "@road_runner" in table and "road_runner@example.com" in table
    assert str(world.attendee_id) not in table
