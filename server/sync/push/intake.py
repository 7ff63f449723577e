"""Intake: a batch's ops by id — new ones, replays of logged ones, and clashing repeats.

An op id names one op. Within a batch, a repeat of an op (same id, same
content) gets the first one's result; a different op under an id already
used earlier in the batch is `rejected` (`duplicate_op_id`) and never
recorded, so it cannot take the first one's place. An op the log holds
already is a replay: it gets its first result back and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.reasons import Reason, explain
from core.wire import Op, OpResult, OpStatus, PushRequest
from server.db.models import SyncOp
from server.sync.push import oplog
from server.sync.push.oplog import OpRow


@dataclass(frozen=True)
class Intake:
    """A batch's ops sorted out by id."""

    ops: list[Op]  # as sent, in order
    fresh: list[Op]  # the first op of each id the log does not hold
    known: dict[uuid.UUID, SyncOp]  # logged already: replays
    clashes: frozenset[int]  # positions of ops reusing an earlier op's id with other content


def take_in(session: Session, request: PushRequest) -> Intake:
    """Sort the batch's ops out by id and read the logged ones."""
    first: dict[uuid.UUID, Op] = {}
    clashes = set()
    for index, op in enumerate(request.ops):
        earlier = first.setdefault(op.op_id, op)
        if earlier is not op and earlier != op:
            clashes.add(index)
    known = oplog.existing(session, first)
    fresh = [op for op in first.values() if op.op_id not in known]
    return Intake(request.ops, fresh, known, frozenset(clashes))


def results(intake: Intake, stored: dict[uuid.UUID, OpRow]) -> list[OpResult]:
    """One result per op as sent: its first result, or the clash refusal."""
    return [
        _clash(op) if index in intake.clashes else oplog.first_result(stored[op.op_id])
        for index, op in enumerate(intake.ops)
    ]


def _clash(op: Op) -> OpResult:
    return OpResult(
        op_id=op.op_id,
        status=OpStatus.REJECTED,
        reason=Reason.DUPLICATE_OP_ID,
        message=explain(Reason.DUPLICATE_OP_ID),
    )
