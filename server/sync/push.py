"""Push: record and decide a batch of outbox ops, idempotently and convergently.

The transaction contract: the caller's unit of work (one HTTP request) wraps
the batch. Without `between_steps` it commits once; the HTTP route passes its
commit as `between_steps`, and the batch then commits in two steps: first
everything whose rows no other transaction holds, then the rest, locked
waiting (see `push`). Inside each step:

1. Ops already in the log (by `op_id`) are replays: they get their first
   result back and change nothing.
2. Each new op is checked on its own (payload, token signature with the
   server's keys, role and scope, the row it names). A failure is a static
   refusal: `rejected`, with its reason, recorded and final.
3. Ops that decide the same thing share a subject (one ticket, one card, one
   purchase). Every subject row the batch touches is locked in one global
   order (tickets, purchases, cards, then the holders' passports, each by
   id) before any decision, so concurrent batches cannot deadlock (a step
   that must not wait skips the tickets and passports others hold).
4. For each subject, in a savepoint, the new ops are added to the log and
   *all* the subject's ops are decided again in the contract's order
   (`server.sync.decide`); effects (door scans, the stamp and which scan
   won it, card ledger entries, activation) are brought in line with the
   decisions, and every op whose result changed is updated. A late op that
   sorts before applied ones therefore re-decides them.
"""

from __future__ import annotations

import hmac
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import InvalidPayloadError
from core.reasons import Reason, explain
from core.tokens import TokenClaims, TokenKind, Verification, peek_claims, verify_token
from core.wire import (
    ManualCheckinPayload,
    Op,
    OpResult,
    OpStatus,
    OpType,
    PackageActivatePayload,
    PassClaimPayload,
    PassStampPayload,
    PassUnstampPayload,
    PushRequest,
    PushResponse,
    ScanRefusedPayload,
    TicketScanPayload,
    parse_payload,
)
from server.db.bulk import insert_records, member_of
from server.db.changelog import touch
from server.db.models import (
    Device,
    Event,
    LoyaltyPass,
    Offer,
    PackagePurchase,
    PassEntry,
    PassportStamp,
    SyncOp,
    Ticket,
    TicketScan,
    User,
)
from server.db.models.enums import (
    DeviceRole,
    OfferStatus,
    PassStatus,
    PurchaseStatus,
    ScanMethod,
    ScanOutcome,
    TicketStatus,
)
from server.domain import cards, keys, passport
from server.settings import ServerSettings
from server.sync.decide import (
    STATIC_REASONS,
    Decision,
    OpFact,
    decide_card,
    decide_purchase,
    decide_ticket,
    in_order,
)

_TICKET_OPS = (OpType.TICKET_SCAN, OpType.TICKET_MANUAL_CHECKIN)
_CARD_OPS = (OpType.PASS_STAMP, OpType.PASS_CLAIM)
_ROLE_FOR = {
    OpType.TICKET_SCAN: DeviceRole.DOOR,
    OpType.TICKET_MANUAL_CHECKIN: DeviceRole.DOOR,
    OpType.PACKAGE_ACTIVATE: DeviceRole.DOOR,
    OpType.PASS_STAMP: DeviceRole.BRANCH,
    OpType.PASS_CLAIM: DeviceRole.BRANCH,
    OpType.SCAN_REFUSED: DeviceRole.DOOR,
    OpType.PASS_UNSTAMP: DeviceRole.BRANCH,
}


@dataclass
class _Prepared:
    """A new op after its own checks: its subject, or the reason it is refused."""

    op: Op
    subject_key: str | None = None
    static_reason: Reason | None = None
    context: dict[str, Any] = field(default_factory=dict)
    ticket: _TicketFacts | None = None
    user_id: uuid.UUID | None = None
    offer: Offer | None = None
    purchase: PackagePurchase | None = None
    event_id: uuid.UUID | None = None
    gate: str | None = None
    note: str | None = None
    verdict: str | None = None

    def refuse(self, reason: Reason, **context: Any) -> _Prepared:
        self.static_reason = reason
        self.context = context
        return self


