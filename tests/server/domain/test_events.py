"""Events, their owners, and switching Soca Passport on and off, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import EventPassportBilling
from server.db.models.enums import BillingStatus
from server.domain import billing, events, promoters
from server.domain.promoters import FieldErrors
from server.errors import Conflict, Forbidden, NotFound
from tests.server.domain._world_accounts import DAY, NOW, make_event, make_promoter


def _billing_rows(session: Session, event_id: uuid.UUID) -> int:
    query = select(func.count()).where(EventPassportBilling.event_id == event_id)
    return session.scalar(query) or 0


def test_an_approved_promoter_creates_an_event(session: Session) -> None:
    promoter = make_promoter(session, approved=True)

    event = events.create_event(
        session,
        name="  Soca Brunch ",
        starts_at=NOW,
        ends_at=NOW + DAY,
        promoter_id=promoter.id,
        venue="Queen's Park Savannah",
        city="Port of Spain",
        country_code="tt",
        carnival_circuit="Trinidad Carnival",
        stamp_points_default=75,
    )

    assert event.name == "Soca Brunch"
    assert event.country_code == "TT"
    assert event.stamp_points_default == 75
    assert event.is_soca_passport_enabled is False
    assert events.get(session, event_id=event.id) is event
    assert events.list_for_promoter(session, promoter_id=promoter.id) == [event]


def test_a_pending_promoter_cannot_own_events(session: Session) -> None:
    promoter = make_promoter(session, approved=False)

    with pytest.raises(Forbidden, match="PENDING"):
        events.create_event(session, name="Fête", starts_at=NOW, promoter_id=promoter.id)
    assert events.list_for_promoter(session, promoter_id=promoter.id) == []


def test_a_rejected_promoter_cannot_own_events(session: Session) -> None:
    promoter = make_promoter(session, approved=False)
    promoters.reject(session, promoter_id=promoter.id)

    with pytest.raises(Forbidden):
        events.create_event(session, name="Fête", starts_at=NOW, promoter_id=promoter.id)


def test_an_unknown_promoter_cannot_own_events(session: Session) -> None:
    with pytest.raises(NotFound):
        events.create_event(session, name="Fête", starts_at=NOW, promoter_id=uuid.uuid4())


def test_an_event_without_a_promoter_is_a_house_event(session: Session) -> None:
    event = events.create_event(session, name="HQ Fête", starts_at=NOW)

    assert event.promoter_id is None
    assert event.stamp_points_default == 50


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"starts_at": datetime(2026, 2, 14, 21, 0)}, "starts_at"),
        ({"ends_at": NOW - DAY}, "ends_at"),
        ({"ends_at": datetime(2026, 2, 15, 3, 0)}, "ends_at"),
        ({"stamp_points_default": -1}, "stamp_points_default"),
        ({"country_code": "Trinidad"}, "country_code"),
        ({"venue": "x" * 201}, "venue"),
    ],
)
def test_create_event_refuses_bad_fields(
    session: Session, overrides: dict[str, object], field: str
) -> None:
    fields: dict[str, object] = {"name": "Fête", "starts_at": NOW}
    fields.update(overrides)

    with pytest.raises(FieldErrors) as caught:
        events.create_event(session, **fields)  # type: ignore[arg-type]

    assert set(caught.value.fields) == {field}


def test_get_unknown_event_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        events.get(session, event_id=uuid.uuid4())


def test_list_for_an_unknown_promoter_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        events.list_for_promoter(session, promoter_id=uuid.uuid4())


def test_list_for_promoter_is_earliest_first_and_only_theirs(session: Session) -> None:
    mine = make_promoter(session)
    theirs = make_promoter(session)
    later = events.create_event(session, name="Later", starts_at=NOW + DAY, promoter_id=mine.id)
    earlier = events.create_event(session, name="Earlier", starts_at=NOW, promoter_id=mine.id)
    events.create_event(session, name="Other", starts_at=NOW, promoter_id=theirs.id)

    assert events.list_for_promoter(session, promoter_id=mine.id) == [earlier, later]


def test_enable_passport_turns_it_on_and_creates_a_draft_bill(session: Session) -> None:
    promoter = make_promoter(session)
    event = make_event(session, promoter_id=promoter.id)

    row = events.enable_passport(session, event_id=event.id, fee_amount_cents=1999)

    assert event.is_soca_passport_enabled is True
    assert row.status == BillingStatus.DRAFT
    assert row.event_id == event.id
    assert row.promoter_id == promoter.id
    assert row.fee_amount_cents == 1999
    assert row.currency == "USD"
    assert row.billing_model == "PER_EVENT"
    assert billing.get_for_event(session, event_id=event.id) is row


def test_enabling_passport_twice_creates_one_billing_row(session: Session) -> None:
    event = make_event(session)

    first = events.enable_passport(session, event_id=event.id)
    second = events.enable_passport(session, event_id=event.id)

    assert second.id == first.id
    assert _billing_rows(session, event.id) == 1


def test_enabling_again_with_a_new_fee_updates_the_draft_bill(session: Session) -> None:
    event = make_event(session)
    events.enable_passport(session, event_id=event.id, fee_amount_cents=1000)

    row = events.enable_passport(session, event_id=event.id, fee_amount_cents=2500)

    assert row.fee_amount_cents == 2500
    assert _billing_rows(session, event.id) == 1


def test_enabling_again_without_a_fee_keeps_the_fee(session: Session) -> None:
    event = make_event(session)
    events.enable_passport(session, event_id=event.id, fee_amount_cents=1000)

    assert events.enable_passport(session, event_id=event.id).fee_amount_cents == 1000


def test_enabling_again_cannot_change_the_fee_of_a_paid_bill(session: Session) -> None:
    event = make_event(session)
    row = events.enable_passport(session, event_id=event.id, fee_amount_cents=1000)
    billing.change_status(session, billing_id=row.id, new_status=BillingStatus.PENDING_PAYMENT)
    billing.change_status(session, billing_id=row.id, new_status=BillingStatus.PAID)

    with pytest.raises(Conflict):
        events.enable_passport(session, event_id=event.id, fee_amount_cents=5000)
    assert events.enable_passport(session, event_id=event.id, fee_amount_cents=1000) is row


def test_enable_passport_needs_the_event_country(session: Session) -> None:
    event = make_event(session, country_code=None)

    with pytest.raises(FieldErrors) as caught:
        events.enable_passport(session, event_id=event.id)

    assert set(caught.value.fields) == {"country_code"}
    assert event.is_soca_passport_enabled is False
    assert billing.get_for_event(session, event_id=event.id) is None


def test_enable_passport_refuses_a_negative_fee(session: Session) -> None:
    event = make_event(session)

    with pytest.raises(FieldErrors):
        events.enable_passport(session, event_id=event.id, fee_amount_cents=-1)
    assert billing.get_for_event(session, event_id=event.id) is None


def test_enable_passport_for_an_unknown_event_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        events.enable_passport(session, event_id=uuid.uuid4())


def test_a_house_event_gets_a_bill_without_a_promoter(session: Session) -> None:
    event = make_event(session)

    assert events.enable_passport(session, event_id=event.id).promoter_id is None


def test_disable_passport_turns_it_off_and_keeps_the_bill(session: Session) -> None:
    event = make_event(session)
    row = events.enable_passport(session, event_id=event.id, fee_amount_cents=1500)
    billing.change_status(session, billing_id=row.id, new_status=BillingStatus.WAIVED)

    disabled = events.disable_passport(session, event_id=event.id)

    assert disabled.is_soca_passport_enabled is False
    kept = billing.get_for_event(session, event_id=event.id)
    assert kept is row
    assert kept.status == BillingStatus.WAIVED


def test_enabling_after_disabling_picks_the_same_bill_back_up(session: Session) -> None:
    event = make_event(session)
    first = events.enable_passport(session, event_id=event.id)
    events.disable_passport(session, event_id=event.id)

    again = events.enable_passport(session, event_id=event.id)

    assert again.id == first.id
    assert event.is_soca_passport_enabled is True
    assert _billing_rows(session, event.id) == 1


def test_disabling_a_disabled_event_is_a_no_op(session: Session) -> None:
    event = make_event(session)

    assert events.disable_passport(session, event_id=event.id).is_soca_passport_enabled is False
    assert billing.get_for_event(session, event_id=event.id) is None
