"""Each new op checked on its own: time window, payload, role, token, scope → a typed subject.

A failure is a static refusal: `rejected` with its reason, recorded and
final. The checks read what they need in a few queries for the whole batch
(every ticket it names, the signing keys) and verify every token with the
server's own keys, never trusting the kiosk's verdict.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from core.errors import InvalidPayloadError
from core.purchases import door_may_activate
from core.reasons import Reason
from core.tokens import TokenClaims, TokenKind, Verification, peek_claims, verify_token
from core.wire import (
    ManualCheckinPayload,
    Op,
    OpType,
    PackageActivatePayload,
    PassClaimPayload,
    PassStampPayload,
    PassUnstampPayload,
    Payload,
    ScanRefusedPayload,
    TicketScanPayload,
    parse_payload,
)
from server.db.bulk import member_of
from server.db.models import Device, Event, Offer, PackagePurchase, Ticket, User
from server.db.models.enums import (
    DeviceRole,
    OfferStatus,
    TicketStatus,
)
from server.domain import keys
from server.sync.push.subjects import (
    CardSubject,
    Checked,
    PurchaseSubject,
    RecordOnly,
    Refusal,
    TicketFacts,
    TicketSubject,
)

_ROLE_FOR = {
    OpType.TICKET_SCAN: DeviceRole.DOOR,
    OpType.TICKET_MANUAL_CHECKIN: DeviceRole.DOOR,
    OpType.PACKAGE_ACTIVATE: DeviceRole.DOOR,
    OpType.SCAN_REFUSED: DeviceRole.DOOR,
    OpType.PASS_STAMP: DeviceRole.BRANCH,
    OpType.PASS_CLAIM: DeviceRole.BRANCH,
    OpType.PASS_UNSTAMP: DeviceRole.BRANCH,
}
_ALONE = RecordOnly()

_Peeked = dict[str, TokenClaims | None]
CardPayload = PassStampPayload | PassClaimPayload | PassUnstampPayload


class _Batch:
    """What every check of one batch shares: the device, the keys, the tickets named."""

    def __init__(self, session: Session, device: Device, ops: list[Op], now: datetime) -> None:
        self.session, self.device, self.now = session, device, now
        self.public_keys = keys.public_keys(session)
        self.tickets, self.peeked = _preload_tickets(session, ops)

    def ticket(self, ticket_id: uuid.UUID) -> TicketFacts | None:
        found = self.tickets.get(ticket_id)
        return found or _load_tickets(self.session, [ticket_id]).get(ticket_id)


def check_all(session: Session, device: Device, ops: list[Op], now: datetime) -> list[Checked]:
    """Check each new op of a device's batch on its own, in the order given."""
    batch = _Batch(session, device, ops, now)
    return [_check(batch, op) for op in ops]


def _refused(op: Op, reason: Reason, payload: Payload | None = None, **context: Any) -> Checked:
    return Checked(op, payload, _ALONE, Refusal(reason, context))


def _check(batch: _Batch, op: Op) -> Checked:
    for name, when, window in (
        ("occurred_at", op.occurred_at, limits.OP_TIME),
        ("device_clock", op.device_clock, limits.DEVICE_CLOCK),
    ):
        if not window.contains(when, batch.now):
            return _refused(op, Reason.IMPLAUSIBLE_TIME, when=f"{name} {when.isoformat()}")
    try:
        payload = parse_payload(op)
    except InvalidPayloadError as exc:
        return _refused(op, Reason.INVALID_OP, detail=exc.detail)
    role = batch.device.role
    if role != _ROLE_FOR[op.type]:
        return _refused(op, Reason.OUT_OF_SCOPE, payload, what=f"{role.lower()} device")
    if isinstance(payload, TicketScanPayload | ManualCheckinPayload):
        return _check_ticket(batch, op, payload)
    if isinstance(payload, CardPayload):
        return _check_card(batch, op, payload)
    if isinstance(payload, ScanRefusedPayload):
        if payload.event_id != batch.device.event_id:
            return _refused(op, Reason.WRONG_EVENT, payload, event_suffix=" (not this door's)")
        return Checked(op, payload, _ALONE)
    return _check_purchase(batch, op, payload)


