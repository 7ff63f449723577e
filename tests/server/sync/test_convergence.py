"""Guarantee 3, convergence: the final state depends only on the set of ops.

Hypothesis generates ops from three door devices over shared tickets and three
branch devices over shared cards, pushes them in random batchings, orders and
repetitions, and requires the final state — passports, stamps and which op won
each ticket, card progress and ledger, rewards, every op's status and the
conflicts — to equal the state after one in-order push. A negative control
shows the check catches a first-to-arrive implementation.
"""

from __future__ import annotations

import os
import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.wire import Op
from server.db.models import (
    LoyaltyPass,
    PassEntry,
    PassportProfile,
    PassportReward,
    PassportStamp,
    SyncOp,
    TicketScan,
)
from server.settings import ServerSettings
from server.sync.decide import OpFact
from server.sync.push import oplog, push
from tests.server.factories import T0
from tests.server.sync.world import (
    World,
    build_world,
    card_op,
    checkin_op,
    request,
    scan_op,
    unstamp_op,
)

SETTINGS = ServerSettings(database_url="sqlite://", PASS_INACTIVITY_EXPIRATION_DAYS=90)
EXAMPLES = int(os.environ.get("SOCA_CONVERGENCE_EXAMPLES", "120"))

# (kind, device 0-2, subject 0-2, minute, verdict); minutes collide on purpose (ties).
op_specs = st.lists(
    st.tuples(
        st.sampled_from(["scan", "scan", "checkin", "stamp", "stamp", "stamp", "claim", "unstamp"]),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(0, 12),
        st.sampled_from([None, "green", "amber"]),
    ),
    min_size=1,
    max_size=14,
)


#: What an unstamp undoes when no stamp was made before it in the list: a stamp never sent.
NEVER_SENT = uuid.UUID(int=13)


def make_ops(world: World, specs: list[tuple[str, int, int, int, str | None]]) -> list[Op]:
    """Ops from specs; an unstamp undoes the latest stamp listed before it on its card (else
    on any card, else one never sent), wherever either sorts."""
    world.seqs.clear()
    ops = []
    stamps: dict[int, list[uuid.UUID]] = {}
    for kind, device, subject, minute, verdict in specs:
        door, branch, user = world.doors[device], world.branches[device], world.users[subject]
        if kind == "scan":
            ops.append(scan_op(world, door, world.tickets[subject], minute, verdict))
        elif kind == "checkin":
            ops.append(checkin_op(world, door, world.tickets[subject], minute))
        elif kind == "unstamp":
            every = [op_id for made in stamps.values() for op_id in made]
            undoes = (stamps.get(subject) or every or [NEVER_SENT])[-1]
            ops.append(unstamp_op(world, branch, user, undoes, minute))
        else:
            ops.append(card_op(world, branch, user, kind, minute, verdict))
            if kind == "stamp":
                stamps.setdefault(subject, []).append(ops[-1].op_id)
    return ops


def push_batches(session: Session, world: World, batches: list[tuple[Any, list[Op]]]) -> None:
    for index, (device, ops) in enumerate(batches):
        push(
            session,
            device=device,
            request=request(ops),
            now=T0 + timedelta(hours=1, seconds=index),
            settings=SETTINGS,
        )


def snapshot(session: Session) -> dict[str, Any]:
    """Everything the guarantee talks about, without arrival-dependent times."""
    session.expire_all()
    return {
        "passports": {
            (p.user_id, p.total_points, p.current_tier, p.total_events, p.total_countries)
            for p in session.scalars(select(PassportProfile))
        },
        "stamps": {
            (s.user_id, s.event_id, s.created_at, s.points_earned)
            for s in session.scalars(select(PassportStamp))
        },
        "scans": {
            (s.op_id, s.outcome, s.reason, s.passport_stamp_id is not None)
            for s in session.scalars(select(TicketScan))
        },
        "cards": {
            (c.offer_id, c.user_id, c.current_stamps, c.rewards_claimed, c.last_activity_at)
            for c in session.scalars(select(LoyaltyPass))
        },
        "entries": {(e.op_id, e.kind) for e in session.scalars(select(PassEntry))},
        "rewards": {
            (r.user_id, r.source_tier, r.reward_type)
            for r in session.scalars(select(PassportReward))
        },
        "ops": {
            (o.op_id, o.status, o.reason, o.blocked_by_op_id)
            for o in session.scalars(select(SyncOp))
        },
    }


