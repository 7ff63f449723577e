"""The op log: every op's row (written once, in bulk), its first result, and what a decision reads.

New ops are decided before they are written, so each new row (op, door scan)
is inserted once with its final values. An op whose row the database refuses
(a value a column cannot hold, a control character, a number out of range)
is *poisoned*: it is logged alone as `rejected` (`invalid_op`), with its
payload kept as text, and never stalls the ops beside it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from core.reasons import Reason, explain
from core.wire import (
    ManualCheckinPayload,
    OpResult,
    OpStatus,
    OpType,
    ScanRefusedPayload,
    TicketScanPayload,
)
from server.db.bulk import insert_records, member_of
from server.db.changelog import touch
from server.db.models import SyncOp, TicketScan
from server.db.models.enums import ScanMethod, ScanOutcome
from server.sync.decide import STATIC_REASONS, UNSTAMP, OpFact
from server.sync.push.subjects import Checked, Origin, TicketFacts

TICKET_OPS = (OpType.TICKET_SCAN, OpType.TICKET_MANUAL_CHECKIN)
_KINDS = {OpType.PASS_STAMP: "STAMP", OpType.PASS_CLAIM: "CLAIM", OpType.PASS_UNSTAMP: UNSTAMP}
#: SQLSTATE classes of a value the database cannot take: data exception, integrity
#: constraint violation, program limit exceeded (say, JSON nested too deep).
_POISON_STATES = ("22", "23", "54")
_PAYLOAD_TEXT_KEPT = 4000


@dataclass(slots=True)
class NewOp:
    """A `sync_ops` row not yet written: decided first, then inserted once in bulk."""

    op_id: uuid.UUID
    device_id: uuid.UUID | None
    user_id: uuid.UUID | None
    seq: int
    type: str
    occurred_at: datetime
    device_clock: datetime
    received_at: datetime
    decided_at: datetime
    payload: dict[str, Any]
    subject_key: str | None
    status: str
    reason: str | None
    message: str | None
    effects: dict[str, Any]
    first_status: str
    first_reason: str | None
    first_message: str | None
    first_effects: dict[str, Any]
    blocked_by_op_id: uuid.UUID | None = None


@dataclass(slots=True)
class NewScan:
    """A `ticket_scans` row not yet written (see `NewOp`)."""

    ticket_id: uuid.UUID | None
    event_id: uuid.UUID | None
    user_id: uuid.UUID | None
    device_id: uuid.UUID | None
    op_id: uuid.UUID
    gate: str | None
    method: str
    note: str | None
    outcome: str
    reason: str | None
    scanned_at: datetime
    received_at: datetime
    passport_stamp_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


OpRow = SyncOp | NewOp


def existing(session: Session, op_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, SyncOp]:
    """The logged rows of these ops, read afresh."""
    ids = list(op_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(SyncOp)
        .where(member_of(session, SyncOp.op_id, ids))
        .execution_options(populate_existing=True)
    )
    return {row.op_id: row for row in rows}


def logged(session: Session, op_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ops the log holds (ids only, no rows loaded)."""
    found = session.connection().execute(
        select(SyncOp.op_id).where(member_of(session, SyncOp.op_id, op_ids))
    )
    return set(found.scalars())


def first_result(row: OpRow) -> OpResult:
    """What the op's first push was told (a replay is told it again)."""
    return OpResult(
        op_id=row.op_id,
        status=OpStatus(row.first_status),
        reason=Reason(row.first_reason) if row.first_reason else None,
        message=row.first_message,
        effects=row.first_effects or {},
    )


