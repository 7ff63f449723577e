"""The outbox file: the ops this device owes the server, their local effects, sync bookkeeping.

Threading and transaction contract. An `Outbox` wraps one SQLite connection
and belongs to the thread that opened it (sqlite3 refuses any other). Two
writers share the file, each through its own `Outbox`: the scan path records
an op together with its local effect inside one `transaction()`, and the sync
loop marks acknowledgements and its status. Every write is `BEGIN IMMEDIATE`,
so the two queue on SQLite's write lock (within the busy timeout) instead of
failing, and both keep their transactions to a handful of statements. Ops are
never deleted; `pending` ones are sent, the others keep the server's result.

Local effects and when they stop counting. A check-in, card entry or package
activation written here is what makes the next scan on this device see it at
once. A cached (pulled) row may or may not include the effect already, so
each ack gets a number from a counter (`ack_no`) and each cached row records
the counter's value when the pull that wrote it began (`pulled_at_ack`). An
effect counts on top of a cached row while its op is pending, or when it was
applied after that row was pulled (`counts_on_top`); a rejected, conflicting
or duplicate op changed nothing the server will not send back itself.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlite_utils import Database

from core.reasons import Reason
from core.wire import Op, OpResult, OpStatus, OpType, Payload, build_op
from kiosk.store.codec import optional_time, parse_time, time_text
from kiosk.store.database import Synchronous, open_database, write_transaction
from kiosk.store.schema import OUTBOX_MIGRATIONS

OpState = Literal["pending", "applied", "duplicate", "conflict", "rejected"]
EntryKindText = Literal["STAMP", "CLAIM", "UNSTAMP"]

_CLOCK_KEY = "clock"
_SYNC_KEY = "sync"
_ACK_COUNTER_KEY = "ack_counter"


@dataclass(frozen=True, slots=True)
class RecentCardEntry:
    """A stamp or prize this device gave, and where its op stands (pending, applied…)."""

    kind: EntryKindText
    occurred_at: datetime
    offer_id: uuid.UUID
    user_id: uuid.UUID
    state: OpState


def counts_on_top(state: str, ack_no: int | None, reflected_through: int) -> bool:
    """True while a local effect is not yet in the cached row (see the module docstring)."""
    if state == "pending":
        return True
    return state == OpStatus.APPLIED.value and (ack_no or 0) > reflected_through


@dataclass(frozen=True, slots=True)
class OpRecord:
    """One stored op with what the server said about it (None while pending)."""

    seq: int
    op_id: uuid.UUID
    type: OpType
    occurred_at: datetime
    device_clock: datetime
    payload: dict[str, Any]
    verdict: str | None
    state: OpState
    reason: str | None
    message: str | None
    attempts: int
    acked_at: datetime | None

    def to_op(self) -> Op:
        """The op as the push contract sends it."""
        return Op(
            op_id=self.op_id,
            seq=self.seq,
            type=self.type,
            occurred_at=self.occurred_at,
            device_clock=self.device_clock,
            payload=self.payload,
        )


@dataclass(frozen=True, slots=True)
class LocalCheckin:
    """A ticket this device admitted (the first time), with the points it expects to earn."""

    ticket_id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID | None
    gate: str
    checked_in_at: datetime
    points_earned: int
    op_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class LocalCardEntry:
    """A stamp, claim or unstamp this device made, with its op's sync state."""

    kind: EntryKindText
    occurred_at: datetime
    state: OpState
    ack_no: int | None
    op_id: uuid.UUID | None = None
    undoes: uuid.UUID | None = None  # an UNSTAMP's withdrawn stamp


