"""A prize confirmed online (the branch manager's API) as an op of the card's ledger.

The confirmation is decided like a tablet's `pass.claim`, at the server's
time, in the same deterministic order as the card's offline ops. The caller
is answered at once: the card after the claim, or 409 when the card is not
full at that moment (nothing is recorded then). It is logged as an op (seq 0,
the calling person and/or device), so when a tablet's offline claim dated
earlier arrives later, the card is decided again and the loser (the later
one in the order) is a `conflict` listed for HQ with both sides: two prizes
were handed out for one full card.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from core.reasons import Reason
from core.wire import Op, OpStatus, OpType
from server.db.models import Device, LoyaltyPass, Offer
from server.db.models.enums import OfferStatus
from server.domain import cards
from server.errors import ReasonError
from server.settings import ServerSettings
from server.sync.push import decisions
from server.sync.push.subjects import CardSubject, Checked, Origin

#: The sequence number of an op made through the API rather than a kiosk's outbox.
API_SEQ = 0


def confirm_prize(
    session: Session,
    *,
    offer: Offer,
    customer_id: uuid.UUID,
    device: Device | None,
    user_id: uuid.UUID | None,
    now: datetime,
    settings: ServerSettings,
) -> LoyaltyPass:
    """Confirm the prize on a full card now; the card after it, or ReasonError (409) if not full."""
    if offer.status != OfferStatus.ACTIVE:
        raise ReasonError(Reason.UNKNOWN_OFFER, status=404)
    card = cards.get_or_create_pass(session, offer_id=offer.id, user_id=customer_id)
    card = cards.lock_pass(session, card.id)
    op = Op(
        op_id=uuid.uuid4(),
        seq=API_SEQ,
        type=OpType.PASS_CLAIM,
        occurred_at=now,
        device_clock=now,
        payload={"offer_id": str(offer.id), "customer_id": str(customer_id), "via": "api"},
    )
    subject = CardSubject(offer, customer_id)
    origin = Origin(device_id=device.id if device else None, user_id=user_id)
    savepoint = session.begin_nested()
    decided = decisions.decide_locked(
        session, origin, {subject.key: [Checked(op, None, subject)]}, {}, settings, now
    )
    row = decided[op.op_id]
    if row.status != OpStatus.APPLIED:
        savepoint.rollback()
        card = cards.lock_pass(session, card.id)
        context = {"current": card.current_stamps, "max": offer.max_stamps}
        raise ReasonError(Reason(row.reason or Reason.NOT_ENOUGH_STAMPS), context, status=409)
    savepoint.commit()
    return card
