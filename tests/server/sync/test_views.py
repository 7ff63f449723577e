"""HQ views: one op with first and current result, conflicts with both sides, device health."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.wire import Op
from server.settings import ServerSettings
from server.sync import views
from server.sync.push import push
from tests.server.factories import T0
from tests.server.sync.world import build_world, request, scan_op

SETTINGS = ServerSettings(database_url="sqlite://")
NOW = T0 + timedelta(hours=2)


def send(session: Session, device: object, ops: list[Op], **kwargs: object) -> None:
    push(
        session,
        device=device,
        request=request(ops, **kwargs),  # type: ignore[arg-type]
        now=NOW,
        settings=SETTINGS,
    )


def test_conflict_lists_both_devices_and_times(session: Session) -> None:
    world = build_world(session, users=1, doors=2, branches=0)
    north, south = world.doors
    send(session, north, [scan_op(world, north, world.tickets[0], 5, gate="North")])
    late = scan_op(world, south, world.tickets[0], 7, verdict="green", gate="South")
    send(session, south, [late])
    [conflict] = views.list_conflicts(session)
    assert conflict["op_id"] == str(late.op_id)
    assert conflict["device"]["id"] == str(south.id)
    assert conflict["won_by"]["device"]["name"] == north.name
    assert conflict["won_by"]["occurred_at"] == (T0 + timedelta(minutes=5)).isoformat()
    assert conflict["reason"] == "already_scanned"


def test_get_op_shows_first_and_current_result(session: Session) -> None:
    world = build_world(session, users=1, doors=2, branches=0)
    early_door, late_door = world.doors
    first = scan_op(world, late_door, world.tickets[0], 30)
    send(session, late_door, [first])
    send(session, early_door, [scan_op(world, early_door, world.tickets[0], 1)])
    shown = views.get_op(session, op_id=first.op_id)
    assert shown["first_result"]["status"] == "applied"
    assert shown["result"]["status"] == "conflict"
    assert shown["payload"]["gate"] == "Gate 1"


def test_device_report_shows_gaps_and_flags_a_drifting_clock(session: Session) -> None:
    world = build_world(session, users=3, doors=2, branches=0)
    steady, drifting = world.doors
    ops = [scan_op(world, drifting, ticket, m) for m, ticket in enumerate(world.tickets)]
    skipped = [ops[0], ops[2]]  # seq 2 never arrives
    send(session, drifting, skipped, device_time=NOW - timedelta(minutes=3))
    send(session, steady, [], device_time=NOW - timedelta(seconds=20))
    report = {row["id"]: row for row in views.device_report(session, now=NOW)}
    assert report[str(drifting.id)]["seq_gaps"] == [[2, 2]]
    assert report[str(drifting.id)]["clock_flagged"] is True
    assert report[str(drifting.id)]["clock_offset_ms"] == 180_000
    assert report[str(steady.id)]["clock_flagged"] is False
    assert report[str(drifting.id)]["last_seq"] == 3
