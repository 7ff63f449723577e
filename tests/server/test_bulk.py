"""Set-based writes (`server.db.bulk`): the same rows on SQLite and PostgreSQL as the ORM would write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.bulk import insert_records, insert_rows, member_of, update_rows
from server.db.models import PassportStamp, SyncChange, SyncOp, TicketScan
from server.db.models.enums import ScanMethod, ScanOutcome
from server.domain.passport import StampInfo
from tests.server.factories import T0
from tests.server.sync.world import build_world


def _op_row(device_id: uuid.UUID, seq: int) -> dict[str, object]:
    return {
        "op_id": uuid.uuid4(),
        "device_id": device_id,
        "seq": seq,
        "type": "ticket.scan",
        "occurred_at": T0,
        "device_clock": T0,
        "payload": {"qr": "1" * 250, "gate": "Gate 1 — “north”", "nested": {"n": [1, None]}},
        "subject_key": f"ticket:{seq}",
        "status": "applied",
        "reason": None,
        "message": None,
        "effects": {},
        "first_status": "applied",
        "first_reason": None,
        "first_message": None,
        "first_effects": {"stamp_id": None},
    }


def test_inserted_rows_read_back_equal_with_defaults_filled(session: Session) -> None:
    device = build_world(session, users=1, doors=1, branches=0).doors[0]
    rows = [_op_row(device.id, seq) for seq in range(1, 4)]
    insert_rows(session, SyncOp, rows)
    stored = session.scalars(select(SyncOp).order_by(SyncOp.seq)).all()
    assert [row.op_id for row in stored] == [row["op_id"] for row in rows]
    assert stored[0].payload == rows[0]["payload"]
    assert stored[0].first_effects == {"stamp_id": None}
    assert stored[0].occurred_at == T0
    assert stored[0].received_at is not None  # the Python-side default


def test_every_column_kind_reads_back_exactly(session: Session) -> None:
    """Times keep their microseconds and instant, UUIDs, NULLs, numbers and text survive."""
    world = build_world(session, users=1, doors=1, branches=0)
    ticket, device = world.tickets[0], world.doors[0]
    away = datetime(2026, 2, 14, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=-4)))
    stamp = {
        "id": uuid.uuid4(),
        "user_id": ticket.user_id,
        "event_id": world.event_id,
        "country_code": "TT",
        "carnival_circuit": None,
        "points_earned": 2_000_000_000,
        "source": "TICKET_SCAN",
        "created_at": away,
    }
    insert_rows(session, PassportStamp, [stamp])
    scan = {
        "id": uuid.uuid4(),
        "ticket_id": ticket.id,
        "event_id": world.event_id,
        "user_id": ticket.user_id,
        "device_id": device.id,
        "op_id": None,
        "gate": "Porte d’entrée — 2",
        "method": ScanMethod.MANUAL,
        "note": "line\nbreak, tab\t and \\ backslash",
        "outcome": ScanOutcome.ADMITTED,
        "reason": None,
        "scanned_at": away,
        "received_at": T0,
        "passport_stamp_id": stamp["id"],
    }
    insert_rows(session, TicketScan, [scan])
    session.expire_all()
    stored_stamp = session.get_one(PassportStamp, stamp["id"])
    stored_scan = session.get_one(TicketScan, scan["id"])
    assert {name: getattr(stored_stamp, name) for name in stamp} == stamp
    assert {name: getattr(stored_scan, name) for name in scan} == scan
    assert stored_scan.scanned_at.utcoffset() == timedelta(0)  # stored as the same instant


@dataclass(slots=True)
class _Change:
    """Leaves out `deleted` and `changed_at`, which have Python-side defaults."""

    entity: str
    entity_id: str
    change_no: int


def test_records_are_inserted_field_by_column_and_defaults_fill_what_they_leave_out(
    session: Session,
) -> None:
    world = build_world(session, users=1, doors=0, branches=0)
    user_id = world.tickets[0].user_id
    full = StampInfo(uuid.uuid4(), user_id, world.event_id, "TT", "Trinidad", 50, "BONUS", T0)
    insert_records(session, PassportStamp, [full])
    insert_records(session, SyncChange, [_Change("offers", "o1", 7), _Change("offers", "o2", 8)])
    insert_records(session, SyncChange, [])
    session.expire_all()
    stored = session.get_one(PassportStamp, full.id)
    assert (stored.user_id, stored.country_code, stored.points_earned) == (user_id, "TT", 50)
    assert (stored.carnival_circuit, stored.source, stored.created_at) == ("Trinidad", "BONUS", T0)
    changes = session.scalars(select(SyncChange).order_by(SyncChange.change_no)).all()
    assert [(change.entity_id, change.change_no) for change in changes] == [("o1", 7), ("o2", 8)]
    assert all(change.deleted is False and change.changed_at > T0 for change in changes)


def test_a_duplicate_key_raises_sqlalchemys_integrity_error(session: Session) -> None:
    device = build_world(session, users=1, doors=1, branches=0).doors[0]
    row = _op_row(device.id, 1)
    insert_rows(session, SyncOp, [row])
    with pytest.raises(IntegrityError), session.begin_nested():
        insert_rows(session, SyncOp, [_op_row(device.id, 2), row])
    assert len(session.scalars(select(SyncOp)).all()) == 1


def test_upsert_updates_existing_keys_and_inserts_new_ones(session: Session) -> None:
    def change(entity_id: str, number: int) -> dict[str, object]:
        return {"entity": "tickets", "entity_id": entity_id, "change_no": number, "changed_at": T0}

    insert_rows(session, SyncChange, [change("a", 1), change("b", 2)])
    insert_rows(
        session, SyncChange, [change("a", 3), change("c", 4)], upsert_on=("entity", "entity_id")
    )
    numbers = dict(session.execute(select(SyncChange.entity_id, SyncChange.change_no)).all())
    assert numbers == {"a": 3, "b": 2, "c": 4}


def test_update_rows_sets_each_rows_own_values(session: Session) -> None:
    device = build_world(session, users=1, doors=1, branches=0).doors[0]
    rows = [_op_row(device.id, seq) for seq in range(1, 4)]
    insert_rows(session, SyncOp, rows)
    update_rows(
        session,
        SyncOp,
        "op_id",
        [
            {"op_id": rows[0]["op_id"], "status": "duplicate", "effects": {"first": 1}},
            {"op_id": rows[2]["op_id"], "status": "conflict", "effects": {}},
        ],
    )
    stored = {
        row.seq: (row.status, row.effects)
        for row in session.execute(select(SyncOp.seq, SyncOp.status, SyncOp.effects))
    }
    assert stored == {1: ("duplicate", {"first": 1}), 2: ("applied", {}), 3: ("conflict", {})}


def test_member_of_matches_exactly_the_given_values(session: Session) -> None:
    device = build_world(session, users=1, doors=1, branches=0).doors[0]
    rows = [_op_row(device.id, seq) for seq in range(1, 6)]
    insert_rows(session, SyncOp, rows)
    wanted = {rows[1]["op_id"], rows[3]["op_id"], uuid.uuid4()}
    found = session.scalars(select(SyncOp.seq).where(member_of(session, SyncOp.op_id, wanted)))
    assert sorted(found) == [2, 4]
    assert (
        session.scalars(select(SyncOp.seq).where(member_of(session, SyncOp.op_id, []))).all() == []
    )
