"""Push in two steps (as the HTTP route runs it): subjects another transaction holds are not
waited for while the batch holds its other locks; they are decided after the rest commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from core.wire import OpStatus, PushRequest, PushResponse, TicketScanPayload, build_op
from server.db.models import Device, SyncOp
from server.db.session import make_session_factory
from server.devtools import build_world, scratch_database
from server.settings import ServerSettings
from server.sync.push import push
from tests.conftest import postgres_url

T0 = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    # Row locks that can be skipped exist on PostgreSQL only (SQLite locks the whole file).
    with scratch_database("postgresql", postgres_url(), tmp_path) as (_url, found):
        yield found


def test_a_held_ticket_waits_for_its_holder_after_the_rest_is_committed(engine: Engine) -> None:
    world = build_world(engine, tickets=3, devices=1)
    ops = [
        build_op(
            TicketScanPayload(qr=ticket["qr_token"], event_id=world.event_id, gate="Gate 1"),
            seq=seq,
            occurred_at=T0 + timedelta(minutes=seq),
            device_clock=T0 + timedelta(minutes=seq),
        )
        for seq, ticket in enumerate(world.tickets, 1)
    ]
    held, free = ops[0], ops[1:]
    factory = make_session_factory(engine)
    settings = ServerSettings(database_url="postgresql://unused")
    results: list[PushResponse] = []

    def push_batch() -> None:
        with factory() as session:
            device = session.get(Device, world.device_ids[0])
            assert device is not None
            request = PushRequest(device_time=T0, ops=ops)
            step = session.commit
            results.append(
                push(
                    session,
                    device=device,
                    request=request,
                    now=T0,
                    settings=settings,
                    between_steps=step,
                )
            )
            session.commit()

    def logged() -> set[object]:
        with factory() as session:
            return set(session.scalars(select(SyncOp.op_id)))

    with engine.connect() as holder:
        holder.execute(
            text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"),
            {"id": world.tickets[0]["id"]},
        )
        pusher = threading.Thread(target=push_batch)
        pusher.start()
        deadline = time.monotonic() + 30
        while {op.op_id for op in free} - logged() and time.monotonic() < deadline:
            time.sleep(0.05)
        # The free tickets are decided and committed while the held one is still waited for.
        assert {op.op_id for op in free} <= logged()
        assert held.op_id not in logged()
        assert pusher.is_alive()
        holder.rollback()
    pusher.join(timeout=30)
    assert not pusher.is_alive()
    assert [result.status for result in results[0].results] == [OpStatus.APPLIED] * 3
    assert {op.op_id for op in ops} <= logged()