def push(
    session: Session,
    *,
    device: Device,
    request: PushRequest,
    now: datetime,
    settings: ServerSettings,
    between_steps: Callable[[], None] | None = None,
) -> PushResponse:
    """Decide every op of the batch, idempotently and in the contract's deterministic order.

    Without `between_steps` the whole batch is decided in the caller's one
    transaction, waiting for any subject another batch holds. With it (the
    edge's commit), the batch never waits while it holds locks: the subjects
    it can lock at once are decided first, `between_steps()` commits them,
    and the few that other batches held are then locked, waiting, and decided
    in a second transaction. Concurrent batches that share a handful of
    tickets therefore no longer queue behind each other's whole batch.
    """
    unique: dict[uuid.UUID, Op] = {}
    for op in request.ops:
        unique.setdefault(op.op_id, op)
    known = _existing(session, unique)
    public_keys = keys.public_keys(session)
    fresh = [op for op in unique.values() if op.op_id not in known]
    tickets, peeked = _preload_tickets(session, fresh)
    prepared = [_prepare(session, device, op, public_keys, tickets, peeked) for op in fresh]
    by_subject: dict[str, list[_Prepared]] = defaultdict(list)
    loose = []
    for item in prepared:
        if item.subject_key is None:
            loose.append(item)
        else:
            by_subject[item.subject_key].append(item)
    stored: dict[uuid.UUID, _OpRow] = dict(known)
    stored.update(_record_loose(session, device, loose, now))
    waiting = between_steps is None
    profiles, held_elsewhere = _lock_subjects(session, by_subject, wait=waiting)
    ready = {key: items for key, items in by_subject.items() if key not in held_elsewhere}
    stored.update(_decide_locked(session, device, ready, profiles, settings, now))
    _note_device(device, request, now)
    if held_elsewhere:
        assert between_steps is not None
        between_steps()
        later = {key: by_subject[key] for key in sorted(held_elsewhere)}
        profiles, _none = _lock_subjects(session, later, wait=True)
        stored.update(_decide_locked(session, device, later, profiles, settings, now))
    session.flush()
    # Ops a concurrent push logged first (after our first look) answer with its result.
    stored.update(_existing(session, [op_id for op_id in unique if op_id not in stored]))
    return PushResponse(
        server_time=now,
        results=[_first_result(stored[op.op_id]) for op in request.ops],
    )


def _decide_locked(
    session: Session,
    device: Device,
    by_subject: dict[str, list[_Prepared]],
    profiles: _Profiles,
    settings: ServerSettings,
    now: datetime,
) -> dict[uuid.UUID, _NewOp]:
    """Decide subjects whose rows this transaction holds, set-based in one savepoint."""
    if not by_subject:
        return {}
    try:
        with session.begin_nested():
            return _decide_subjects(session, device, by_subject, profiles, settings, now)
    except IntegrityError:
        # A concurrent push raced us on a row we create (a card, a passport):
        # decide again one subject at a time, each in its own savepoint.
        decided: dict[uuid.UUID, _NewOp] = {}
        for subject_key in sorted(by_subject):
            with session.begin_nested():
                one = {subject_key: by_subject[subject_key]}
                decided.update(_decide_subjects(session, device, one, profiles, settings, now))
        return decided


class _TicketFacts(NamedTuple):
    """What push needs of a ticket, read as a plain row (a batch reads hundreds)."""

    id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID
    status: str
    qr_token: str


_Peeked = dict[str, TokenClaims | None]


def _load_tickets(
    session: Session, ticket_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, _TicketFacts]:
    if not ticket_ids:
        return {}
    columns = (Ticket.id, Ticket.event_id, Ticket.user_id, Ticket.status, Ticket.qr_token)
    rows = session.connection().execute(
        select(*columns).where(member_of(session, Ticket.id, ticket_ids))
    )
    return {row[0]: _TicketFacts(*row) for row in rows.all()}


