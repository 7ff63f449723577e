"""Promoter sign-up and HQ approval (seed 001 §2, §3.1), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from server.db.models import Promoter
from server.db.models.enums import PromoterStatus
from server.domain import promoters
from server.domain.promoters import FieldErrors
from server.errors import Conflict, InvalidInput, NotFound
from tests.server.domain._world_accounts import make_promoter, make_user


def _register(session: Session, **overrides: object) -> Promoter:
    fields: dict[str, object] = {"name": "Kes Events", "email": "hello@kes.example"}
    fields.update(overrides)
    return promoters.register(session, **fields)  # type: ignore[arg-type]


def test_register_stores_a_pending_promoter_with_trimmed_fields(session: Session) -> None:
    promoter = promoters.register(
        session,
        name="  Kes Events ",
        email=" hello@kes.example ",
        organization="  Kes Band ",
        location_city=" Port of Spain ",
        location_country=" tt ",
        website_or_social=" @kesband ",
        event_types=" fêtes, brunches ",
    )

    assert promoter.status == PromoterStatus.PENDING
    assert promoter.name == "Kes Events"
    assert promoter.email == "hello@kes.example"
    assert promoter.organization == "Kes Band"
    assert promoter.location_city == "Port of Spain"
    assert promoter.location_country == "TT"
    assert promoter.website_or_social == "@kesband"
    assert promoter.event_types == "fêtes, brunches"
    assert promoters.get(session, promoter_id=promoter.id) is promoter


def test_register_turns_blank_optional_fields_into_nulls(session: Session) -> None:
    promoter = promoters.register(
        session, name="Kes", email="a@b.co", organization="   ", location_country=""
    )

    assert promoter.organization is None
    assert promoter.location_country is None


def test_register_joins_a_list_of_event_types(session: Session) -> None:
    promoter = promoters.register(
        session, name="Kes", email="a@b.co", event_types=["fêtes", " carnivals ", ""]
    )

    assert promoter.event_types == "fêtes, carnivals"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "two@@ats.example"}, "email"),
        ({"email": "no-dot@localhost"}, "email"),
        ({"email": "spaces in@it.example"}, "email"),
        ({"location_country": "T"}, "location_country"),
        ({"location_country": "TTTTT"}, "location_country"),
        ({"location_country": "T1"}, "location_country"),
        ({"organization": "x" * 256}, "organization"),
        ({"location_city": "x" * 121}, "location_city"),
        ({"website_or_social": "x" * 256}, "website_or_social"),
        ({"event_types": "x" * 256}, "event_types"),
    ],
)
def test_register_refuses_a_bad_field_with_a_friendly_message(
    session: Session, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(FieldErrors) as caught:
        _register(session, **overrides)

    assert set(caught.value.fields) == {field}
    assert caught.value.fields[field]
    assert caught.value.status == 422
    assert isinstance(caught.value, InvalidInput)


def test_register_reports_every_bad_field_at_once(session: Session) -> None:
    with pytest.raises(FieldErrors) as caught:
        promoters.register(session, name="", email="nope", location_country="Trinidad")

    assert set(caught.value.fields) == {"name", "email", "location_country"}
    assert "name" in caught.value.message
    assert promoters.list_(session) == []


@pytest.mark.parametrize("country", ["us", "TT", "gbr", "ABCD"])
def test_register_accepts_two_to_four_letter_countries_upper_cased(
    session: Session, country: str
) -> None:
    promoter = _register(session, location_country=country)

    assert promoter.location_country == country.upper()


def test_register_links_the_logged_in_user(session: Session) -> None:
    user = make_user(session)

    promoter = promoters.register(session, name="Kes", email="a@b.co", user_id=user.id)

    assert promoter.user_id == user.id
    assert promoters.get_for_user(session, user_id=user.id) is promoter


def test_register_refuses_an_unknown_user(session: Session) -> None:
    with pytest.raises(NotFound):
        promoters.register(session, name="Kes", email="a@b.co", user_id=uuid.uuid4())


def test_a_user_cannot_hold_two_live_promoter_registrations(session: Session) -> None:
    user = make_user(session)
    promoters.register(session, name="Kes", email="a@b.co", user_id=user.id)

    with pytest.raises(Conflict):
        promoters.register(session, name="Kes again", email="a@b.co", user_id=user.id)


def test_a_rejected_user_may_register_again_and_that_one_is_theirs(session: Session) -> None:
    user = make_user(session)
    first = promoters.register(session, name="Kes", email="a@b.co", user_id=user.id)
    promoters.reject(session, promoter_id=first.id)

    second = promoters.register(session, name="Kes", email="a@b.co", user_id=user.id)

    assert promoters.get_for_user(session, user_id=user.id) is second


def test_get_for_user_is_none_for_a_user_who_never_registered(session: Session) -> None:
    user = make_user(session)

    assert promoters.get_for_user(session, user_id=user.id) is None


def test_get_unknown_promoter_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        promoters.get(session, promoter_id=uuid.uuid4())


def test_approve_moves_pending_to_approved(session: Session) -> None:
    promoter = make_promoter(session, approved=False)

    approved = promoters.approve(session, promoter_id=promoter.id)

    assert approved.status == PromoterStatus.APPROVED


def test_reject_moves_pending_to_rejected(session: Session) -> None:
    promoter = make_promoter(session, approved=False)

    rejected = promoters.reject(session, promoter_id=promoter.id)

    assert rejected.status == PromoterStatus.REJECTED


def test_approving_an_approved_promoter_again_is_a_no_op(session: Session) -> None:
    promoter = make_promoter(session, approved=True)

    again = promoters.approve(session, promoter_id=promoter.id)

    assert again is promoter
    assert again.status == PromoterStatus.APPROVED


def test_rejecting_a_rejected_promoter_again_is_a_no_op(session: Session) -> None:
    promoter = make_promoter(session, approved=False)
    promoters.reject(session, promoter_id=promoter.id)

    assert promoters.reject(session, promoter_id=promoter.id).status == PromoterStatus.REJECTED


def test_an_approved_promoter_cannot_be_rejected(session: Session) -> None:
    promoter = make_promoter(session, approved=True)

    with pytest.raises(Conflict, match="APPROVED"):
        promoters.reject(session, promoter_id=promoter.id)
    assert promoter.status == PromoterStatus.APPROVED


def test_a_rejected_promoter_cannot_be_approved(session: Session) -> None:
    promoter = make_promoter(session, approved=False)
    promoters.reject(session, promoter_id=promoter.id)

    with pytest.raises(Conflict, match="REJECTED"):
        promoters.approve(session, promoter_id=promoter.id)


def test_approving_an_unknown_promoter_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        promoters.approve(session, promoter_id=uuid.uuid4())


def test_list_filters_by_status(session: Session) -> None:
    pending = make_promoter(session, approved=False)
    approved = make_promoter(session, approved=True)

    assert promoters.list_(session) == [pending, approved]
    assert promoters.list_(session, status=PromoterStatus.PENDING) == [pending]
    assert promoters.list_(session, status="APPROVED") == [approved]
    assert promoters.list_(session, status="REJECTED") == []


def test_list_refuses_an_unknown_status(session: Session) -> None:
    with pytest.raises(InvalidInput, match="PENDING"):
        promoters.list_(session, status="MAYBE")
