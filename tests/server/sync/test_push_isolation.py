"""Issue 13 over real HTTP: no content stalls a kiosk's sync.

A poisoned op is rejected alone (the rest of its batch is applied and a retry
gets the same answers); totals never overflow; duplicate op ids in one batch
are told apart; absurd times and control characters are refused per op.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core import limits
from core.reasons import Reason
from core.wire import Op
from server.db.models import Event, PassportProfile, SyncOp, TicketScan
from server.db.session import unit_of_work
from server.domain import tickets
from tests.server.factories import make_event
from tests.server.sync.conftest import Site
from tests.server.sync.world import card_op, scan_op


def statuses(response: Any) -> list[tuple[str, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["status"], r["reason"]) for r in response.json()["results"]]


def raw(op: Op, **payload: Any) -> dict[str, Any]:
    """An op as JSON with some payload values replaced (what the wire model would refuse)."""
    body = op.model_dump(mode="json")
    body["payload"] = {**body["payload"], **payload}
    return body


def test_a_gate_too_long_for_its_column_is_rejected_alone(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    long_gate = raw(scan_op(world, door, world.tickets[0], 1), gate="G" * 62)
    fine = scan_op(world, door, world.tickets[1], 2)
    first = site.push("door0", [long_gate, fine])
    assert statuses(first) == [("rejected", "invalid_op"), ("applied", None)]
    assert "gate" in first.json()["results"][0]["message"]
    again = site.push("door0", [long_gate, fine])
    assert again.json()["results"] == first.json()["results"]


def test_nul_in_a_qr_or_gate_rejects_only_that_op(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    nul_qr = raw(scan_op(world, door, world.tickets[0], 1), qr=world.tickets[0].qr_token + "\x00")
    nul_gate = raw(scan_op(world, door, world.tickets[1], 2), gate="Gate\x001")
    fine = scan_op(world, door, world.tickets[2], 3)
    response = site.push("door0", [nul_qr, nul_gate, fine])
    assert statuses(response) == [
        ("rejected", "invalid_op"),
        ("rejected", "invalid_op"),
        ("applied", None),
    ]
    again = site.push("door0", [nul_qr, nul_gate, fine])
    assert again.json()["results"] == response.json()["results"]


def test_an_absurd_occurred_at_is_rejected_as_implausible_never_a_5xx(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    ancient = scan_op(world, door, world.tickets[0], 1).model_dump(mode="json")
    ancient["occurred_at"] = "0001-01-01T00:00:00+14:00"
    future = scan_op(world, door, world.tickets[1], 2).model_dump(mode="json")
    future["occurred_at"] = "9999-12-31T23:59:59-14:00"
    before_2020 = scan_op(world, door, world.tickets[1], 3).model_dump(mode="json")
    before_2020["occurred_at"] = "2019-12-31T23:59:59Z"
    clock_absurd = scan_op(world, door, world.tickets[2], 4).model_dump(mode="json")
    clock_absurd["device_clock"] = "0001-01-01T00:00:00+14:00"
    fine = scan_op(world, door, world.tickets[2], 5)
    response = site.push("door0", [ancient, future, before_2020, clock_absurd, fine])
    assert statuses(response) == [("rejected", "implausible_time")] * 4 + [("applied", None)]
    message = response.json()["results"][0]["message"]
    assert "0001-01-01" in message and "clock" in message
    assert site.push("door0", [ancient, fine]).json()["results"] == [
        response.json()["results"][0],
        response.json()["results"][4],
    ]


def test_a_raw_device_clock_reset_to_the_epoch_is_kept_when_occurred_at_is_plausible(
    site: Site,
) -> None:
    world, door = site.world, site.world.doors[0]
    op = scan_op(world, door, world.tickets[0], 1).model_dump(mode="json")
    op["device_clock"] = "1970-01-01T00:00:09Z"
    assert statuses(site.push("door0", [op])) == [("applied", None)]


def test_repeats_of_one_op_id_in_a_batch_get_the_first_result(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    op = scan_op(world, door, world.tickets[0], 1)
    response = site.push("door0", [op, op, op])
    assert statuses(response) == [("applied", None)] * 3
    results = response.json()["results"]
    assert results[0] == results[1] == results[2]


def test_different_ops_under_one_op_id_in_a_batch_reject_the_later_ones(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    first = scan_op(world, door, world.tickets[0], 1)
    second = scan_op(world, door, world.tickets[1], 2).model_copy(update={"op_id": first.op_id})
    response = site.push("door0", [first, second, first])
    assert statuses(response) == [
        ("applied", None),
        ("rejected", "duplicate_op_id"),
        ("applied", None),
    ]
    assert response.json()["results"][1]["message"]
    # The later op was never recorded: its ticket is still unscanned, and a retry says the same.
    with unit_of_work(site.factory) as session:
        scanned = set(session.scalars(select(TicketScan.ticket_id)))
    assert scanned == {world.tickets[0].id}
    again = site.push("door0", [first, second, first])
    assert again.json()["results"] == response.json()["results"]


def test_huge_stamp_points_no_longer_poison_later_batches(site: Site) -> None:
    """2,147,483,637 points per stamp: totals are BIGINT and saturate, never out of range."""
    world, door = site.world, site.world.doors[0]
    user = world.users[0]
    for _event in range(2):
        with unit_of_work(site.factory) as session:
            event = make_event(session, points=2_147_483_637)
            ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
        who, device = site.add_door(event.id)
        payload = {"qr": ticket.qr_token, "event_id": str(event.id), "gate": "A"}
        op = scan_op(world, device, world.tickets[0], 1).model_copy(update={"payload": payload})
        assert statuses(site.push(who, [op])) == [("applied", None)]
    # Later batches touching that passport go through, and the innocent ops beside them.
    later = [scan_op(world, door, world.tickets[0], 5), scan_op(world, door, world.tickets[1], 6)]
    assert statuses(site.push("door0", later)) == [("applied", None)] * 2
    with unit_of_work(site.factory) as session:
        profile = session.scalar(select(PassportProfile).where(PassportProfile.user_id == user.id))
    assert profile is not None and profile.total_points == 2 * 2_147_483_637 + 100


def test_a_total_already_near_the_cap_saturates_instead_of_overflowing(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    user = world.users[0]
    with unit_of_work(site.factory) as session:
        profile = session.scalar(select(PassportProfile).where(PassportProfile.user_id == user.id))
        assert profile is not None
        profile.total_points = limits.PASSPORT_POINTS.maximum - 5
        event = session.get(Event, world.event_id)
        assert event is not None
        event.stamp_points_default = 2_147_483_647
    scan = scan_op(world, door, world.tickets[0], 1)
    other = scan_op(world, door, world.tickets[1], 2)
    assert statuses(site.push("door0", [scan, other])) == [("applied", None)] * 2
    with unit_of_work(site.factory) as session:
        profile = session.scalar(select(PassportProfile).where(PassportProfile.user_id == user.id))
    assert profile is not None and profile.total_points == limits.PASSPORT_POINTS.maximum


def test_card_ops_with_control_characters_are_rejected_alone(site: Site) -> None:
    world, branch = site.world, site.world.branches[0]
    user = world.users[0]
    bad = raw(card_op(world, branch, user, "stamp", 1), qr=world.passport_qr[user.id] + "\x07")
    fine = card_op(world, branch, user, "stamp", 2)
    assert statuses(site.push("branch0", [bad, fine])) == [
        ("rejected", "invalid_op"),
        ("applied", None),
    ]


def test_a_rejected_op_is_logged_for_hq_with_its_reason(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    op = raw(scan_op(world, door, world.tickets[0], 1), gate="G\x00" * 40)
    site.push("door0", [op])
    seen = site.client.get(f"/api/v1/sync/ops/{op['op_id']}", headers=site.auth("hq"))
    assert seen.status_code == 200, seen.text
    assert seen.json()["result"]["reason"] == Reason.INVALID_OP
    with unit_of_work(site.factory) as session:
        assert session.get(SyncOp, uuid.UUID(op["op_id"])) is not None


def test_a_payload_value_json_columns_cannot_hold_is_rejected_alone(site: Site) -> None:
    """NaN passes the envelope (a payload is any JSON object) but not PostgreSQL's JSONB."""
    world, door = site.world, site.world.doors[0]
    nan_gate = raw(scan_op(world, door, world.tickets[0], 1), gate=float("nan"))
    infinite = raw(scan_op(world, door, world.tickets[1], 2), event_id=float("inf"))
    fine = scan_op(world, door, world.tickets[2], 3)
    response = site.push("door0", [nan_gate, infinite, fine])
    expected = [("rejected", "invalid_op"), ("rejected", "invalid_op"), ("applied", None)]
    assert statuses(response) == expected
    assert site.push("door0", [nan_gate, infinite, fine]).json() | {"server_time": None} == (
        response.json() | {"server_time": None}
    )
    with unit_of_work(site.factory) as session:
        logged = session.get(SyncOp, uuid.UUID(nan_gate["op_id"]))
    assert logged is not None and logged.status == "rejected"
    if site.engine.dialect.name == "postgresql":  # JSONB refused it: kept as text
        assert "NaN" in logged.payload["unstorable"]


def test_an_absurd_device_time_is_flagged_never_a_5xx(site: Site) -> None:
    world, door = site.world, site.world.doors[0]
    body = {
        "device_time": "0001-01-01T00:00:00+14:00",
        "ops": [scan_op(world, door, world.tickets[0], 1).model_dump(mode="json")],
    }
    response = site.client.post("/api/v1/sync/push", json=body, headers=site.auth("door0"))
    assert statuses(response) == [("applied", None)]
    devices = site.client.get("/api/v1/devices", headers=site.auth("hq")).json()
    (mine,) = [device for device in devices if device["id"] == str(door.id)]
    assert mine["clock_flagged"] is True
