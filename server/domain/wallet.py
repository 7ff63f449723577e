"""Wallet passes: which pass shows what, and each pass's authentication token.

A person takes a stamp card, their passport or an upcoming ticket into a
wallet; each becomes one `wallet_passes` row (its id is Apple's serial number
and the end of Google's object id) made on first download and reused after.
`content_of` reads the pass's subject afresh and describes it
(`server.wallet.content`), so a download, the web service's "latest pass"
and a Google PATCH all show the same current figures.

A pass's authentication token (which Apple's phones send back as
`ApplePass <token>`) is HMAC-SHA256(secret key, id + salt): only its SHA-256
is stored, so a copy of the database alone opens no pass, and the same token
comes back on every download (a second phone keeps working). A changed
secret key gives a new token on the next download, and the old one stops.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.tiers import card_tier_progress, point_tier_progress
from server.db.models import (
    Branch,
    Event,
    LoyaltyPass,
    Offer,
    PassportProfile,
    Ticket,
    WalletPass,
    utcnow,
)
from server.db.models.enums import PassStatus, TicketStatus
from server.db.token_hash import stored_form
from server.domain import cards
from server.domain.attendee import event_end, venue_zone
from server.domain.passport import load_point_tiers
from server.errors import NotFound
from server.wallet.content import (
    CardFacts,
    PassContent,
    PassKind,
    PassportFacts,
    TicketFacts,
    card_content,
    passport_content,
    ticket_content,
)


def auth_token(secret: str, wallet_pass: WalletPass) -> str:
    """The pass's authentication token (hex, 64 characters)."""
    message = f"{wallet_pass.id}:{wallet_pass.auth_salt}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """What is stored of a token."""
    return stored_form(token)


def token_matches(wallet_pass: WalletPass, token: str) -> bool:
    """True when `token` is this pass's token (compared in constant time)."""
    return hmac.compare_digest(wallet_pass.auth_token_hash, token_hash(token))


def get_by_serial(session: Session, serial: str) -> WalletPass | None:
    """The pass with this serial number, if any (a malformed serial is simply unknown)."""
    try:
        pass_id = uuid.UUID(serial)
    except ValueError:
        return None
    return session.get(WalletPass, pass_id)