@dataclass(frozen=True, slots=True)
class LocalActivation:
    """A package purchase this device activated."""

    purchase_id: uuid.UUID
    activated_at: datetime
    op_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """What the sync loop last recorded: attempts, success, error, revocation."""

    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    online: bool | None = None
    last_error: str | None = None
    last_error_code: str | None = None
    last_error_at: datetime | None = None
    revoked: bool = False
    revoked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """As stored in the meta table."""
        return {
            "last_attempt_at": _opt_text(self.last_attempt_at),
            "last_success_at": _opt_text(self.last_success_at),
            "online": self.online,
            "last_error": self.last_error,
            "last_error_code": self.last_error_code,
            "last_error_at": _opt_text(self.last_error_at),
            "revoked": self.revoked,
            "revoked_at": _opt_text(self.revoked_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncRecord:
        """Read back what `to_json` stored."""
        return cls(
            last_attempt_at=optional_time(data.get("last_attempt_at")),
            last_success_at=optional_time(data.get("last_success_at")),
            online=data.get("online"),
            last_error=data.get("last_error"),
            last_error_code=data.get("last_error_code"),
            last_error_at=optional_time(data.get("last_error_at")),
            revoked=bool(data.get("revoked", False)),
            revoked_at=optional_time(data.get("revoked_at")),
        )


@dataclass(frozen=True, slots=True)
class ClockRecord:
    """The offset to add to this device's clock, and when it was measured (None: never)."""

    offset: timedelta = field(default_factory=timedelta)
    measured_at: datetime | None = None


def _opt_text(moment: datetime | None) -> str | None:
    return None if moment is None else time_text(moment)


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


class Outbox:
    """The outbox file through one connection (see the module docstring for the contract)."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path, *, busy_timeout_ms: int) -> Outbox:
        """Open or create the outbox file: WAL, synchronous=FULL, foreign keys, busy timeout."""
        db = open_database(
            path, OUTBOX_MIGRATIONS, synchronous=Synchronous.FULL, busy_timeout_ms=busy_timeout_ms
        )
        return cls(db, path)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Outbox]:
        """One `BEGIN IMMEDIATE` transaction: everything inside commits together or not at all."""
        with write_transaction(self.db):
            yield self

    def _require_transaction(self) -> None:
        if not self.db.conn.in_transaction:
            raise RuntimeError("this outbox write must run inside Outbox.transaction()")

    # ------------------------------------------------------------------ ops (scan path)

    def occurred_at(self, device_clock: datetime) -> datetime:
        """The best estimate of true time for a raw clock reading: plus the last measured offset."""
        return device_clock + self.clock().offset

    def add_op(
        self, payload: Payload, *, device_clock: datetime, device_id: uuid.UUID | None
    ) -> Op:
        """Append an op (inside `transaction()`): next seq, `occurred_at` = clock + offset."""
        self._require_transaction()
        row = self.db.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ops'), 0), "
            "COALESCE((SELECT MAX(seq) FROM ops), 0)) + 1"
        ).fetchone()
        op = build_op(
            payload,
            seq=int(row[0]),
            occurred_at=self.occurred_at(device_clock),
            device_clock=device_clock,
        )
        self.db.execute(
            "INSERT INTO ops (seq, op_id, type, occurred_at, device_clock, payload, verdict, "
            "device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                op.seq,
                str(op.op_id),
                op.type.value,
                time_text(op.occurred_at),
                time_text(op.device_clock),
                json.dumps(op.payload, separators=(",", ":")),
                op.payload.get("verdict"),
                None if device_id is None else str(device_id),
            ],
        )
        return op

    def add_checkin(self, checkin: LocalCheckin) -> None:
        """Record a local admission (inside `transaction()`, with its op)."""
        self._require_transaction()
        self.db.execute(
            "INSERT INTO checkins (ticket_id, event_id, user_id, gate, checked_in_at, "
            "points_earned, op_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                str(checkin.ticket_id),
                str(checkin.event_id),
                None if checkin.user_id is None else str(checkin.user_id),
                checkin.gate,
                time_text(checkin.checked_in_at),
                checkin.points_earned,
                str(checkin.op_id),
            ],
        )

    def add_card_entry(
        self,
        *,
        offer_id: uuid.UUID,
        user_id: uuid.UUID,
        kind: EntryKindText,
        occurred_at: datetime,
        op_id: uuid.UUID,
        undoes: uuid.UUID | None = None,
    ) -> None:
        """Record a local stamp, claim or unstamp (inside `transaction()`, with its op)."""
        self._require_transaction()
        self.db.execute(
            "INSERT INTO card_entries (offer_id, user_id, kind, occurred_at, op_id, undoes) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                str(offer_id),
                str(user_id),
                kind,
                time_text(occurred_at),
                str(op_id),
                None if undoes is None else str(undoes),
            ],
        )

    def add_activation(self, activation: LocalActivation) -> None:
        """Record a local package activation (inside `transaction()`, with its op)."""
        self._require_transaction()
        self.db.execute(
            "INSERT INTO activations (purchase_id, activated_at, op_id) VALUES (?, ?, ?)",
            [
                str(activation.purchase_id),
                time_text(activation.activated_at),
                str(activation.op_id),
            ],
        )

    # ------------------------------------------------------------------ local effects (reads)

    def checkin(self, ticket_id: uuid.UUID) -> LocalCheckin | None:
        """This device's first admission of a ticket, if any."""
        row = self.db.execute(
            "SELECT ticket_id, event_id, user_id, gate, checked_in_at, points_earned, op_id "
            "FROM checkins WHERE ticket_id = ?",
            [str(ticket_id)],
        ).fetchone()
        if row is None:
            return None
        return LocalCheckin(
            ticket_id=uuid.UUID(row[0]),
            event_id=uuid.UUID(row[1]),
            user_id=_uuid(row[2]),
            gate=row[3],
            checked_in_at=parse_time(row[4]),
            points_earned=int(row[5]),
            op_id=uuid.UUID(row[6]),
        )

    def has_checkin_for(self, user_id: uuid.UUID, event_id: uuid.UUID) -> bool:
        """True when this device admitted any ticket of this user to this event."""
        row = self.db.execute(
            "SELECT 1 FROM checkins WHERE user_id = ? AND event_id = ? LIMIT 1",
            [str(user_id), str(event_id)],
        ).fetchone()
        return row is not None

    def points_on_top(self, user_id: uuid.UUID, reflected_through: int) -> int:
        """Points this device's admissions earned that the cached passport does not show yet."""
        rows = self.db.execute(
            "SELECT c.points_earned, o.state, o.ack_no FROM checkins c "
            "JOIN ops o ON o.op_id = c.op_id WHERE c.user_id = ? AND c.points_earned > 0",
            [str(user_id)],
        ).fetchall()
        return sum(
            int(points)
            for points, state, ack_no in rows
            if counts_on_top(state, ack_no, reflected_through)
        )

    def card_entries(self, offer_id: uuid.UUID, user_id: uuid.UUID) -> list[LocalCardEntry]:
        """This device's stamps, claims and unstamps on one card, in door-time order."""
        rows = self.db.execute(
            "SELECT e.kind, e.occurred_at, o.state, o.ack_no, e.op_id, e.undoes "
            "FROM card_entries e JOIN ops o ON o.op_id = e.op_id "
            "WHERE e.offer_id = ? AND e.user_id = ? ORDER BY e.occurred_at, o.seq",
            [str(offer_id), str(user_id)],
        ).fetchall()
        return [
            LocalCardEntry(
                kind=kind,
                occurred_at=parse_time(at),
                state=state,
                ack_no=ack_no,
                op_id=uuid.UUID(op_id),
                undoes=_uuid(undoes),
            )
            for kind, at, state, ack_no, op_id, undoes in rows
        ]

    def recent_card_entries(self, limit: int) -> list[RecentCardEntry]:
        """This device's newest stamps, undos and prizes given, with each op's sync state."""
        rows = self.db.execute(
            "SELECT e.kind, e.occurred_at, e.offer_id, e.user_id, o.state FROM card_entries e "
            "JOIN ops o ON o.op_id = e.op_id ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?",
            [limit],
        ).fetchall()
        return [
            RecentCardEntry(
                kind=row[0],
                occurred_at=parse_time(row[1]),
                offer_id=uuid.UUID(row[2]),
                user_id=uuid.UUID(row[3]),
                state=row[4],
            )
            for row in rows
        ]

    def activation(self, purchase_id: uuid.UUID) -> LocalActivation | None:
        """This device's activation of a package purchase, if any."""
        row = self.db.execute(
            "SELECT purchase_id, activated_at, op_id FROM activations WHERE purchase_id = ?",
            [str(purchase_id)],
        ).fetchone()
        if row is None:
            return None
        return LocalActivation(uuid.UUID(row[0]), parse_time(row[1]), uuid.UUID(row[2]))

    # ------------------------------------------------------------------ sync loop

    def pending_ops(self, limit: int) -> list[Op]:
        """The oldest pending ops, in seq order, as the push sends them."""
        rows = self.db.execute(
            "SELECT seq, op_id, type, occurred_at, device_clock, payload FROM ops "
            "WHERE state = 'pending' ORDER BY seq LIMIT ?",
            [limit],
        ).fetchall()
        return [
            Op(
                op_id=uuid.UUID(op_id),
                seq=seq,
                type=OpType(kind),
                occurred_at=parse_time(occurred),
                device_clock=parse_time(device),
                payload=json.loads(payload),
            )
            for seq, op_id, kind, occurred, device, payload in rows
        ]

    def ack_counter(self) -> int:
        """How many acknowledgement batches were recorded (the `ack_no` of the last one)."""
        value = self._meta(_ACK_COUNTER_KEY)
        return int(value) if value is not None else 0

    def mark_results(
        self, results: Sequence[OpResult], *, attempted: Sequence[uuid.UUID], now: datetime
    ) -> int:
        """Store the server's result on each pending op (one transaction); return how many."""
        with self.transaction():
            ack_no = self.ack_counter() + 1
            self._set_meta(_ACK_COUNTER_KEY, ack_no)
            at = time_text(now)
            self.db.conn.executemany(
                "UPDATE ops SET attempts = attempts + 1, last_attempt_at = ? WHERE op_id = ?",
                [(at, str(op_id)) for op_id in attempted],
            )
            marked = 0
            for result in results:
                cursor = self.db.execute(
                    "UPDATE ops SET state = ?, reason = ?, message = ?, effects = ?, "
                    "acked_at = ?, ack_no = ? WHERE op_id = ? AND state = 'pending'",
                    [
                        result.status.value,
                        None if result.reason is None else result.reason.value,
                        result.message,
                        json.dumps(result.effects) if result.effects else None,
                        at,
                        ack_no,
                        str(result.op_id),
                    ],
                )
                marked += cursor.rowcount
        return marked

    def mark_refused_locally(
        self, op_id: uuid.UUID, *, reason: Reason, message: str, now: datetime
    ) -> None:
        """Stop sending an op the server refuses to take at all; it is kept as `rejected`."""
        result = OpResult(op_id=op_id, status=OpStatus.REJECTED, reason=reason, message=message)
        self.mark_results([result], attempted=[op_id], now=now)

    def get_op(self, op_id: uuid.UUID) -> OpRecord | None:
        """One op with its state."""
        rows = self._op_records("WHERE op_id = ?", [str(op_id)])
        return rows[0] if rows else None

    def list_ops(
        self, *, states: Sequence[OpState] | None = None, limit: int = 100
    ) -> list[OpRecord]:
        """The newest ops first, optionally only in some states."""
        if states:
            marks = ", ".join("?" for _ in states)
            where = "WHERE state IN (" + marks + ") ORDER BY seq DESC LIMIT ?"
            return self._op_records(where, [*states, limit])
        return self._op_records("ORDER BY seq DESC LIMIT ?", [limit])

    def _op_records(self, where: str, params: list[Any]) -> list[OpRecord]:
        select = (
            "SELECT seq, op_id, type, occurred_at, device_clock, payload, verdict, state, "
            "reason, message, attempts, acked_at FROM ops "
        )
        rows = self.db.execute(select + where, params).fetchall()
        return [
            OpRecord(
                seq=row[0],
                op_id=uuid.UUID(row[1]),
                type=OpType(row[2]),
                occurred_at=parse_time(row[3]),
                device_clock=parse_time(row[4]),
                payload=json.loads(row[5]),
                verdict=row[6],
                state=row[7],
                reason=row[8],
                message=row[9],
                attempts=row[10],
                acked_at=optional_time(row[11]),
            )
            for row in rows
        ]

    def state_counts(self) -> dict[str, int]:
        """How many ops are in each state."""
        rows = self.db.execute("SELECT state, COUNT(*) FROM ops GROUP BY state").fetchall()
        counts = dict.fromkeys(("pending", "applied", "duplicate", "conflict", "rejected"), 0)
        counts.update({state: int(count) for state, count in rows})
        return counts

    def pending_count(self) -> int:
        """How many ops wait to be sent."""
        row = self.db.execute("SELECT COUNT(*) FROM ops WHERE state = 'pending'").fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ clock and sync state

    def clock(self) -> ClockRecord:
        """The offset measured at the last sync (zero before the first)."""
        data = self._meta_json(_CLOCK_KEY)
        if not data:
            return ClockRecord()
        return ClockRecord(
            offset=timedelta(seconds=float(data["offset_s"])),
            measured_at=optional_time(data.get("measured_at")),
        )

    def set_clock(self, offset: timedelta, *, measured_at: datetime) -> None:
        """Store a newly measured clock offset."""
        with self.transaction():
            self._set_meta(
                _CLOCK_KEY,
                {"offset_s": offset.total_seconds(), "measured_at": time_text(measured_at)},
            )

    def sync_record(self) -> SyncRecord:
        """The sync loop's last recorded state."""
        data = self._meta_json(_SYNC_KEY)
        return SyncRecord.from_json(data) if data else SyncRecord()

    def set_sync_record(self, record: SyncRecord) -> None:
        """Replace the sync loop's recorded state."""
        with self.transaction():
            self._set_meta(_SYNC_KEY, record.to_json())

    # ------------------------------------------------------------------ meta

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def _meta_json(self, key: str) -> dict[str, Any] | None:
        value = self._meta(key)
        if value is None:
            return None
        data = json.loads(value)
        return data if isinstance(data, dict) else None

    def _set_meta(self, key: str, value: object) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, json.dumps(value)],
        )
