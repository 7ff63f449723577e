"""Businesses, branches and manager invitations through the services, on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from server.db.models import Business, utcnow
from server.db.models.enums import BusinessStatus, LinkPurpose, TokenKind, UserRole
from server.domain import account_links, accounts, branches, businesses, invitations
from server.domain.account_links import LinkExpired, LinkUnknown, LinkUsed
from server.domain.promoters import FieldErrors
from server.errors import Conflict
from tests.server.factories import T0, make_user

SQLITE_ONLY = pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)


def _approved(session: Session, name: str = "Bean There") -> Business:
    owner = make_user(session)
    row = businesses.create(session, name=name, country_code="tt", owner_user_id=owner.id)
    return businesses.approve(session, business_id=row.id)


def test_an_application_is_pending_until_hq_decides_once(session: Session) -> None:
    owner = make_user(session)
    row = businesses.create(
        session, name="  Bean There ", country_code="tt", owner_user_id=owner.id
    )
    assert (row.name, row.country_code, row.status) == ("Bean There", "TT", BusinessStatus.PENDING)
    assert businesses.approved_for_owner(session, user_id=owner.id) is None
    assert businesses.approve(session, business_id=row.id).status == BusinessStatus.APPROVED
    assert businesses.approve(session, business_id=row.id).status == BusinessStatus.APPROVED
    with pytest.raises(Conflict, match="already APPROVED"):
        businesses.reject(session, business_id=row.id)
    assert businesses.approved_for_owner(session, user_id=owner.id) == row
    assert businesses.list_(session, status="APPROVED") == [row]


def test_an_owner_holds_one_live_business_and_may_reapply_after_rejection(session: Session) -> None:
    owner = make_user(session)
    first = businesses.create(session, name="One", country_code="TT", owner_user_id=owner.id)
    with pytest.raises(Conflict, match="already has a business"):
        businesses.create(session, name="Two", country_code="TT", owner_user_id=owner.id)
    businesses.reject(session, business_id=first.id)
    again = businesses.create(session, name="Two", country_code="TT", owner_user_id=owner.id)
    assert businesses.get_for_owner(session, user_id=owner.id) == again


def test_business_details_are_checked_field_by_field(session: Session) -> None:
    owner = make_user(session)
    with pytest.raises(FieldErrors) as refused:
        businesses.create(session, name="", country_code="Trinidad", owner_user_id=owner.id)
    assert set(refused.value.fields) == {"name", "country_code"}
    row = _approved(session)
    assert businesses.update(session, business_id=row.id, name="Bean Here").name == "Bean Here"


@SQLITE_ONLY  # argon2 is slow on purpose; nothing here differs by engine
def test_a_signed_out_applicant_gets_an_account_under_the_register_password_rule(
    session: Session,
) -> None:
    with pytest.raises(FieldErrors) as refused:
        businesses.new_owner_account(session, email="ana@bean.example", password="short")
    assert refused.value.fields == {"password": "Use at least 8 characters."}
    user = businesses.new_owner_account(
        session, email="Ana@Bean.example", password="wine-n-grind", display_name="Ana"
    )
    assert user.email == "ana@bean.example" and accounts.password_matches(
        user.password_hash, "wine-n-grind"
    )
    with pytest.raises(FieldErrors, match="already registered"):
        businesses.new_owner_account(session, email="ana@bean.example", password="wine-n-grind")


def test_branches_are_created_listed_and_updated(session: Session) -> None:
    business = _approved(session)
    other = _approved(session, "Other")
    branch = branches.create(session, business_id=business.id, name="Ariapita Ave", city="PoS")
    branches.create(session, business_id=other.id, name="Elsewhere")
    assert branches.list_(session, business_id=business.id) == [branch]
    changed = branches.update(session, branch_id=branch.id, city=None, country_code="tt")
    assert (changed.city, changed.country_code) == (None, "TT")
    with pytest.raises(FieldErrors):
        branches.create(session, business_id=business.id, name="")


@SQLITE_ONLY  # argon2 is slow on purpose; nothing here differs by engine
def test_an_invited_manager_sets_a_password_once_and_then_signs_in(session: Session) -> None:
    business = _approved(session)
    branch = branches.create(session, business_id=business.id, name="Ariapita Ave")
    invited = branches.invite_manager(
        session, branch_id=branch.id, email="Maria@Bean.example", display_name="Maria"
    )
    assert invited.token is not None and invited.user.role == UserRole.BRANCH_MANAGER
    assert branch.manager_user_id == invited.user.id
    for kind in TokenKind:  # never a bearer token nor a web session
        live = accounts.check_token(
            session, invited.token, kind=kind, max_age=timedelta(days=30), now=utcnow()
        )
        assert live.user is None
    with pytest.raises(FieldErrors):
        invitations.accept(session, token=invited.token, password="short")
    user = invitations.accept(session, token=invited.token, password="coffee-beans")
    assert accounts.password_matches(user.password_hash, "coffee-beans")
    with pytest.raises(LinkUsed):
        invitations.accept(session, token=invited.token, password="coffee-beans")
    second = branches.create(session, business_id=business.id, name="Second")
    again = branches.invite_manager(session, branch_id=second.id, email="maria@bean.example")
    assert again.user == user and again.token is None  # a password already set: no link


def test_a_manager_of_another_business_or_another_kind_of_account_is_refused(
    session: Session,
) -> None:
    mine = branches.create(session, business_id=_approved(session).id, name="Mine")
    theirs = branches.create(session, business_id=_approved(session, "Theirs").id, name="Theirs")
    branches.invite_manager(session, branch_id=theirs.id, email="sam@shop.example")
    with pytest.raises(Conflict, match="another business"):
        branches.invite_manager(session, branch_id=mine.id, email="sam@shop.example")
    attendee = make_user(session)
    attendee.email = "fan@fetes.example"
    with pytest.raises(Conflict, match="not a branch manager"):
        branches.invite_manager(session, branch_id=mine.id, email="fan@fetes.example")
    with pytest.raises(FieldErrors):
        branches.invite_manager(session, branch_id=mine.id, email="not-an-email")


def test_an_invitation_link_is_for_one_purpose_and_outlives_a_reset_link(
    session: Session,
) -> None:
    user = make_user(session)
    token = invitations.issue(session, user=user, now=T0)
    with pytest.raises(LinkUnknown):
        account_links.redeem(session, token=token, purpose=LinkPurpose.RESET, now=T0)
    assert invitations.INVITE_TTL > account_links.DEFAULT_TTL
    with pytest.raises(LinkExpired):
        invitations.check(session, token=token, now=T0 + invitations.INVITE_TTL)
    later = T0 + invitations.INVITE_TTL - timedelta(minutes=1)
    assert invitations.check(session, token=token, now=later) == user
    assert account_links.redeem(session, token=token, purpose=LinkPurpose.INVITE, now=later) == user