def _check_ticket(
    batch: _Batch, op: Op, payload: TicketScanPayload | ManualCheckinPayload
) -> Checked:
    if isinstance(payload, ManualCheckinPayload):
        ticket_id = payload.ticket_id
    else:
        verified = _verify_ticket_token(batch, payload.qr)
        if verified.claims is None:
            assert verified.reason is not None
            return _refused(op, verified.reason, payload, actual="other", expected="ticket")
        ticket_id = verified.claims.subject_id
    if payload.event_id != batch.device.event_id:
        return _refused(op, Reason.OUT_OF_SCOPE, payload, what="event")
    ticket = batch.ticket(ticket_id)
    if ticket is None:
        return _refused(op, Reason.UNKNOWN_TICKET, payload)
    subject = TicketSubject(ticket)
    if ticket.event_id != payload.event_id:
        event = batch.session.get(Event, ticket.event_id)
        suffix = f" ({event.name})" if event else ""
        return Checked(op, payload, subject, Refusal(Reason.WRONG_EVENT, {"event_suffix": suffix}))
    if ticket.status == TicketStatus.REVOKED:
        return Checked(op, payload, subject, Refusal(Reason.REVOKED, {"what": "ticket"}))
    return Checked(op, payload, subject)


def _verify_ticket_token(batch: _Batch, qr: str) -> Verification:
    """Verify a ticket QR: by the exact token we issued for that ticket, else by signature.

    A token identical to the one stored when the ticket was issued (by a key
    still trusted) is authentic without checking the signature again: the
    comparison costs a microsecond where an Ed25519 verification costs about
    a hundred, and a batch holds hundreds of scans. Any other text, such as a
    token reissued or signed elsewhere, is verified the full way.
    """
    claims = batch.peeked[qr] if qr in batch.peeked else peek_claims(qr)
    public_keys = batch.public_keys
    if claims is not None and claims.kind is TokenKind.TICKET and claims.key_id in public_keys:
        ticket = batch.tickets.get(claims.subject_id)
        if ticket is not None and hmac.compare_digest(ticket.qr_token, qr):
            return Verification(claims=claims, reason=None)
    return verify_token(qr, public_keys, TokenKind.TICKET)


def _check_card(batch: _Batch, op: Op, payload: CardPayload) -> Checked:
    verified = verify_token(payload.qr, batch.public_keys, TokenKind.PASSPORT)
    if verified.claims is None:
        assert verified.reason is not None
        return _refused(op, verified.reason, payload, actual="other", expected="passport")
    offer = batch.session.get(Offer, payload.offer_id)
    if offer is None or offer.status != OfferStatus.ACTIVE:
        return _refused(op, Reason.UNKNOWN_OFFER, payload)
    if offer.branch_id != batch.device.branch_id:
        return _refused(op, Reason.WRONG_BRANCH, payload)
    user_id = verified.claims.subject_id
    if batch.session.get(User, user_id) is None:
        return _refused(op, Reason.UNKNOWN_PASSPORT, payload)
    return Checked(op, payload, CardSubject(offer, user_id))


def _check_purchase(batch: _Batch, op: Op, payload: PackageActivatePayload) -> Checked:
    verified = verify_token(payload.qr, batch.public_keys, TokenKind.PURCHASE)
    if verified.claims is None:
        assert verified.reason is not None
        return _refused(op, verified.reason, payload, actual="other", expected="package")
    purchase = batch.session.get(PackagePurchase, verified.claims.subject_id)
    if purchase is None:
        return _refused(op, Reason.UNKNOWN_PURCHASE, payload)
    subject = PurchaseSubject(purchase)
    if purchase.event_id != batch.device.event_id:
        return Checked(op, payload, subject, Refusal(Reason.WRONG_EVENT))
    if not door_may_activate(purchase.status, purchase.payment_method):
        status = {"status": purchase.status.lower()}
        return Checked(op, payload, subject, Refusal(Reason.PURCHASE_NOT_PAID, status))
    return Checked(op, payload, subject)


# ----------------------------------------------------------------------------- tickets


def _load_tickets(
    session: Session, ticket_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, TicketFacts]:
    if not ticket_ids:
        return {}
    columns = (Ticket.id, Ticket.event_id, Ticket.user_id, Ticket.status, Ticket.qr_token)
    rows = session.connection().execute(
        select(*columns).where(member_of(session, Ticket.id, ticket_ids))
    )
    return {row[0]: TicketFacts(*row) for row in rows.all()}


def _preload_tickets(
    session: Session, ops: list[Op]
) -> tuple[dict[uuid.UUID, TicketFacts], _Peeked]:
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