def _preload_tickets(
    session: Session, ops: list[Op]
) -> tuple[dict[uuid.UUID, _TicketFacts], _Peeked]:
    """Every ticket the batch names, in one query, and what each scanned token claims.

    The claims are unverified: they only say which tickets to load, and
    `_verify_ticket_token` decides with them (parsed once per token).
    """
    ticket_ids = set()
    peeked: _Peeked = {}
    for op in ops:
        if op.type == OpType.TICKET_SCAN:
            qr = op.payload.get("qr")
            if not isinstance(qr, str):
                continue
            claims = peeked[qr] = peek_claims(qr)
            if claims and claims.kind is TokenKind.TICKET:
                ticket_ids.add(claims.subject_id)
        elif op.type == OpType.TICKET_MANUAL_CHECKIN:
            try:
                ticket_ids.add(uuid.UUID(str(op.payload.get("ticket_id"))))
            except ValueError:
                continue
    return _load_tickets(session, ticket_ids), peeked


def _existing(session: Session, ops: Iterable[uuid.UUID]) -> dict[uuid.UUID, SyncOp]:
    ids = list(ops)
    if not ids:
        return {}
    rows = session.scalars(
        select(SyncOp)
        .where(member_of(session, SyncOp.op_id, ids))
        .execution_options(populate_existing=True)
    )
    return {row.op_id: row for row in rows}


