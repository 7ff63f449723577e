"""QR drawings of carried tokens: drawn once when each token is issued, read back after."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import QrDrawing
from server.domain import accounts, passport, purchases, qr_codes, tickets
from tests.server.domain._world_packages import KEY, NOW, make_event, make_package, make_user


def _kept(session: Session, token: str) -> str | None:
    return session.scalar(
        select(QrDrawing.svg).where(QrDrawing.token_sha256 == accounts.hash_token(token))
    )


def test_issuing_a_passport_ticket_or_purchase_keeps_its_tokens_drawing(session: Session) -> None:
    user = make_user(session)
    event = make_event(session)
    profile = passport.get_or_create_profile(session, user_id=user.id)
    ticket = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    package = make_package(session, event)
    bought = purchases.purchase(
        session, package_id=package.id, user_id=user.id, now=NOW, signing_key=KEY
    )
    for token in (profile.qr_token, ticket.qr_token, bought.qr_token):
        assert token is not None
        assert _kept(session, token) == qr_codes.qr_svg(token)


def test_kept_drawings_are_read_back_and_a_token_without_one_is_drawn(session: Session) -> None:
    user = make_user(session)
    ticket = tickets.issue_ticket(session, event_id=make_event(session).id, user_id=user.id)
    kept = session.get(QrDrawing, accounts.hash_token(ticket.qr_token))
    assert kept is not None
    kept.svg = "<svg>as kept</svg>"  # told apart from a fresh drawing
    session.flush()
    old_token = "SP1.issued-before-drawings-were-kept"
    qr_codes.forget_cached()
    found = qr_codes.token_drawings(session, [ticket.qr_token, old_token, ""])
    assert found == {ticket.qr_token: "<svg>as kept</svg>", old_token: qr_codes.qr_svg(old_token)}
    assert _kept(session, old_token) is None  # reading never writes


def test_a_processs_cache_answers_without_the_database(session: Session) -> None:
    user = make_user(session)
    ticket = tickets.issue_ticket(session, event_id=make_event(session).id, user_id=user.id)
    qr_codes.forget_cached()
    first = qr_codes.token_drawings(session, [ticket.qr_token])
    kept = session.get(QrDrawing, accounts.hash_token(ticket.qr_token))
    assert kept is not None
    session.delete(kept)
    session.flush()
    assert qr_codes.token_drawings(session, [ticket.qr_token]) == first
