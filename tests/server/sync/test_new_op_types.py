"""The second wave's op types: `scan.refused` (a refusal recorded) and `pass.unstamp`."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.reasons import Reason
from core.wire import Op, OpStatus, PushResponse
from server.db.models import Device, PassEntry, PassportStamp, SyncOp, TicketScan
from server.domain import attendance, cards
from server.settings import ServerSettings
from server.sync import views
from server.sync.push import push
from tests.server.factories import T0, make_event
from tests.server.sync.conftest import Site
from tests.server.sync.world import (
    World,
    build_world,
    card_op,
    make_device,
    refused_op,
    request,
    unstamp_op,
)

SETTINGS = ServerSettings(database_url="sqlite://")


def send(session: Session, device: Device, ops: list[Op]) -> PushResponse:
    return push(
        session,
        device=device,
        request=request(ops),
        now=T0 + timedelta(hours=6),
        settings=SETTINGS,
    )


def outcome(session: Session, op: Op) -> tuple[str, str | None, uuid.UUID | None]:
    row = session.get(SyncOp, op.op_id)
    assert row is not None
    session.refresh(row)
    return row.status, row.reason, row.blocked_by_op_id


def card_of(session: Session, world: World, index: int = 0) -> tuple[int, int]:
    card = cards.get_pass(session, offer_id=world.offer.id, user_id=world.users[index].id)
    assert card is not None
    session.refresh(card)
    return card.current_stamps, card.rewards_claimed


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


# ------------------------------------------------------------------------ scan.refused


def test_a_refused_scan_is_recorded_counted_and_seen_by_hq(site: Site) -> None:
    world = site.world
    op = refused_op(world, world.doors[0], "NOT-A-SOCA-CODE", 1)
    response = site.push("door0", [op])
    assert response.json()["results"][0]["status"] == "applied"
    assert site.push("door0", [op]).json()["results"] == response.json()["results"]
    with site.factory() as session:
        (scan,) = session.scalars(select(TicketScan)).all()
        assert (scan.outcome, scan.reason, scan.gate) == ("REFUSED", "bad_signature", "Gate 1")
        assert scan.ticket_id is None and scan.device_id == world.doors[0].id
        assert scan.scanned_at == T0 + timedelta(minutes=1)
        assert session.scalar(select(func.count()).select_from(PassportStamp)) == 0
        figures = attendance.event_attendance(session, event_id=world.event_id)
        assert (figures.admitted, figures.refused) == (0, 1)
    devices = site.client.get("/api/v1/devices", headers=site.auth("hq")).json()
    by_id = {device["id"]: device for device in devices}
    assert by_id[str(world.doors[0].id)]["refused_scans"] == 1


def test_a_refused_scan_for_another_event_is_wrong_event(session: Session, world: World) -> None:
    other = make_device(session, "DOOR", event_id=make_event(session).id)
    result = send(session, other, [refused_op(world, other, "X", 1)]).results[0]
    assert (result.status, result.reason) == (OpStatus.REJECTED, Reason.WRONG_EVENT)
    assert session.scalar(select(func.count()).select_from(TicketScan)) == 0


def test_only_a_door_records_a_refused_scan(session: Session, world: World) -> None:
    branch = world.branches[0]
    result = send(session, branch, [refused_op(world, branch, "X", 1)]).results[0]
    assert (result.status, result.reason) == (OpStatus.REJECTED, Reason.OUT_OF_SCOPE)


# ------------------------------------------------------------------------ pass.unstamp


def test_an_unstamp_withdraws_its_stamp_from_the_card(session: Session, world: World) -> None:
    branch, user = world.branches[0], world.users[0]
    stamps = [card_op(world, branch, user, "stamp", m) for m in (1, 2)]
    undo = unstamp_op(world, branch, user, stamps[1].op_id, 3)
    results = send(session, branch, [*stamps, undo]).results
    assert results[2].status is OpStatus.APPLIED
    assert results[2].effects["undoes"] == str(stamps[1].op_id)
    assert card_of(session, world) == (1, 0)
    assert outcome(session, stamps[1]) == ("duplicate", Reason.STAMP_UNDONE, undo.op_id)
    entries = set(session.scalars(select(PassEntry.op_id)))
    assert entries == {stamps[0].op_id}


def test_an_unstamp_that_arrives_before_its_stamp_converges(session: Session, world: World) -> None:
    branch, user = world.branches[0], world.users[0]
    stamp = card_op(world, branch, user, "stamp", 1)
    undo = unstamp_op(world, branch, user, stamp.op_id, 2)
    early = send(session, branch, [undo]).results[0]
    assert (early.status, early.reason) == (OpStatus.REJECTED, Reason.UNKNOWN_STAMP)
    late = send(session, branch, [stamp]).results[0]
    assert (late.status, late.reason) == (OpStatus.DUPLICATE, Reason.STAMP_UNDONE)
    assert outcome(session, undo) == ("applied", None, None)
    assert card_of(session, world) == (0, 0)


def test_undoing_a_stamp_a_later_claim_needed_makes_that_claim_a_conflict(
    session: Session, world: World
) -> None:
    one, two = world.branches
    user = world.users[0]
    stamps = [card_op(world, one, user, "stamp", m) for m in (1, 2, 3)]
    claim = card_op(world, one, user, "claim", 4)
    send(session, one, [*stamps, claim])
    assert card_of(session, world) == (0, 1)
    undo = unstamp_op(world, two, user, stamps[1].op_id, 5)
    assert send(session, two, [undo]).results[0].status is OpStatus.APPLIED
    assert outcome(session, claim) == ("conflict", Reason.NOT_ENOUGH_STAMPS, undo.op_id)
    assert card_of(session, world) == (2, 0)
    (listed,) = views.list_conflicts(session)
    assert listed["op_id"] == str(claim.op_id) and listed["won_by"]["op_id"] == str(undo.op_id)


def test_undoing_a_stamp_twice_is_a_duplicate(session: Session, world: World) -> None:
    branch, user = world.branches[0], world.users[0]
    stamps = [card_op(world, branch, user, "stamp", m) for m in (1, 2)]
    first = unstamp_op(world, branch, user, stamps[0].op_id, 3)
    second = unstamp_op(world, branch, user, stamps[0].op_id, 4)
    results = send(session, branch, [*stamps, first, second]).results
    assert (results[3].status, results[3].reason) == (OpStatus.DUPLICATE, Reason.ALREADY_UNDONE)
    assert card_of(session, world) == (1, 0)


def test_an_unstamp_of_another_cards_stamp_is_rejected(session: Session, world: World) -> None:
    branch = world.branches[0]
    stamp = card_op(world, branch, world.users[1], "stamp", 1)
    undo = unstamp_op(world, branch, world.users[0], stamp.op_id, 2)
    results = send(session, branch, [stamp, undo]).results
    assert (results[1].status, results[1].reason) == (OpStatus.REJECTED, Reason.UNKNOWN_STAMP)
    assert card_of(session, world, 1) == (1, 0)


def test_only_a_branch_device_may_unstamp(session: Session, world: World) -> None:
    door, user = world.doors[0], world.users[0]
    undo = unstamp_op(world, door, user, uuid.uuid4(), 1)
    result = send(session, door, [undo]).results[0]
    assert (result.status, result.reason) == (OpStatus.REJECTED, Reason.OUT_OF_SCOPE)
