"""The contract's op order, as `server.sync.decide` computes it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.sync.decide import OpFact, in_order
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
