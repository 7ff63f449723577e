"""What an attendee came for: their tickets, stamp cards, rewards, and the events to go to.

Read-only views for /passport and /events, built as plain dataclasses so a
page (or later a wallet pass) only formats them. A ticket is upcoming until
its event ends (`ends_at`, or `EVENT_LENGTH` after the start when no end is
set), then past. A card's tier, completions and next tier come from its
offer's own tiers (`core.tiers`), its history from its ledger (`pass_entries`).
Rewards read as words (`core.perks`); a reward used in the last
`RECENTLY_USED` stays on show, so staff can see it was used just now.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from core.perks import reward_words
from core.tiers import CardTier, card_tier_progress, next_tier_line
from server.db.models import (
    Branch,
    Event,
    LoyaltyPass,
    Offer,
    PackagePurchase,
    PassEntry,
    PassportProfile,
    PassportReward,
    RewardRedemption,
    Ticket,
    TicketScan,
    User,
)
from server.db.models.enums import PassportRewardStatus, PassStatus, ScanOutcome, TicketStatus
from server.domain import cards, qr_codes

#: How long an event without an end time is taken to last.
EVENT_LENGTH: Final = timedelta(hours=12)
#: How long a used reward stays on the page ("Used at 21:04").
RECENTLY_USED: Final = timedelta(hours=12)
#: Ledger entries shown per stamp card.
HISTORY: Final = 5


def venue_zone(event: Event) -> tzinfo:
    """The zone the event's times are read in: the venue's (`time_zone`), else UTC."""
    return zone_named(event.time_zone)


def zone_named(name: str | None) -> tzinfo:
    """An event's `time_zone` as a zone; UTC for an event that names none."""
    # `events.time_zone` arrives with the promoters' event editor; until an event has
    # one, its times read as UTC, as on the promoter's pages.
    return ZoneInfo(name) if name else UTC


def event_end(starts_at: datetime, ends_at: datetime | None) -> datetime:
    """When an event is over: its end, else `EVENT_LENGTH` after its start."""
    return ends_at or starts_at + EVENT_LENGTH


# ------------------------------------------------------------------------------ tickets


@dataclass(frozen=True)
class TicketView:
    """One ticket with its event, as its holder sees it."""

    id: uuid.UUID
    code: str
    holder_name: str
    qr_token: str
    revoked: bool
    checked_in_at: datetime | None
    event_id: uuid.UUID
    event_name: str
    venue: str | None
    city: str | None
    country_code: str | None
    starts_at: datetime  # on the venue's clock
    ends_at: datetime | None  # on the venue's clock
    drawing: str | None = None  # the QR kept when the ticket was issued (None: none kept)


@dataclass(frozen=True)
class Tickets:
    """A holder's tickets: upcoming (soonest first) and past (latest first)."""

    upcoming: list[TicketView]
    past: list[TicketView]


#: When each of a user's tickets was first admitted (no row: never).
_FIRST_IN: Final = (
    select(TicketScan.ticket_id, func.min(TicketScan.scanned_at).label("at"))
    .where(
        TicketScan.outcome == ScanOutcome.ADMITTED,
        TicketScan.ticket_id.in_(select(Ticket.id).where(Ticket.user_id == bindparam("user_id"))),
    )
    .group_by(TicketScan.ticket_id)
    .subquery()
)
_TICKET, _EVENT = Ticket.__table__.c, Event.__table__.c
#: A user's tickets with their events and first admissions, as plain columns. Built once:
#: building and keying the statement cost more Python than running it, per load. Run
#: on the session's connection, not through the ORM: its entities and execution path
#: cost 0.36 ms a load against 0.21 ms (in process, loads alternating), and the page
#: wants views of the rows, not objects to change.
_TICKETS: Final = (
    select(
        _TICKET.id,
        _TICKET.code,
        _TICKET.holder_name,
        _TICKET.qr_token,
        _TICKET.status,
        _EVENT.id.label("event_id"),
        _EVENT.name.label("event_name"),
        _EVENT.venue,
        _EVENT.city,
        _EVENT.country_code,
        _EVENT.starts_at,
        _EVENT.ends_at,
        _EVENT.time_zone,
        _FIRST_IN.c.at.label("checked_in_at"),
        qr_codes.kept_drawing(_TICKET.qr_token).label("drawing"),
    )
    .join(Event.__table__, _EVENT.id == _TICKET.event_id)
    .outerjoin(_FIRST_IN, _FIRST_IN.c.ticket_id == _TICKET.id)
    .where(_TICKET.user_id == bindparam("user_id"))
    .order_by(_EVENT.starts_at, _EVENT.name, _TICKET.code)
)