def new_row(origin: Origin, item: Checked, now: datetime) -> NewOp:
    """The op's log row: `rejected` with its refusal, else `applied` until decided."""
    op, refusal = item.op, item.refusal
    status = OpStatus.REJECTED if refusal else OpStatus.APPLIED
    reason = refusal.reason if refusal else None
    message = refusal.message if refusal else None
    occurred_at, device_clock = op.occurred_at, op.device_clock
    if reason is Reason.IMPLAUSIBLE_TIME:
        occurred_at, device_clock = _storable(occurred_at), _storable(device_clock)
    return NewOp(
        op_id=op.op_id,
        device_id=origin.device_id,
        user_id=origin.user_id,
        seq=op.seq,
        type=op.type.value,
        occurred_at=occurred_at,
        device_clock=device_clock,
        received_at=now,
        decided_at=now,
        payload=op.payload,
        subject_key=item.subject.key,
        status=status.value,
        reason=reason,
        message=message,
        effects={},
        first_status=status.value,
        first_reason=reason,
        first_message=message,
        first_effects={},
    )


def scan_row(origin: Origin, item: Checked, ticket: TicketFacts | None, now: datetime) -> NewScan:
    """The door scan a ticket op makes (REFUSED until its ticket's decision says otherwise)."""
    op, payload = item.op, item.payload
    gate = note = event_id = None
    if isinstance(payload, TicketScanPayload | ManualCheckinPayload):
        gate, event_id = payload.gate, payload.event_id
        note = payload.note if isinstance(payload, ManualCheckinPayload) else None
    return NewScan(
        ticket_id=ticket.id if ticket else None,
        event_id=event_id if event_id == origin.event_id else None,
        user_id=ticket.user_id if ticket else None,
        device_id=origin.device_id,
        op_id=op.op_id,
        gate=gate,
        method=ScanMethod.MANUAL if op.type == OpType.TICKET_MANUAL_CHECKIN else ScanMethod.QR,
        note=note,
        outcome=ScanOutcome.REFUSED,
        reason=item.refusal.reason if item.refusal else None,
        scanned_at=op.occurred_at,
        received_at=now,
    )


def _recorded_refusal(origin: Origin, item: Checked, now: datetime) -> NewScan | None:
    """The door scan an op decided alone leaves: a refused ticket op, or a `scan.refused`.

    An op whose time cannot be right leaves none: attendance is counted by door time.
    """
    if item.refusal is not None and item.refusal.reason is Reason.IMPLAUSIBLE_TIME:
        return None
    if item.op.type in TICKET_OPS:
        return scan_row(origin, item, None, now)
    payload = item.payload
    if not isinstance(payload, ScanRefusedPayload) or item.refusal is not None:
        return None
    return NewScan(
        ticket_id=None,
        event_id=payload.event_id,
        user_id=None,
        device_id=origin.device_id,
        op_id=item.op.op_id,
        gate=payload.gate,
        method=ScanMethod.QR,
        note=None,
        outcome=ScanOutcome.REFUSED,
        reason=payload.reason,
        scanned_at=item.op.occurred_at,
        received_at=now,
    )


def write_new(session: Session, ops: Iterable[NewOp], scans: Iterable[NewScan]) -> None:
    """Insert new op and scan rows in two statements; note the scans for pull."""
    insert_records(session, SyncOp, list(ops))
    scan_rows = list(scans)
    insert_records(session, TicketScan, scan_rows)
    for scan in scan_rows:
        if scan.event_id is not None:
            touch(session, "scans", str(scan.id), event_id=scan.event_id)


def fact(row: OpRow) -> OpFact:
    """What a decision reads of a logged op."""
    static = Reason(row.reason) if row.reason and Reason(row.reason) in STATIC_REASONS else None
    payload = row.payload or {}
    kind = _KINDS.get(OpType(row.type), row.type)
    return OpFact(
        op_id=row.op_id,
        device_id=row.device_id,
        seq=row.seq,
        occurred_at=row.occurred_at,
        kind=kind,
        verdict=payload.get("verdict"),
        static_reason=static,
        gate=payload.get("gate"),
        undoes=_uuid(payload.get("undoes")) if kind == UNSTAMP else None,
    )


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# ----------------------------------------------------------------------------- alone


