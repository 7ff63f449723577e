"""Per-event billing status and fee rules (seed 001 §3.2), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import uuid

import pytest
from sqlalchemy.orm import Session

from server.db.models import EventPassportBilling
from server.db.models.enums import BillingStatus
from server.domain import billing, events
from server.domain.billing import BillingTransitionRefused
from server.domain.promoters import FieldErrors
from server.errors import Conflict, InvalidInput, NotFound
from tests.server.domain._world_accounts import make_event, make_promoter

D, PP, P, W = (
    BillingStatus.DRAFT,
    BillingStatus.PENDING_PAYMENT,
    BillingStatus.PAID,
    BillingStatus.WAIVED,
)

#: The allowed moves, written out independently of the module's table.
MOVES = {(D, PP), (PP, P), (D, W), (PP, W)}
ALL_PAIRS = list(itertools.product(BillingStatus, repeat=2))
ALLOWED = [pair for pair in ALL_PAIRS if pair in MOVES]
SAME = [(status, status) for status in BillingStatus]
REFUSED = [pair for pair in ALL_PAIRS if pair not in MOVES and pair[0] != pair[1]]


def _bill(
    session: Session, status: BillingStatus, *, fee: int | None = 1999
) -> EventPassportBilling:
    """A bill for a fresh event, put into `status` directly."""
    event = make_event(session)
    row = events.enable_passport(session, event_id=event.id, fee_amount_cents=fee)
    row.status = status
    session.flush()
    return row


def test_every_pair_is_classified_once() -> None:
    assert len(ALLOWED) + len(SAME) + len(REFUSED) == 16
    assert len(ALLOWED) == 4


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED, ids=lambda s: str(s))
def test_billing_moves_along_the_allowed_path(
    session: Session, from_status: BillingStatus, to_status: BillingStatus
) -> None:
    row = _bill(session, from_status)

    changed = billing.change_status(session, billing_id=row.id, new_status=to_status)

    assert changed is row
    assert changed.status == to_status
    assert billing.can_change(from_status, to_status)


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED, ids=lambda s: str(s))
def test_billing_refuses_every_other_move_naming_from_and_to(
    session: Session, from_status: BillingStatus, to_status: BillingStatus
) -> None:
    row = _bill(session, from_status)

    with pytest.raises(BillingTransitionRefused) as caught:
        billing.change_status(session, billing_id=row.id, new_status=to_status)

    assert isinstance(caught.value, Conflict)
    assert caught.value.status == 409
    assert (caught.value.from_status, caught.value.to_status) == (from_status, to_status)
    assert f"from {from_status} to {to_status}" in caught.value.message
    assert not billing.can_change(from_status, to_status)
    assert billing.get(session, billing_id=row.id).status == from_status


@pytest.mark.parametrize("status", list(BillingStatus), ids=str)
def test_asking_for_the_current_status_is_a_harmless_no_op(
    session: Session, status: BillingStatus
) -> None:
    row = _bill(session, status)

    assert billing.change_status(session, billing_id=row.id, new_status=status).status == status


def test_billing_cannot_go_from_paid_back_to_draft(session: Session) -> None:
    row = _bill(session, D)
    billing.change_status(session, billing_id=row.id, new_status=PP)
    billing.change_status(session, billing_id=row.id, new_status=P)

    with pytest.raises(Conflict, match="from PAID to DRAFT"):
        billing.change_status(session, billing_id=row.id, new_status=D)


def test_a_paid_bill_cannot_be_waived(session: Session) -> None:
    row = _bill(session, P)

    with pytest.raises(Conflict, match="from PAID to WAIVED"):
        billing.change_status(session, billing_id=row.id, new_status=W)


def test_a_draft_cannot_skip_straight_to_paid(session: Session) -> None:
    row = _bill(session, D)

    with pytest.raises(Conflict, match="from DRAFT to PAID"):
        billing.change_status(session, billing_id=row.id, new_status="PAID")


def test_asking_for_payment_needs_a_fee(session: Session) -> None:
    row = _bill(session, D, fee=None)

    with pytest.raises(Conflict, match="fee"):
        billing.change_status(session, billing_id=row.id, new_status=PP)
    assert row.status == D


def test_a_bill_without_a_fee_can_still_be_waived(session: Session) -> None:
    row = _bill(session, D, fee=None)

    assert billing.change_status(session, billing_id=row.id, new_status=W).status == W


def test_change_status_records_notes(session: Session) -> None:
    row = _bill(session, D)

    billing.change_status(session, billing_id=row.id, new_status=W, notes=" beta partner ")

    assert row.notes == "beta partner"


def test_change_status_refuses_an_unknown_status(session: Session) -> None:
    row = _bill(session, D)

    with pytest.raises(InvalidInput, match="PENDING_PAYMENT"):
        billing.change_status(session, billing_id=row.id, new_status="REFUNDED")


def test_change_status_of_an_unknown_bill_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        billing.change_status(session, billing_id=uuid.uuid4(), new_status=W)


@pytest.mark.parametrize("status", [D, PP], ids=str)
def test_the_fee_can_change_until_the_bill_is_settled(
    session: Session, status: BillingStatus
) -> None:
    row = _bill(session, status)

    billing.set_fee(session, billing_id=row.id, fee_amount_cents=2500, currency=" ttd ")

    assert (row.fee_amount_cents, row.currency) == (2500, "TTD")


@pytest.mark.parametrize("status", [P, W], ids=str)
def test_the_fee_of_a_settled_bill_cannot_change(session: Session, status: BillingStatus) -> None:
    row = _bill(session, status)

    with pytest.raises(Conflict):
        billing.set_fee(session, billing_id=row.id, fee_amount_cents=1)
    assert row.fee_amount_cents == 1999


def test_the_fee_can_be_cleared_only_while_draft(session: Session) -> None:
    draft = _bill(session, D)
    pending = _bill(session, PP)

    billing.set_fee(session, billing_id=draft.id, fee_amount_cents=None)
    with pytest.raises(Conflict):
        billing.set_fee(session, billing_id=pending.id, fee_amount_cents=None)

    assert draft.fee_amount_cents is None
    assert pending.fee_amount_cents == 1999


@pytest.mark.parametrize(
    ("fee", "currency", "field"),
    [(-1, None, "fee_amount_cents"), (2**31, None, "fee_amount_cents"), (100, "US", "currency")],
)
def test_set_fee_refuses_bad_values(
    session: Session, fee: int, currency: str | None, field: str
) -> None:
    row = _bill(session, D)

    with pytest.raises(FieldErrors) as caught:
        billing.set_fee(session, billing_id=row.id, fee_amount_cents=fee, currency=currency)

    assert set(caught.value.fields) == {field}


def test_a_zero_fee_is_allowed(session: Session) -> None:
    row = _bill(session, D)

    assert billing.set_fee(session, billing_id=row.id, fee_amount_cents=0).fee_amount_cents == 0


def test_list_filters_by_promoter_and_status(session: Session) -> None:
    promoter = make_promoter(session)
    theirs = events.enable_passport(
        session, event_id=make_event(session, promoter_id=promoter.id).id, fee_amount_cents=100
    )
    house = events.enable_passport(session, event_id=make_event(session).id)
    billing.change_status(session, billing_id=house.id, new_status=W)

    assert billing.list_(session) == [theirs, house]
    assert billing.list_(session, promoter_id=promoter.id) == [theirs]
    assert billing.list_(session, status="WAIVED") == [house]
    assert billing.list_(session, promoter_id=promoter.id, status=W) == []


def test_get_for_an_event_without_passport_is_none(session: Session) -> None:
    assert billing.get_for_event(session, event_id=make_event(session).id) is None


def test_get_unknown_bill_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        billing.get(session, billing_id=uuid.uuid4())