def tickets_of(session: Session, *, user_id: uuid.UUID, now: datetime) -> Tickets:
    """The user's tickets, split at `now` by their event's end."""
    rows = session.connection().execute(_TICKETS, {"user_id": user_id}).all()
    upcoming: list[TicketView] = []
    past: list[TicketView] = []
    for row in rows:
        zone = zone_named(row.time_zone)
        view = TicketView(
            id=row.id,
            code=row.code,
            holder_name=row.holder_name,
            qr_token=row.qr_token,
            revoked=row.status == TicketStatus.REVOKED,
            checked_in_at=row.checked_in_at.astimezone(zone) if row.checked_in_at else None,
            event_id=row.event_id,
            event_name=row.event_name,
            venue=row.venue,
            city=row.city,
            country_code=row.country_code,
            starts_at=row.starts_at.astimezone(zone),
            ends_at=row.ends_at.astimezone(zone) if row.ends_at else None,
            drawing=row.drawing,
        )
        (upcoming if event_end(row.starts_at, row.ends_at) > now else past).append(view)
    return Tickets(upcoming, list(reversed(past)))


# ----------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Holdings:
    """The user's passport (None before they have one) and which of its per-user sections
    have any rows."""

    profile: PassportProfile | None
    cards: bool
    rewards: bool
    purchases: bool
    redemptions: bool
    drawing: str | None = None  # the passport QR kept when it was issued (None: none kept)


