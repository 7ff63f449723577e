"""Tickets at the door: signed tokens, admission with a stamp, re-entry as a fact, refusals."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from core.reasons import Reason
from core.tokens import TokenKind, verify_token
from server.db.models import TicketScan
from server.db.models.enums import ScanOutcome
from server.domain import keys, tickets
from tests.server.factories import T0, make_event, make_user


def test_issued_ticket_carries_a_token_for_its_event(session: Session) -> None:
    user, event = make_user(session), make_event(session)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    verified = verify_token(ticket.qr_token, keys.public_keys(session), TokenKind.TICKET)
    assert verified.claims is not None
    assert (verified.claims.subject_id, verified.claims.scope_id) == (ticket.id, event.id)
    assert len(ticket.code) == 9 and ticket.code[4] == "-"
    assert ticket.holder_name == user.display_name


def test_first_scan_admits_and_stamps(session: Session) -> None:
    user, event = make_user(session), make_event(session)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    result = tickets.record_scan(
        session, ticket_id=ticket.id, event_id=event.id, gate="Gate 1", scanned_at=T0
    )
    assert result.scan.outcome == ScanOutcome.ADMITTED and result.reason is None
    assert result.award is not None and result.award.stamp is not None
    assert result.scan.passport_stamp_id == result.award.stamp.id


def test_second_scan_is_a_reentry_that_points_at_the_first(session: Session) -> None:
    user, event = make_user(session), make_event(session)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    first = tickets.record_scan(
        session, ticket_id=ticket.id, event_id=event.id, gate="Gate 2", scanned_at=T0
    )
    again = tickets.record_scan(
        session,
        ticket_id=ticket.id,
        event_id=event.id,
        gate="Gate 1",
        scanned_at=T0 + timedelta(hours=1),
    )
    assert again.scan.outcome == ScanOutcome.REENTRY
    assert again.reason is Reason.ALREADY_SCANNED
    assert again.first_scan is not None and again.first_scan.id == first.scan.id
    assert again.award is None and again.scan.passport_stamp_id is None


def test_scan_at_disabled_event_is_recorded_without_stamp(session: Session) -> None:
    user, event = make_user(session), make_event(session, enabled=False)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    result = tickets.record_scan(
        session, ticket_id=ticket.id, event_id=event.id, gate=None, scanned_at=T0
    )
    assert result.scan.outcome == ScanOutcome.ADMITTED
    assert result.scan.passport_stamp_id is None
    assert session.get(TicketScan, result.scan.id) is not None


def test_wrong_event_revoked_and_unknown_tickets_are_refused_with_reasons(
    session: Session,
) -> None:
    user, event, other = make_user(session), make_event(session), make_event(session)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    wrong = tickets.record_scan(
        session, ticket_id=ticket.id, event_id=other.id, gate="A", scanned_at=T0
    )
    assert (wrong.scan.outcome, wrong.reason) == (ScanOutcome.REFUSED, Reason.WRONG_EVENT)
    unknown = tickets.record_scan(
        session, ticket_id=uuid.uuid4(), event_id=event.id, gate="A", scanned_at=T0
    )
    assert unknown.reason is Reason.UNKNOWN_TICKET and unknown.scan.ticket_id is None
    tickets.revoke_ticket(session, ticket_id=ticket.id, now=T0)
    revoked = tickets.record_scan(
        session, ticket_id=ticket.id, event_id=event.id, gate="A", scanned_at=T0
    )
    assert revoked.reason is Reason.REVOKED
    assert wrong.award is None and revoked.award is None


def test_key_rotation_keeps_old_tokens_valid_until_retired(session: Session) -> None:
    user, event = make_user(session), make_event(session)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    old_id = keys.current_signing_key(session).key_id
    new_key = keys.rotate(session)
    assert new_key.key_id == old_id + 1
    assert keys.current_signing_key(session).key_id == new_key.key_id
    assert verify_token(ticket.qr_token, keys.public_keys(session)).ok
    keys.retire(session, key_id=old_id)
    assert verify_token(ticket.qr_token, keys.public_keys(session)).reason is Reason.UNKNOWN_KEY