def record_alone(
    session: Session, origin: Origin, items: list[Checked], now: datetime
) -> dict[uuid.UUID, NewOp]:
    """Log ops decided alone (static refusals, recorded facts), each once.

    All in one savepoint; should the database refuse one, each again in its
    own, and the one refused is logged as poisoned.
    """
    if not items:
        return {}
    try:
        with session.begin_nested():
            return _record(session, origin, items, now)
    except SQLAlchemyError as exc:
        if not is_poison(exc):
            raise
    recorded: dict[uuid.UUID, NewOp] = {}
    for item in items:
        try:
            with session.begin_nested():
                recorded.update(_record(session, origin, [item], now))
        except SQLAlchemyError as exc:
            if not is_poison(exc):
                raise
            recorded[item.op.op_id] = record_poisoned(session, origin, item, exc, now)
    return recorded


def _record(
    session: Session, origin: Origin, items: list[Checked], now: datetime
) -> dict[uuid.UUID, NewOp]:
    already = existing(session, (item.op.op_id for item in items))  # a concurrent replay
    todo = [item for item in items if item.op.op_id not in already]
    rows = {item.op.op_id: new_row(origin, item, now) for item in todo}
    scans = (_recorded_refusal(origin, item, now) for item in todo)
    write_new(session, rows.values(), (scan for scan in scans if scan is not None))
    return rows


def record_poisoned(
    session: Session, origin: Origin, item: Checked, error: SQLAlchemyError, now: datetime
) -> NewOp:
    """Log an op the database refused as `rejected` (`invalid_op`), its payload kept as text.

    Should even that row be refused, the op is answered without a log entry:
    a retry meets the same refusal and gets the same answer.
    """
    detail = f"the database cannot store it ({describe(error)})"
    message = explain(Reason.INVALID_OP, {"detail": detail})
    op = item.op
    row = NewOp(
        op_id=op.op_id,
        device_id=origin.device_id,
        user_id=origin.user_id,
        seq=op.seq,
        type=op.type.value,
        occurred_at=_storable(op.occurred_at),
        device_clock=_storable(op.device_clock),
        received_at=now,
        decided_at=now,
        payload={"unstorable": _as_text(op.payload)},
        subject_key=None,
        status=OpStatus.REJECTED.value,
        reason=Reason.INVALID_OP,
        message=message,
        effects={},
        first_status=OpStatus.REJECTED.value,
        first_reason=Reason.INVALID_OP,
        first_message=message,
        first_effects={},
    )
    try:
        with session.begin_nested():
            if not logged(session, [op.op_id]):
                write_new(session, [row], [])
    except SQLAlchemyError as exc:
        if not is_poison(exc):
            raise
    return row


def is_poison(error: SQLAlchemyError) -> bool:
    """Whether the database refused a value (so retrying cannot help), not failed to answer."""
    if isinstance(error, DataError | IntegrityError):
        return True
    if isinstance(error, DBAPIError):
        state = str(getattr(error.orig, "sqlstate", None) or "")
        return state[:2] in _POISON_STATES
    # A value the driver cannot even send (a date or number out of its range).
    return isinstance(error, StatementError) and isinstance(error.orig, ValueError | OverflowError)


def describe(error: SQLAlchemyError) -> str:
    """The database's own first line about the refusal, without the statement or its values."""
    orig = getattr(error, "orig", None)
    text = str(orig) if orig is not None else type(error).__name__
    return (text.strip().splitlines() or [type(error).__name__])[0][:200]


def _as_text(payload: dict[str, Any]) -> str:
    try:
        text = json.dumps(payload, ensure_ascii=True, default=str)
    except (ValueError, RecursionError):
        text = "(not representable)"
    return text[:_PAYLOAD_TEXT_KEPT]


def _storable(when: datetime) -> datetime:
    """The instant in UTC, or the nearest a database holds when it lies beyond year 1 or 9999."""
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return (datetime.min if when.year == 1 else datetime.max).replace(tzinfo=UTC)