def _logged(session: Session, op_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ops the log holds (ids only, no rows loaded)."""
    found = session.connection().execute(
        select(SyncOp.op_id).where(member_of(session, SyncOp.op_id, op_ids))
    )
    return set(found.scalars())


def _first_result(row: _OpRow) -> OpResult:
    return OpResult(
        op_id=row.op_id,
        status=OpStatus(row.first_status),
        reason=Reason(row.first_reason) if row.first_reason else None,
        message=row.first_message,
        effects=row.first_effects or {},
    )


# ----------------------------------------------------------------------------- checks


def _prepare(
    session: Session,
    device: Device,
    op: Op,
    public_keys: dict[int, bytes],
    tickets: dict[uuid.UUID, _TicketFacts],
    peeked: _Peeked,
) -> _Prepared:
    item = _Prepared(op)
    try:
        payload = parse_payload(op)
    except InvalidPayloadError as exc:
        return item.refuse(Reason.INVALID_OP, detail=exc.detail)
    item.verdict = payload.verdict
    if device.role != _ROLE_FOR[op.type]:
        return item.refuse(Reason.OUT_OF_SCOPE, what=f"{device.role.lower()} device")
    if isinstance(payload, ScanRefusedPayload | PassUnstampPayload):
        return item.refuse(Reason.INVALID_OP, detail=f"{op.type.value} is not decided yet")
    if isinstance(payload, TicketScanPayload | ManualCheckinPayload):
        return _prepare_ticket(session, device, item, payload, public_keys, tickets, peeked)
    if isinstance(payload, PassStampPayload | PassClaimPayload):
        return _prepare_card(session, device, item, payload, public_keys)
    return _prepare_purchase(session, device, item, payload, public_keys)


def _prepare_ticket(
    session: Session,
    device: Device,
    item: _Prepared,
    payload: TicketScanPayload | ManualCheckinPayload,
    public_keys: dict[int, bytes],
    tickets: dict[uuid.UUID, _TicketFacts],
    peeked: _Peeked,
) -> _Prepared:
    item.gate, item.event_id = payload.gate, payload.event_id
    if isinstance(payload, ManualCheckinPayload):
        item.note = payload.note
        ticket_id = payload.ticket_id
    else:
        verified = _verify_ticket_token(payload.qr, public_keys, tickets, peeked)
        if verified.claims is None:
            assert verified.reason is not None
            return item.refuse(verified.reason, actual="other", expected="ticket")
        ticket_id = verified.claims.subject_id
    if payload.event_id != device.event_id:
        return item.refuse(Reason.OUT_OF_SCOPE, what="event")
    ticket = tickets.get(ticket_id) or _load_tickets(session, [ticket_id]).get(ticket_id)
    if ticket is None:
        return item.refuse(Reason.UNKNOWN_TICKET)
    item.ticket, item.user_id = ticket, ticket.user_id
    item.subject_key = f"ticket:{ticket.id}"
    if ticket.event_id != payload.event_id:
        event = session.get(Event, ticket.event_id)
        return item.refuse(Reason.WRONG_EVENT, event_suffix=f" ({event.name})" if event else "")
    if ticket.status == TicketStatus.REVOKED:
        return item.refuse(Reason.REVOKED, what="ticket")
    return item


def _verify_ticket_token(
    qr: str,
    public_keys: dict[int, bytes],
    tickets: dict[uuid.UUID, _TicketFacts],
    peeked: _Peeked,
) -> Verification:
    """Verify a ticket QR: by the exact token we issued for that ticket, else by signature.

    A token identical to the one stored when the ticket was issued (by a key
    still trusted) is authentic without checking the signature again: the
    comparison costs a microsecond where an Ed25519 verification costs about
    a hundred, and a batch holds hundreds of scans. Any other text, such as a
    token reissued or signed elsewhere, is verified the full way.
    """
    claims = peeked[qr] if qr in peeked else peek_claims(qr)
    if claims is not None and claims.kind is TokenKind.TICKET and claims.key_id in public_keys:
        ticket = tickets.get(claims.subject_id)
        if ticket is not None and hmac.compare_digest(ticket.qr_token, qr):
            return Verification(claims=claims, reason=None)
    return verify_token(qr, public_keys, TokenKind.TICKET)


def _prepare_card(
    session: Session,
    device: Device,
    item: _Prepared,
    payload: PassStampPayload | PassClaimPayload,
    public_keys: dict[int, bytes],
) -> _Prepared:
    verified = verify_token(payload.qr, public_keys, TokenKind.PASSPORT)
    if verified.claims is None:
        assert verified.reason is not None
        return item.refuse(verified.reason, actual="other", expected="passport")
    offer = session.get(Offer, payload.offer_id)
    if offer is None or offer.status != OfferStatus.ACTIVE:
        return item.refuse(Reason.UNKNOWN_OFFER)
    if offer.branch_id != device.branch_id:
        return item.refuse(Reason.WRONG_BRANCH)
    user_id = verified.claims.subject_id
    if session.get(User, user_id) is None:
        return item.refuse(Reason.UNKNOWN_PASSPORT)
    item.offer, item.user_id = offer, user_id
    item.subject_key = f"card:{offer.id}:{user_id}"
    return item


def _prepare_purchase(
    session: Session,
    device: Device,
    item: _Prepared,
    payload: PackageActivatePayload,
    public_keys: dict[int, bytes],
) -> _Prepared:
    verified = verify_token(payload.qr, public_keys, TokenKind.PURCHASE)
    if verified.claims is None:
        assert verified.reason is not None
        return item.refuse(verified.reason, actual="other", expected="package")
    purchase = session.get(PackagePurchase, verified.claims.subject_id)
    if purchase is None:
        return item.refuse(Reason.UNKNOWN_PURCHASE)
    item.purchase, item.user_id = purchase, purchase.user_id
    item.subject_key = f"purchase:{purchase.id}"
    if purchase.event_id != device.event_id:
        return item.refuse(Reason.WRONG_EVENT)
    if purchase.status != PurchaseStatus.PAID:
        return item.refuse(Reason.PURCHASE_NOT_PAID, status=purchase.status.lower())
    return item


# ------------------------------------------------------------------------------ locks


def _lock_subjects(
    session: Session, by_subject: dict[str, list[_Prepared]], *, wait: bool
) -> tuple[_Profiles, set[str]]:
    """Lock every row the batch decides on, in one global order (see the module doc).

    Returns the ticket holders' passports, locked (ticket scans award stamps
    to them), and the ticket subjects left undecided. With `wait=False`,
    tickets and passports another transaction holds are skipped, not waited
    for, and their subjects are left for a later transaction: a batch then
    never waits while holding locks. Purchases and cards are always waited
    for, in order; waits that follow the global order cannot deadlock.
    """
    firsts = [items[0] for items in by_subject.values()]
    ticket_ids = {item.ticket.id for item in firsts if item.ticket}
    locked_tickets = _lock_rows(session, Ticket, ticket_ids, skip_locked=not wait)
    purchase_ids = {item.purchase.id for item in firsts if item.purchase}
    _lock_rows(session, PackagePurchase, purchase_ids, skip_locked=False)
    card_ids = {
        cards.get_or_create_pass(session, offer_id=item.offer.id, user_id=item.user_id).id
        for item in firsts
        if item.offer and item.user_id
    }
    _lock_rows(session, LoyaltyPass, card_ids, skip_locked=False)
    holders = {
        item.ticket.user_id for item in firsts if item.ticket and item.ticket.id in locked_tickets
    }
    profiles = passport.lock_profiles(session, holders, wait=wait) if holders else {}
    held_elsewhere = {
        key
        for key, items in by_subject.items()
        if items[0].ticket is not None
        and (items[0].ticket.id not in locked_tickets or items[0].ticket.user_id not in profiles)
    }
    return profiles, held_elsewhere


def _lock_rows(
    session: Session, model: Any, ids: set[uuid.UUID], *, skip_locked: bool
) -> set[uuid.UUID]:
    """Lock these rows (key share, in id order) and return the ids locked.

    Only the lock matters: the rows were loaded already, so ids are read, not
    objects. With `skip_locked`, rows another transaction holds are left out.
    """
    if not ids:
        return set()
    locked = session.scalars(
        select(model.id)
        .where(member_of(session, model.id, ids))
        .order_by(model.id)
        .with_for_update(key_share=True, skip_locked=skip_locked)
    )
    return set(locked)


# -------------------------------------------------------------------------- decisions


@dataclass(slots=True)
class _NewOp:
    """A `sync_ops` row not yet written: decided first, then inserted once in bulk."""

    op_id: uuid.UUID
    device_id: uuid.UUID
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
class _NewScan:
    """A `ticket_scans` row not yet written (see `_NewOp`)."""

    ticket_id: uuid.UUID | None
    event_id: uuid.UUID | None
    user_id: uuid.UUID | None
    device_id: uuid.UUID
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


_OpRow = SyncOp | _NewOp
_Profiles = dict[uuid.UUID, passport.ProfileState]
_ScanRow = TicketScan | _NewScan
_Facts = dict[uuid.UUID, OpFact]


def _new_row(device: Device, item: _Prepared, now: datetime) -> _NewOp:
    op = item.op
    status = OpStatus.REJECTED if item.static_reason else OpStatus.APPLIED
    message = explain(item.static_reason, item.context) if item.static_reason else None
    return _NewOp(
        op_id=op.op_id,
        device_id=device.id,
        seq=op.seq,
        type=op.type.value,
        occurred_at=op.occurred_at,
        device_clock=op.device_clock,
        received_at=now,
        decided_at=now,
        payload=op.payload,
        subject_key=item.subject_key,
        status=status.value,
        reason=item.static_reason,
        message=message,
        effects={},
        first_status=status.value,
        first_reason=item.static_reason,
        first_message=message,
        first_effects={},
    )


def _write_new(session: Session, ops: Iterable[_NewOp], scans: Iterable[_NewScan]) -> None:
    """Insert the batch's new op and scan rows in two statements; note the scans for pull."""
    insert_records(session, SyncOp, list(ops))
    scan_rows = list(scans)
    insert_records(session, TicketScan, scan_rows)
    for scan in scan_rows:
        if scan.event_id is not None:
            touch(session, "scans", str(scan.id), event_id=scan.event_id)


