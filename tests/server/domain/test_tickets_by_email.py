"""Tickets issued to buyers' emails: linked to the account with that email without saying so,
or held by a placeholder that the person registering with that email claims; who may claim."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import PassportProfile, Ticket, User
from server.db.models.enums import UserRole
from server.domain import accounts, passport, signup, ticket_batches, tickets
from server.errors import Conflict, FieldErrors, InvalidInput
from tests.server.factories import T0, make_event


def _real(session: Session, name: str = "kes_fan", email: str = "kes@example.com") -> User:
    return accounts.create_user(
        session, username=name, display_name="Kesha Baptiste", email=email, password="wine-n-grind"
    )


def test_a_ticket_to_a_known_email_goes_to_that_account_under_the_typed_name(
    session: Session,
) -> None:
    owner, event = _real(session), make_event(session)
    ticket = tickets.issue_to_email(session, event_id=event.id, email=" KES@Example.com ")
    assert ticket.user_id == owner.id
    assert ticket.holder_name == "kes@example.com"  # never the account's own name
    named = tickets.issue_to_email(
        session, event_id=event.id, email="kes@example.com", holder_name="K. B."
    )
    assert named.holder_name == "K. B."


def test_a_ticket_to_an_unknown_email_is_held_by_one_placeholder(session: Session) -> None:
    event = make_event(session)
    first = tickets.issue_to_email(session, event_id=event.id, email="new@example.com")
    second = tickets.issue_to_email(session, event_id=event.id, email="NEW@example.com")
    holder = session.get(User, first.user_id)
    assert holder is not None and holder.placeholder and holder.password_hash is None
    assert (holder.email, holder.display_name) == ("new@example.com", accounts.PLACEHOLDER_NAME)
    assert second.user_id == first.user_id
    count = session.scalar(select(func.count()).where(func.lower(User.email) == "new@example.com"))
    assert count == 1


@pytest.mark.parametrize(
    ("email", "holder", "field"),
    [("not-an-email", "", "email"), ("ok@example.com", "x\x00y", "holder_name")],
)
def test_a_bad_email_or_holder_name_is_a_field_error(
    session: Session, email: str, holder: str, field: str
) -> None:
    event = make_event(session)
    with pytest.raises(FieldErrors) as raised:
        tickets.issue_to_email(session, event_id=event.id, email=email, holder_name=holder)
    assert set(raised.value.fields) == {field}


def test_registering_with_the_email_claims_the_placeholder_and_its_tickets(
    session: Session,
) -> None:
    event = make_event(session)
    ticket = tickets.issue_to_email(session, event_id=event.id, email="buyer@example.com")
    tickets.record_scan(session, ticket_id=ticket.id, event_id=event.id, gate="A", scanned_at=T0)
    stamped = passport.get_profile(session, user_id=ticket.user_id)
    assert stamped is not None and stamped.handle.startswith(accounts.PLACEHOLDER_PREFIX)
    user = signup.sign_up(
        session, username="Road_Runner", email="Buyer@Example.com", password="wine-n-grind"
    )
    assert user.id == ticket.user_id and not user.placeholder
    assert (user.username, user.display_name) == ("Road_Runner", "Road_Runner")
    assert accounts.password_matches(user.password_hash, "wine-n-grind")
    profile = session.scalar(select(PassportProfile).where(PassportProfile.user_id == user.id))
    assert profile is not None and profile.handle == "road_runner"  # the door's stamp kept
    assert profile.total_events == 1


def test_a_claimed_account_cannot_be_claimed_again(session: Session) -> None:
    event = make_event(session)
    tickets.issue_to_email(session, event_id=event.id, email="buyer@example.com")
    signup.sign_up(
        session, username="first_one", email="buyer@example.com", password="wine-n-grind"
    )
    with pytest.raises(Conflict):
        signup.sign_up(
            session, username="second_one", email="buyer@example.com", password="other-pass-1"
        )


def test_an_account_that_never_was_a_placeholder_is_never_claimed(session: Session) -> None:
    admin = accounts.create_user(  # passwordless, like the old demo's HQ admin
        session, username="hq_admin", display_name="HQ", email="hq@example.com", role=UserRole.HQ
    )
    event = make_event(session)
    ticket = tickets.issue_to_email(session, event_id=event.id, email="hq@example.com")
    assert ticket.user_id == admin.id
    with pytest.raises(Conflict):
        signup.sign_up(session, username="sneaky", email="hq@example.com", password="wine-n-grind")
    assert session.get(User, admin.id).password_hash is None  # type: ignore[union-attr]


def test_a_claim_needs_a_handle_nobody_else_has(session: Session) -> None:
    _real(session, name="taken_name", email="someone@example.com")
    tickets.issue_to_email(session, event_id=make_event(session).id, email="buyer@example.com")
    with pytest.raises(Conflict):
        signup.sign_up(
            session, username="TAKEN_NAME", email="buyer@example.com", password="wine-n-grind"
        )


def test_sign_up_reports_every_bad_field_with_the_one_password_policy(session: Session) -> None:
    with pytest.raises(FieldErrors) as raised:
        signup.sign_up(session, username="x", email="nope", password="short")
    assert set(raised.value.fields) == {"username", "email", "password"}
    assert raised.value.fields["password"] == accounts.password_problem("short")
    assert accounts.password_problem("long enough\x00") is not None
    assert accounts.password_problem("wine-n-grind") is None


def test_tickets_list_their_state_valid_checked_in_or_revoked(session: Session) -> None:
    event = make_event(session)
    valid, used, gone = (
        tickets.issue_to_email(session, event_id=event.id, email=f"{n}@example.com")
        for n in ("valid", "used", "gone")
    )
    tickets.record_scan(session, ticket_id=used.id, event_id=event.id, gate="A", scanned_at=T0)
    tickets.revoke_ticket(session, ticket_id=gone.id, now=T0)
    lines = {line.code: line for line in tickets.list_for_event(session, event_id=event.id)}
    assert lines[valid.code].state == tickets.TicketState.VALID
    assert lines[used.code].state == tickets.TicketState.CHECKED_IN
    assert lines[used.code].checked_in_at == T0
    assert lines[gone.code].state == tickets.TicketState.REVOKED
    assert lines[gone.code].email == "gone@example.com"
    assert tickets.count_for_event(session, event_id=event.id) == 3
    assert len(tickets.list_for_event(session, event_id=event.id, limit=2)) == 2


def test_a_csv_issues_each_good_row_and_reports_each_bad_one(session: Session) -> None:
    event = make_event(session)
    text = (
        "\ufeffEmail,Holder Name,Notes\n"
        "a@example.com,Ann,VIP\n"
        "\n"
        "not-an-email,Bob\n"
        "c@example.com,\n"
        ",Nobody\n"
    )
    rows = ticket_batches.parse(text)
    assert [row.line for row in rows] == [2, 4, 5, 6]
    report = ticket_batches.issue_all(session, event_id=event.id, rows=rows)
    assert [result.ok for result in report] == [True, False, True, False]
    assert report[0].ticket is not None and report[0].ticket.holder_name == "Ann"
    assert report[2].ticket is not None and report[2].ticket.holder_name == "c@example.com"
    assert "doesn't look like an email" in (report[1].error or "")
    assert session.scalar(select(func.count()).where(Ticket.event_id == event.id)) == 2


def test_a_csv_without_a_header_reads_email_then_name(session: Session) -> None:
    rows = ticket_batches.parse("a@example.com,Ann\nb@example.com")
    assert [(row.email, row.holder_name) for row in rows] == [
        ("a@example.com", "Ann"),
        ("b@example.com", ""),
    ]


def test_an_empty_or_oversized_csv_is_refused_whole() -> None:
    for text in ("", "\n \n"):
        with pytest.raises(InvalidInput, match="no rows"):
            ticket_batches.parse(text)
    most = limits.TICKET_IMPORT_ROWS.maximum
    with pytest.raises(InvalidInput, match=f"at most {most}"):
        ticket_batches.parse("a@example.com\n" * (most + 1))