#: The user's passport (outer-joined: None without one), whether they have any stamp
#: card, reward, purchase and earned reward, and the passport QR's kept drawing.
_HOLDINGS: Final = (
    select(
        PassportProfile,
        *(
            select(model.id).where(model.user_id == bindparam("user_id")).exists()
            for model in (LoyaltyPass, PassportReward, PackagePurchase, RewardRedemption)
        ),
        qr_codes.kept_drawing(PassportProfile.qr_token).label("drawing"),
    )
    .select_from(User)
    .outerjoin(PassportProfile, PassportProfile.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


def holdings_of(session: Session, *, user_id: uuid.UUID) -> Holdings:
    """The passport and which sections hold anything, in one round trip, so /passport skips
    the empty ones.

    Most of a fête's crowd has no stamp cards, purchases or earned rewards, and
    each empty section still cost a query of wide joined rows (a millisecond
    or more each) when the whole crowd loads /passport at the end of the night;
    the passport itself rides along, one round trip fewer per load.
    """
    row = session.execute(_HOLDINGS, {"user_id": user_id}).one_or_none()
    if row is None:  # no such user: nothing to show
        return Holdings(None, cards=False, rewards=False, purchases=False, redemptions=False)
    return Holdings(
        row[0],
        cards=row[1],
        rewards=row[2],
        purchases=row[3],
        redemptions=row[4],
        drawing=row.drawing,
    )


# -------------------------------------------------------------------------- stamp cards


@dataclass(frozen=True)
class CardEntryView:
    """One line of a card's history."""

    kind: str  # the ledger's kind: STAMP, CLAIM, ...
    occurred_at: datetime


@dataclass(frozen=True)
class CardView:
    """One stamp card: progress, tier by completions, what the next tier needs, history."""

    offer_id: uuid.UUID
    offer_name: str
    prize: str
    branch_name: str
    current: int
    max: int
    completions: int
    tier: CardTier | None
    next_tier: str | None  # "2 more for Platinum"; None at the top tier
    expired: bool
    history: list[CardEntryView]

    @property
    def prize_ready(self) -> bool:
        """True when the card is full: the next visit claims the prize."""
        return self.current >= self.max


def _histories(session: Session, pass_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PassEntry]]:
    found: dict[uuid.UUID, list[PassEntry]] = defaultdict(list)
    if not pass_ids:
        return found
    entries = session.scalars(
        select(PassEntry)
        .where(PassEntry.pass_id.in_(pass_ids))
        .order_by(PassEntry.occurred_at.desc(), PassEntry.id.desc())
    )
    for entry in entries:
        if len(found[entry.pass_id]) < HISTORY:
            found[entry.pass_id].append(entry)
    return found


def cards_of(session: Session, *, user_id: uuid.UUID) -> list[CardView]:
    """The user's stamp cards, by offer name, each with its latest `HISTORY` entries."""
    rows = session.execute(
        select(LoyaltyPass, Offer, Branch.name)
        .join(Offer, Offer.id == LoyaltyPass.offer_id)
        .join(Branch, Branch.id == Offer.branch_id)
        .where(LoyaltyPass.user_id == user_id)
        .order_by(Offer.name, Offer.id)
    ).all()
    histories = _histories(session, [card.id for card, _offer, _branch in rows])
    views = []
    for card, offer, branch_name in rows:
        progress = card_tier_progress(card.rewards_claimed, cards.offer_tiers(offer))
        views.append(
            CardView(
                offer_id=offer.id,
                offer_name=offer.name,
                prize=offer.prize,
                branch_name=branch_name,
                current=card.current_stamps,
                max=offer.max_stamps,
                completions=card.rewards_claimed,
                tier=progress.current,
                next_tier=None if progress.next_tier is None else next_tier_line(progress),
                expired=card.status == PassStatus.EXPIRED,
                history=[
                    CardEntryView(entry.kind, entry.occurred_at) for entry in histories[card.id]
                ],
            )
        )
    return views


# ------------------------------------------------------------------------------ rewards


@dataclass(frozen=True)
class RewardView:
    """A passport reward in words, with how to redeem it."""

    id: uuid.UUID
    title: str
    how: str
    source_tier: str | None
    expires_at: datetime | None
    used_at: datetime | None


def rewards_of(session: Session, *, user_id: uuid.UUID, now: datetime) -> list[RewardView]:
    """Rewards the user can use now, then those used in the last `RECENTLY_USED`."""
    live = and_(
        PassportReward.status == PassportRewardStatus.AVAILABLE,
        or_(PassportReward.expires_at.is_(None), PassportReward.expires_at > now),
    )
    just_used = and_(
        PassportReward.status == PassportRewardStatus.REDEEMED,
        PassportReward.redeemed_at > now - RECENTLY_USED,
    )
    rows = session.scalars(
        select(PassportReward)
        .where(PassportReward.user_id == user_id, or_(live, just_used))
        .order_by(PassportReward.created_at, PassportReward.id)
    ).all()
    views = []
    for row in rows:
        words = reward_words(row.reward_type, row.metadata_json or {})
        views.append(
            RewardView(
                row.id, words.title, words.how, row.source_tier, row.expires_at, row.redeemed_at
            )
        )
    return sorted(views, key=lambda view: view.used_at is not None)


# ------------------------------------------------------------------------------- events


def upcoming_passport_events(session: Session, *, now: datetime, limit: int = 200) -> list[Event]:
    """Passport-enabled events that have not ended, soonest first."""
    not_ended = or_(
        Event.ends_at > now,
        and_(Event.ends_at.is_(None), Event.starts_at > now - EVENT_LENGTH),
    )
    return list(
        session.scalars(
            select(Event)
            .where(Event.is_soca_passport_enabled.is_(True), not_ended)
            .order_by(Event.starts_at, Event.name)
            .limit(limit)
        )
    )