def _record_loose(
    session: Session, device: Device, items: list[_Prepared], now: datetime
) -> dict[uuid.UUID, _NewOp]:
    """Refused ops with no subject: log each once (a concurrent replay may have logged it)."""
    if not items:
        return {}
    with session.begin_nested():
        already = _existing(session, (item.op.op_id for item in items))
        todo = [item for item in items if item.op.op_id not in already]
        rows = {item.op.op_id: _new_row(device, item, now) for item in todo}
        _write_new(
            session,
            rows.values(),
            (_scan_row(device, item, None, now) for item in todo if item.op.type in _TICKET_OPS),
        )
    return rows


def _fact(row: _OpRow) -> OpFact:
    static = Reason(row.reason) if row.reason and Reason(row.reason) in STATIC_REASONS else None
    payload = row.payload or {}
    kind = {OpType.PASS_STAMP: "STAMP", OpType.PASS_CLAIM: "CLAIM"}.get(OpType(row.type), row.type)
    return OpFact(
        op_id=row.op_id,
        device_id=row.device_id,
        seq=row.seq,
        occurred_at=row.occurred_at,
        kind=kind,
        verdict=payload.get("verdict"),
        static_reason=static,
        gate=payload.get("gate"),
    )


def _decide_subjects(
    session: Session,
    device: Device,
    by_subject: dict[str, list[_Prepared]],
    profiles: _Profiles,
    settings: ServerSettings,
    now: datetime,
) -> dict[uuid.UUID, _NewOp]:
    """Decide every touched subject again with its new ops, in a few set-based queries.

    New ops are decided before they are written, so each new row (op, scan)
    is inserted once with its final values; only earlier ops whose result
    changed are updated.
    """
    # Logged meanwhile by a concurrent push (its result is read back at the end).
    already = _logged(session, [i.op.op_id for items in by_subject.values() for i in items])
    fresh = {
        key: [item for item in items if item.op.op_id not in already]
        for key, items in by_subject.items()
    }
    fresh = {key: items for key, items in fresh.items() if items}
    if not fresh:
        return {}
    new_rows = {
        item.op.op_id: _new_row(device, item, now) for items in fresh.values() for item in items
    }
    rows_by_subject: dict[str, list[_OpRow]] = defaultdict(list)
    earlier = session.scalars(
        select(SyncOp)
        .where(member_of(session, SyncOp.subject_key, list(fresh)))
        .execution_options(populate_existing=True)
    )
    for row in [*earlier, *new_rows.values()]:
        assert row.subject_key is not None
        rows_by_subject[row.subject_key].append(row)
    facts = {row.op_id: _fact(row) for rows in rows_by_subject.values() for row in rows}
    for rows in rows_by_subject.values():
        rows.sort(key=lambda row: facts[row.op_id].order)
    decided: dict[str, list[Decision]] = {}
    ticket_subjects: dict[str, tuple[_TicketFacts, list[_Prepared]]] = {}
    for key, items in fresh.items():
        first, subject_rows = items[0], rows_by_subject[key]
        if first.op.type in _TICKET_OPS:
            assert first.ticket is not None
            ticket_subjects[key] = (first.ticket, items)
        elif first.op.type in _CARD_OPS:
            assert first.offer is not None
            assert first.user_id is not None
            decided[key] = _apply_card(
                session, first.offer, first.user_id, subject_rows, facts, settings
            )
        else:
            assert first.purchase is not None
            decided[key] = _apply_purchase(first.purchase, subject_rows, facts)
    ticket_decisions, new_scans = _apply_tickets(
        session, device, ticket_subjects, rows_by_subject, facts, profiles, now
    )
    decided.update(ticket_decisions)
    for key, decisions in decided.items():
        for row, decision in zip(rows_by_subject[key], decisions, strict=True):
            _store(row, decision, is_new=row.op_id in new_rows, now=now)
    _write_new(session, new_rows.values(), new_scans)
    session.flush()
    return new_rows


