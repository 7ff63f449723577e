"""Any database refusal while applying one subject rejects only that op, on both engines.

The payloads here pass every wire check; the database itself refuses one
row, as a real database does with a value it cannot hold. The refusal is
made by a trigger the test installs (a real error from the real database,
inside the test's rolled-back transaction): on PostgreSQL a data exception
(SQLSTATE 22023), on SQLite `RAISE(ABORT)`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.reasons import Reason
from core.wire import Op, OpStatus, PushResponse
from server.db.models import Device, PassEntry, SyncOp, TicketScan
from server.domain import cards, passport
from server.settings import ServerSettings
from server.sync.push import push
from tests.server.factories import T0
from tests.server.sync.world import World, build_world, card_op, request, scan_op

SETTINGS = ServerSettings(database_url="sqlite://")
POISON = "Poisoned gate"


def refuse(session: Session, table: str, condition: str) -> None:
    """Make the database refuse rows of `table` matching `condition` (an SQL expression on NEW)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                f"IF {condition} THEN RAISE EXCEPTION 'poisoned row refused' "
                "USING ERRCODE = '22023'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        session.execute(
            text(
                f"CREATE TRIGGER refuse_poison BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
        )
    else:
        session.execute(
            text(
                f"CREATE TRIGGER refuse_poison BEFORE INSERT ON {table} WHEN {condition} "
                "BEGIN SELECT RAISE(ABORT, 'poisoned row refused'); END"
            )
        )


def send(session: Session, device: Device, ops: list[Op]) -> PushResponse:
    return push(
        session,
        device=device,
        request=request(ops),
        now=T0 + timedelta(hours=6),
        settings=SETTINGS,
    )


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def test_a_row_the_database_refuses_rejects_only_its_op(session: Session, world: World) -> None:
    refuse(session, "ticket_scans", f"NEW.gate = '{POISON}'")
    door = world.doors[0]
    ops = [
        scan_op(world, door, world.tickets[0], 1, gate=POISON),
        scan_op(world, door, world.tickets[1], 2),
        scan_op(world, door, world.tickets[2], 3),
    ]
    first = send(session, door, ops)
    assert [(r.status, r.reason) for r in first.results] == [
        (OpStatus.REJECTED, Reason.INVALID_OP),
        (OpStatus.APPLIED, None),
        (OpStatus.APPLIED, None),
    ]
    assert first.results[0].message and "poisoned row refused" in first.results[0].message
    again = send(session, door, ops)
    assert again.results == first.results
    admitted = set(session.scalars(select(TicketScan.ticket_id)))
    assert admitted == {world.tickets[1].id, world.tickets[2].id}
    profile = passport.get_profile(session, user_id=world.users[0].id)
    assert profile is not None and profile.total_points == 0
    logged = session.get(SyncOp, ops[0].op_id)
    assert logged is not None and logged.subject_key is None and "unstorable" in logged.payload


def test_an_innocent_op_of_the_poisoned_ticket_is_still_applied(
    session: Session, world: World
) -> None:
    refuse(session, "ticket_scans", f"NEW.gate = '{POISON}'")
    door = world.doors[0]
    poisoned = scan_op(world, door, world.tickets[0], 1, gate=POISON)
    innocent = scan_op(world, door, world.tickets[0], 2)
    results = send(session, door, [poisoned, innocent]).results
    assert [(r.status, r.reason) for r in results] == [
        (OpStatus.REJECTED, Reason.INVALID_OP),
        (OpStatus.APPLIED, None),
    ]
    profile = passport.get_profile(session, user_id=world.users[0].id)
    assert profile is not None and profile.total_points == 100


def test_a_card_entry_the_database_refuses_rejects_only_its_op(
    session: Session, world: World
) -> None:
    branch, user, other = world.branches[0], world.users[0], world.users[1]
    stamps = [card_op(world, branch, user, "stamp", minute) for minute in (1, 2)]
    refuse(session, "pass_entries", f"NEW.seq = {stamps[1].seq}")
    elsewhere = card_op(world, branch, other, "stamp", 3)
    results = send(session, branch, [*stamps, elsewhere]).results
    assert [(r.status, r.reason) for r in results] == [
        (OpStatus.APPLIED, None),
        (OpStatus.REJECTED, Reason.INVALID_OP),
        (OpStatus.APPLIED, None),
    ]
    card = cards.get_pass(session, offer_id=world.offer.id, user_id=user.id)
    assert card is not None and card.current_stamps == 1
    entries = session.scalar(select(func.count()).select_from(PassEntry))
    assert entries == 2