def issue(
    session: Session, *, kind: PassKind, subject_id: uuid.UUID, user_id: uuid.UUID, secret: str
) -> tuple[WalletPass, str]:
    """The pass for this subject (made on first use) and its token."""
    found = session.scalar(
        select(WalletPass).where(WalletPass.kind == kind, WalletPass.subject_id == subject_id)
    )
    if found is None:
        found = WalletPass(
            id=uuid.uuid4(),
            kind=kind.value,
            subject_id=subject_id,
            user_id=user_id,
            auth_salt=secrets.token_hex(16),
            auth_token_hash="",
            updated_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(found)
                found.auth_token_hash = token_hash(auth_token(secret, found))
        except IntegrityError:  # another request made it just now
            return issue(session, kind=kind, subject_id=subject_id, user_id=user_id, secret=secret)
    token = auth_token(secret, found)
    if not token_matches(found, token):  # the secret key changed since: the new token rules
        found.auth_token_hash = token_hash(token)
        session.flush()
    return found, token


def card_subject(session: Session, *, user_id: uuid.UUID, offer_id: uuid.UUID) -> uuid.UUID:
    """The user's card for this offer (NotFound when they have none)."""
    card = cards.get_pass(session, offer_id=offer_id, user_id=user_id)
    if card is None:
        raise NotFound("You have no stamp card for this offer yet.")
    return card.id


def passport_subject(session: Session, *, user_id: uuid.UUID) -> uuid.UUID:
    """The user themself, when they have a passport."""
    if session.scalar(select(PassportProfile.id).where(PassportProfile.user_id == user_id)) is None:
        raise NotFound("You have no passport yet.")
    return user_id


def ticket_subject(
    session: Session, *, user_id: uuid.UUID, ticket_id: uuid.UUID, now: datetime
) -> uuid.UUID:
    """The user's own ticket, while its event has not ended and it is not revoked."""
    row = session.execute(
        select(Ticket, Event)
        .join(Event, Event.id == Ticket.event_id)
        .where(Ticket.id == ticket_id, Ticket.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("We couldn't find that ticket.")
    ticket, event = row
    ended = event_end(event.starts_at, event.ends_at) <= now
    if ticket.status == TicketStatus.REVOKED or ended:
        raise NotFound("That ticket no longer opens a door.")
    return ticket.id


def _qr(session: Session, user_id: uuid.UUID) -> str | None:
    found = select(PassportProfile.qr_token).where(PassportProfile.user_id == user_id)
    return session.scalar(found)


def _card(session: Session, wallet_pass: WalletPass) -> PassContent:
    row = session.execute(
        select(LoyaltyPass, Offer, Branch.name)
        .join(Offer, Offer.id == LoyaltyPass.offer_id)
        .join(Branch, Branch.id == Offer.branch_id)
        .where(LoyaltyPass.id == wallet_pass.subject_id)
    ).first()
    if row is None:
        raise NotFound("The stamp card of this pass is gone.")
    card, offer, branch_name = row
    facts = CardFacts(
        offer_id=offer.id,
        offer_name=offer.name,
        branch_name=branch_name,
        prize=offer.prize,
        current=card.current_stamps,
        max=offer.max_stamps,
        completions=card.rewards_claimed,
        progress=card_tier_progress(card.rewards_claimed, cards.offer_tiers(offer)),
        expired=card.status == PassStatus.EXPIRED,
    )
    return card_content(facts, serial=str(wallet_pass.id), qr=_qr(session, card.user_id))


def _passport(session: Session, wallet_pass: WalletPass) -> PassContent:
    profile = session.scalar(
        select(PassportProfile).where(PassportProfile.user_id == wallet_pass.subject_id)
    )
    if profile is None:
        raise NotFound("The passport of this pass is gone.")
    progress = point_tier_progress(profile.total_points, load_point_tiers(session))
    nxt = progress.next_tier
    span = (nxt.min_points - progress.current.min_points) if nxt else 1
    done = profile.total_points - progress.current.min_points
    facts = PassportFacts(
        handle=profile.handle,
        points=profile.total_points,
        tier=profile.current_tier,
        total_events=profile.total_events,
        total_countries=profile.total_countries,
        next_tier=nxt.name if nxt else None,
        points_to_next=progress.points_to_next,
        percent=100 if nxt is None else max(0, min(100, 100 * done // max(span, 1))),
    )
    return passport_content(facts, serial=str(wallet_pass.id), qr=profile.qr_token)


def _ticket(session: Session, wallet_pass: WalletPass) -> PassContent:
    row = session.execute(
        select(Ticket, Event)
        .join(Event, Event.id == Ticket.event_id)
        .where(Ticket.id == wallet_pass.subject_id)
    ).first()
    if row is None:
        raise NotFound("The ticket of this pass is gone.")
    ticket, event = row
    zone = venue_zone(event)
    facts = TicketFacts(
        ticket_id=ticket.id,
        event_id=event.id,
        code=ticket.code,
        holder_name=ticket.holder_name,
        event_name=event.name,
        venue=event.venue,
        city=event.city,
        starts_at=event.starts_at.astimezone(zone),
        ends_at=event.ends_at.astimezone(zone) if event.ends_at else None,
        revoked=ticket.status == TicketStatus.REVOKED,
    )
    return ticket_content(facts, serial=str(wallet_pass.id), qr=ticket.qr_token)


def content_of(session: Session, wallet_pass: WalletPass) -> PassContent:
    """What the pass shows now."""
    kind = PassKind(wallet_pass.kind)
    if kind is PassKind.CARD:
        return _card(session, wallet_pass)
    if kind is PassKind.PASSPORT:
        return _passport(session, wallet_pass)
    return _ticket(session, wallet_pass)