def _store(row: _OpRow, decision: Decision, *, is_new: bool, now: datetime) -> None:
    if decision.reason in STATIC_REASONS and row.reason == decision.reason and row.message:
        message: str | None = row.message  # the words its own checks gave, with their details
    else:
        message = explain(decision.reason, decision.context) if decision.reason else None
    blocker = decision.blocker.op_id if decision.blocker else None
    current = (row.status, row.reason, row.message, row.effects, row.blocked_by_op_id)
    wanted = (decision.status.value, decision.reason, message, decision.effects, blocker)
    if current != wanted:
        row.status, row.reason, row.message, row.effects, row.blocked_by_op_id = wanted
        row.decided_at = now
    if is_new:
        row.first_status, row.first_reason = decision.status.value, decision.reason
        row.first_message, row.first_effects = message, decision.effects


def _scan_row(
    device: Device, item: _Prepared, ticket: _TicketFacts | None, now: datetime
) -> _NewScan:
    op = item.op
    return _NewScan(
        ticket_id=ticket.id if ticket else None,
        event_id=item.event_id if item.event_id == device.event_id else None,
        user_id=ticket.user_id if ticket else None,
        device_id=device.id,
        op_id=op.op_id,
        gate=item.gate,
        method=ScanMethod.MANUAL if op.type == OpType.TICKET_MANUAL_CHECKIN else ScanMethod.QR,
        note=item.note,
        outcome=ScanOutcome.REFUSED,
        reason=item.static_reason,
        scanned_at=op.occurred_at,
        received_at=now,
    )