def in_order_state(session: Session, world: World, ops: list[Op], owner: dict[Any, Any]) -> Any:
    with session.begin_nested() as savepoint:
        ordered = sorted(ops, key=lambda op: (op.occurred_at, str(owner[op.op_id].id), op.seq))
        push_batches(session, world, [(owner[op.op_id], [op]) for op in ordered])
        state = snapshot(session)
        savepoint.rollback()
    return state


def shuffled_state(
    session: Session, world: World, ops: list[Op], owner: dict[Any, Any], rng: random.Random
) -> Any:
    by_device: dict[Any, list[Op]] = {}
    for op in ops:
        by_device.setdefault(owner[op.op_id], []).append(op)
    batches: list[tuple[Any, list[Op]]] = []
    for device, own in by_device.items():
        rng.shuffle(own)
        cut = (
            sorted(rng.sample(range(1, len(own)), k=rng.randint(0, len(own) - 1)))
            if len(own) > 1
            else []
        )
        for start, end in zip([0, *cut], [*cut, len(own)], strict=True):
            batches.append((device, own[start:end]))
    rng.shuffle(batches)
    repeats = [rng.choice(batches) for _ in range(rng.randint(0, 3))]
    with session.begin_nested() as savepoint:
        push_batches(session, world, batches + repeats)
        state = snapshot(session)
        savepoint.rollback()
    return state


def owners(
    world: World, specs: list[tuple[str, int, int, int, str | None]], ops: list[Op]
) -> dict[Any, Any]:
    result = {}
    for (kind, device, *_rest), op in zip(specs, ops, strict=True):
        result[op.op_id] = (world.doors if kind in ("scan", "checkin") else world.branches)[device]
    return result


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session, users=3, doors=3, branches=3, max_stamps=2)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=op_specs, seed=st.integers(0, 2**32 - 1))
def test_final_state_depends_only_on_the_set_of_ops(
    session: Session, world: World, specs: list[tuple[str, int, int, int, str | None]], seed: int
) -> None:
    ops = make_ops(world, specs)
    owner = owners(world, specs, ops)
    expected = in_order_state(session, world, ops, owner)
    assert shuffled_state(session, world, ops, owner, random.Random(seed)) == expected


def test_negative_control_first_to_arrive_is_caught(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs: list[tuple[str, int, int, int, str | None]] = [
        ("scan", 0, 0, 10, None),
        ("scan", 1, 0, 2, "green"),
        ("stamp", 0, 0, 1, None),
        ("stamp", 1, 0, 2, None),
        ("claim", 1, 0, 3, None),
        ("stamp", 2, 0, 0, None),
    ]
    ops = make_ops(world, specs)
    owner = owners(world, specs, ops)
    # Arrival order: the later scan and the later stamps arrive first.
    batches = [
        (owner[ops[0].op_id], [ops[0]]),
        (owner[ops[2].op_id], [ops[2]]),
        (owner[ops[3].op_id], [ops[3], ops[4]]),
        (owner[ops[1].op_id], [ops[1]]),
        (owner[ops[5].op_id], [ops[5]]),
    ]

    def arrival_state() -> Any:
        with session.begin_nested() as savepoint:
            push_batches(session, world, batches)
            state = snapshot(session)
            savepoint.rollback()
        return state

    expected = in_order_state(session, world, ops, owner)
    assert arrival_state() == expected  # the real implementation converges

    real_fact = oplog.fact

    def first_to_arrive(row: SyncOp) -> OpFact:
        fact = real_fact(row)
        # Decide in arrival order: the time the server received the op, not door time.
        return OpFact(
            fact.op_id,
            fact.device_id,
            fact.seq,
            row.received_at,
            fact.kind,
            fact.verdict,
            fact.static_reason,
            fact.gate,
        )

    monkeypatch.setattr(oplog, "fact", first_to_arrive)
    wrong = arrival_state()
    # Which op won the ticket and which card ops counted differ, not just times.
    assert wrong["ops"] != expected["ops"]
    assert wrong["scans"] != expected["scans"]
    assert wrong["entries"] != expected["entries"]
