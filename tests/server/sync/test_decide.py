"""The contract's op order, as `server.sync.decide` computes it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.reasons import Reason
from core.wire import OpStatus
from server.sync.decide import UNSTAMP, OpFact, decide_card, in_order
from tests.server.factories import T0

_ids = st.one_of(st.none(), st.uuids())


@given(
    st.lists(
        st.tuples(st.integers(0, 2), _ids, st.one_of(st.none(), st.integers(1, 5)), st.uuids()),
        min_size=2,
        max_size=12,
    )
)
def test_order_is_time_then_device_then_seq_then_id_as_their_text(
    raw: list[tuple[int, uuid.UUID | None, int | None, uuid.UUID]],
) -> None:
    """Ids compare as numbers; that must order them exactly as their text, none first."""
    facts = [
        OpFact(
            op_id=op_id,
            device_id=device_id,
            seq=seq,
            occurred_at=T0 + timedelta(minutes=minute),
            kind="ticket.scan",
        )
        for minute, device_id, seq, op_id in raw
    ]
    by_text = sorted(
        facts,
        key=lambda fact: (
            fact.occurred_at,
            str(fact.device_id or ""),
            -1 if fact.seq is None else fact.seq,
            str(fact.op_id),
        ),
    )
    assert [fact.op_id for fact in in_order(facts)] == [fact.op_id for fact in by_text]


def test_a_direct_ledger_entry_orders_by_its_entry_id() -> None:
    """Entries without an op (HQ, the web) have no device: they go first at the same time."""
    entry = OpFact(
        op_id=None,
        device_id=None,
        seq=None,
        occurred_at=T0,
        kind="STAMP",
        entry_id=uuid.UUID(int=5),
    )
    op = OpFact(
        op_id=uuid.UUID(int=1), device_id=uuid.UUID(int=0), seq=1, occurred_at=T0, kind="STAMP"
    )
    assert in_order([op, entry]) == [entry, op]


def _card_fact(kind: str, minute: int, undoes: uuid.UUID | None = None) -> OpFact:
    return OpFact(
        op_id=uuid.uuid4(),
        device_id=uuid.UUID(int=7),
        seq=minute,
        occurred_at=T0 + timedelta(minutes=minute),
        kind=kind,
        verdict="green",
        undoes=undoes,
    )


def test_an_unstamp_withdraws_its_stamp_wherever_the_two_sort() -> None:
    stamp = _card_fact("STAMP", 5)
    undo = _card_fact(UNSTAMP, 1, undoes=stamp.op_id)  # sorts first: a clock that went back
    decisions, state = decide_card(in_order([stamp, undo]), max_stamps=3, inactivity_days=90)
    assert [(d.status, d.reason) for d in decisions] == [
        (OpStatus.APPLIED, None),
        (OpStatus.DUPLICATE, Reason.STAMP_UNDONE),
    ]
    assert state.current_stamps == 0


def test_a_claim_that_needed_a_withdrawn_stamp_is_a_conflict_blocked_by_the_unstamp() -> None:
    stamps = [_card_fact("STAMP", minute) for minute in (1, 2)]
    claim = _card_fact("CLAIM", 3)
    undo = _card_fact(UNSTAMP, 4, undoes=stamps[0].op_id)
    decisions, state = decide_card([*stamps, claim, undo], max_stamps=2, inactivity_days=90)
    assert (decisions[2].status, decisions[2].reason) == (
        OpStatus.CONFLICT,
        Reason.NOT_ENOUGH_STAMPS,
    )
    assert decisions[2].blocker == undo
    assert (state.current_stamps, state.rewards_claimed) == (1, 0)


def test_a_claim_refused_anyway_keeps_the_ordinary_demotion() -> None:
    stamp = _card_fact("STAMP", 1)
    claim = _card_fact("CLAIM", 2)
    undo = _card_fact(UNSTAMP, 3, undoes=stamp.op_id)
    decisions, _state = decide_card([stamp, claim, undo], max_stamps=2, inactivity_days=90)
    assert (decisions[1].status, decisions[1].reason) == (
        OpStatus.REJECTED,
        Reason.NOT_ENOUGH_STAMPS,
    )