_OUTCOMES = {
    OpStatus.APPLIED: ScanOutcome.ADMITTED,
    OpStatus.REJECTED: ScanOutcome.REFUSED,
    OpStatus.DUPLICATE: ScanOutcome.REENTRY,
    OpStatus.CONFLICT: ScanOutcome.REENTRY,
}


def _apply_tickets(
    session: Session,
    device: Device,
    subjects: dict[str, tuple[_TicketFacts, list[_Prepared]]],
    rows_by_subject: dict[str, list[_OpRow]],
    facts: _Facts,
    profiles: _Profiles,
    now: datetime,
) -> tuple[dict[str, list[Decision]], list[_NewScan]]:
    """Decide each ticket's ops; bring its scans and the holder's stamp in line.

    Returns the decisions and the new scan rows (to insert with the new ops).
    """
    if not subjects:
        return {}, []
    decided = {
        key: decide_ticket([facts[row.op_id] for row in rows_by_subject[key]]) for key in subjects
    }
    new_scans = [
        _scan_row(device, item, ticket, now)
        for ticket, items in subjects.values()
        for item in items
    ]
    scans: dict[uuid.UUID, _ScanRow] = {scan.op_id: scan for scan in new_scans}
    earlier = [
        row.op_id for key in subjects for row in rows_by_subject[key] if row.op_id not in scans
    ]
    if earlier:
        scans.update(
            (scan.op_id, scan)
            for scan in session.scalars(
                select(TicketScan).where(member_of(session, TicketScan.op_id, earlier))
            )
            if scan.op_id is not None
        )
    winners = {key: winner for key, (_d, winner) in decided.items() if winner is not None}
    awards = passport.award_stamps(
        session,
        profiles=profiles,
        requests=[
            passport.StampRequest(
                subjects[key][0].user_id, subjects[key][0].event_id, won.occurred_at
            )
            for key, won in winners.items()
        ],
    )
    stamps = {}
    for (key, first), award in zip(winners.items(), awards, strict=True):
        stamp = award.stamp
        if stamp is not None and first.occurred_at < stamp.created_at:
            # A late scan sorts first: it holds the stamp, dated by its own time.
            stamp = replace(stamp, created_at=first.occurred_at)
            session.connection().execute(
                update(PassportStamp)
                .where(PassportStamp.id == stamp.id)
                .values(created_at=stamp.created_at)
            )
        stamps[key] = stamp
    results: dict[str, list[Decision]] = {}
    for key, (ticket, _items) in subjects.items():
        decisions, winner = decided[key]
        stamp = stamps.get(key)
        final = []
        admission_moved = False
        for row, decision in zip(rows_by_subject[key], decisions, strict=True):
            scan = scans[row.op_id]
            outcome = _OUTCOMES[decision.status]
            if (scan.outcome == ScanOutcome.ADMITTED) != (outcome == ScanOutcome.ADMITTED):
                admission_moved = True
            scan.outcome = outcome
            scan.reason = decision.reason
            is_winner = winner is not None and row.op_id == winner.op_id
            scan.passport_stamp_id = stamp.id if (is_winner and stamp) else None
            effects: dict[str, Any] = {"ticket_id": str(ticket.id), "user_id": str(ticket.user_id)}
            if is_winner:
                effects["stamp_id"] = str(stamp.id) if stamp else None
            elif winner is not None and decision.status is not OpStatus.REJECTED:
                effects["first_op_id"] = str(winner.op_id)
            final.append(replace(decision, effects=effects))
        results[key] = final
        if admission_moved:
            # The ticket's first check-in (when, where) changed: kiosks pull it again.
            touch(session, "tickets", str(ticket.id), event_id=ticket.event_id)
    return results, new_scans


