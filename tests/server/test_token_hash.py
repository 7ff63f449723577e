"""A token's stored form, computed by the database the same as in Python, on both engines."""

from __future__ import annotations

from sqlalchemy import literal, null, select
from sqlalchemy.orm import Session

from server.db.models import Ticket
from server.db.token_hash import stored_form, token_sha256
from server.domain import accounts, qr_codes, tickets
from server.domain import wallet as wallets
from tests.server.factories import make_event, make_user

#: SHA-256 of "abc" (FIPS 180-2's first example).
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_the_database_hashes_a_token_as_python_does(session: Session) -> None:
    assert session.scalar(select(token_sha256(literal("abc")))) == ABC
    for token in ("tk_8f3a-Zq_x", "Jouvert-2026-ñ-✓"):
        assert session.scalar(select(token_sha256(literal(token)))) == stored_form(token)
    assert session.scalar(select(token_sha256(null()))) is None


def test_every_token_store_uses_the_one_stored_form() -> None:
    assert stored_form("abc") == ABC
    assert accounts.hash_token("abc") == wallets.token_hash("abc") == ABC


def test_a_kept_drawing_is_read_with_its_token_s_row(session: Session) -> None:
    """Issued tickets keep their drawing; a query reads it by the token column alone."""
    event, holder = make_event(session), make_user(session)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=holder.id)
    unkept = Ticket(
        event_id=event.id, user_id=holder.id, code="NO-DRAWING", holder_name="x", qr_token="tk_old"
    )
    session.add(unkept)
    session.flush()
    drawing = qr_codes.kept_drawing(Ticket.qr_token)
    found = dict(session.execute(select(Ticket.qr_token, drawing)).all())
    assert found[ticket.qr_token] == qr_codes.qr_svg(ticket.qr_token)
    assert found["tk_old"] is None
