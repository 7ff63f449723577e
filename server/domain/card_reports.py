"""What a business reads about its cards: an offer's passes (searchable, CSV), one card's
history, and a branch's recent activity. Read-only; tiers computed from the offer's set."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.cards import EntryKind, replay_steps
from core.tiers import CardTier, card_tier_for
from server.db.models import (
    Device,
    LoyaltyPass,
    Offer,
    PassEntry,
    PassExpiry,
    PassportProfile,
    User,
)
from server.domain import cards

PAGE: Final = 200
CSV_COLUMNS: Final = (
    "customer",
    "handle",
    "current_stamps",
    "max_stamps",
    "rewards_claimed",
    "tier",
    "last_visit",
    "status",
)


@dataclass(frozen=True)
class PassRow:
    """One customer's card on an offer, as the passes list shows it."""

    user_id: uuid.UUID
    customer: str
    handle: str | None
    current_stamps: int
    max_stamps: int
    rewards_claimed: int
    tier: CardTier | None
    last_visit: datetime | None
    status: str

    def csv_row(self) -> dict[str, Any]:
        """The row as the CSV export writes it."""
        return {
            "customer": self.customer,
            "handle": self.handle or "",
            "current_stamps": self.current_stamps,
            "max_stamps": self.max_stamps,
            "rewards_claimed": self.rewards_claimed,
            "tier": self.tier.name if self.tier else "",
            "last_visit": self.last_visit.isoformat() if self.last_visit else "",
            "status": self.status,
        }


def passes(
    session: Session, *, offer: Offer, search: str = "", limit: int | None = PAGE
) -> list[PassRow]:
    """The offer's cards, most recent visit first, filtered by name or handle."""
    query = (
        select(LoyaltyPass, User.display_name, PassportProfile.handle)
        .join(User, User.id == LoyaltyPass.user_id)
        .outerjoin(PassportProfile, PassportProfile.user_id == LoyaltyPass.user_id)
        .where(LoyaltyPass.offer_id == offer.id)
        .order_by(LoyaltyPass.last_activity_at.desc(), LoyaltyPass.id)
    )
    words = search.strip().lower()
    if words:
        pattern = f"%{words.replace('%', '').replace('_', ' ').strip()}%"
        query = query.where(
            or_(
                func.lower(User.display_name).like(pattern),
                func.lower(User.username).like(pattern),
                func.lower(PassportProfile.handle).like(pattern),
            )
        )
    if limit is not None:
        query = query.limit(limit)
    tiers = cards.offer_tiers(offer)
    return [
        PassRow(
            user_id=card.user_id,
            customer=name,
            handle=handle,
            current_stamps=card.current_stamps,
            max_stamps=offer.max_stamps,
            rewards_claimed=card.rewards_claimed,
            tier=card_tier_for(card.rewards_claimed, tiers),
            last_visit=card.last_activity_at,
            status=card.status,
        )
        for card, name, handle in session.execute(query)
    ]


@dataclass(frozen=True)
class HistoryItem:
    """One line of a card's history: a stamp, a prize, a refused replay step, or an expiry."""

    at: datetime
    what: str
    detail: str
    device: str | None = None


def _entry_line(
    kind: str, restarted: bool, stamps: int, max_stamps: int, claimed: int
) -> tuple[str, str]:
    if kind == EntryKind.CLAIM:
        what, detail = "Prize given", f"card back to 0 of {max_stamps} • {claimed}× completed"
    else:
        what, detail = "Stamp", f"{stamps} of {max_stamps}"
    if restarted:
        what = f"{what} after expiry"
        detail = f"welcomed back: the old partial card restarted at 0 • {detail}"
    return what, detail


def history(
    session: Session, *, card: LoyaltyPass, offer: Offer, inactivity_days: int
) -> list[HistoryItem]:
    """The card's entries (replayed: a scan after expiry shows so) and expiries, newest first."""
    rows = session.execute(
        select(PassEntry, Device.name)
        .outerjoin(Device, Device.id == PassEntry.device_id)
        .where(PassEntry.pass_id == card.id)
        .order_by(PassEntry.occurred_at, PassEntry.id)
    ).all()
    steps = replay_steps(
        [(EntryKind(entry.kind), entry.occurred_at) for entry, _name in rows],
        max_stamps=offer.max_stamps,
        inactivity_days=inactivity_days,
    )
    items = []
    for (entry, device), step in zip(rows, steps, strict=True):
        if step.refused is not None:
            items.append(HistoryItem(entry.occurred_at, "Not counted", step.refused.value, device))
            continue
        what, detail = _entry_line(
            entry.kind,
            step.restarted,
            step.state.current_stamps,
            offer.max_stamps,
            step.state.rewards_claimed,
        )
        items.append(HistoryItem(entry.occurred_at, what, detail, device))
    for expiry in session.scalars(select(PassExpiry).where(PassExpiry.pass_id == card.id)):
        items.append(
            HistoryItem(
                expiry.expired_at,
                "Expired",
                f"no visit for over {expiry.inactivity_days} days",
            )
        )
    return sorted(items, key=lambda item: item.at, reverse=True)


@dataclass(frozen=True)
class Activity:
    """A recent stamp or prize at a branch."""

    at: datetime
    kind: str
    customer: str
    offer: str
    offer_id: uuid.UUID
    user_id: uuid.UUID
    device: str | None


def branch_activity(session: Session, *, branch_id: uuid.UUID, limit: int = 20) -> list[Activity]:
    """The branch's latest stamps and prizes across its offers, newest first."""
    rows = session.execute(
        select(PassEntry, User.display_name, Offer.name, Offer.id, User.id, Device.name)
        .join(LoyaltyPass, LoyaltyPass.id == PassEntry.pass_id)
        .join(Offer, Offer.id == LoyaltyPass.offer_id)
        .join(User, User.id == LoyaltyPass.user_id)
        .outerjoin(Device, Device.id == PassEntry.device_id)
        .where(Offer.branch_id == branch_id)
        .order_by(PassEntry.occurred_at.desc(), PassEntry.id)
        .limit(limit)
    ).all()
    return [
        Activity(entry.occurred_at, entry.kind, name, offer_name, offer_id, user_id, device)
        for entry, name, offer_name, offer_id, user_id, device in rows
    ]