def _apply_card(
    session: Session,
    offer: Offer,
    user_id: uuid.UUID,
    rows: list[_OpRow],
    facts: _Facts,
    settings: ServerSettings,
) -> list[Decision]:
    card = cards.get_or_create_pass(session, offer_id=offer.id, user_id=user_id)
    entries = list(session.scalars(select(PassEntry).where(PassEntry.pass_id == card.id)))
    direct = [
        OpFact(
            op_id=None,
            device_id=entry.device_id,
            seq=entry.seq,
            occurred_at=entry.occurred_at,
            kind=entry.kind,
            entry_id=entry.id,
        )
        for entry in entries
        if entry.op_id is None
    ]
    op_facts = {row.op_id: facts[row.op_id] for row in rows}
    ordered = in_order([*direct, *op_facts.values()])
    decided, state = decide_card(
        ordered,
        max_stamps=offer.max_stamps,
        inactivity_days=settings.pass_inactivity_expiration_days,
    )
    by_op = {fact.op_id: decision for fact, decision in zip(ordered, decided, strict=True)}
    applied = {
        fact.op_id: fact
        for fact in ordered
        if fact.op_id is not None and by_op[fact.op_id].status is OpStatus.APPLIED
    }
    stale = [entry.id for entry in entries if entry.op_id and entry.op_id not in applied]
    if stale:
        session.execute(delete(PassEntry).where(PassEntry.id.in_(stale)))
    present = {entry.op_id for entry in entries if entry.op_id}
    for op_id, fact in applied.items():
        if op_id not in present:
            session.add(
                PassEntry(
                    pass_id=card.id,
                    kind=fact.kind,
                    occurred_at=fact.occurred_at,
                    device_id=fact.device_id,
                    seq=fact.seq,
                    op_id=op_id,
                )
            )
    card.current_stamps = state.current_stamps
    card.rewards_claimed = state.rewards_claimed
    card.last_activity_at = state.last_activity_at
    if card.status != PassStatus.ACTIVE and applied:
        card.status, card.expired_at = PassStatus.ACTIVE, None
    session.flush()
    return [by_op[row.op_id] for row in rows]


def _apply_purchase(
    purchase: PackagePurchase, rows: list[_OpRow], every_fact: _Facts
) -> list[Decision]:
    facts = [every_fact[row.op_id] for row in rows]
    direct_at = purchase.activated_at if purchase.activated_by_device_id is None else None
    decisions, winner = decide_purchase(facts, direct_at)
    if winner is not None:
        purchase.activated_at = winner.occurred_at
        purchase.activated_by_device_id = winner.device_id
    effects = {"purchase_id": str(purchase.id), "bracelet_ids": list(purchase.django_bracelet_ids)}
    return [
        Decision(
            d.status,
            d.reason,
            d.context,
            d.blocker,
            effects if d.status is OpStatus.APPLIED else {},
        )
        for d in decisions
    ]


# ----------------------------------------------------------------------------- device


def _note_device(device: Device, request: PushRequest, now: datetime) -> None:
    """Last sync, highest seq, and the clock offset measured from `device_time`."""
    device.last_seen_at = now
    device.last_sync_at = now
    if request.ops:
        highest = max(op.seq for op in request.ops)
        device.last_seq = max(device.last_seq or 0, highest)
    device.clock_offset_ms = round((now - request.device_time).total_seconds() * 1000)
