"""Seed 002's perpetual stamp cards: stamps, prize confirmation, tiers by completions, expiry.

A pass's figures are always `core.cards.replay` of its ledger (`pass_entries`)
in door-time order, so a late entry lands in its place and recompute can
rebuild every pass. An entry the replay refuses is not kept: the savepoint
around it is rolled back and the refusal raised with its reason.

A scan of an EXPIRED pass (no activity for PASS_INACTIVITY_EXPIRATION_DAYS)
is not refused: the pass comes back to ACTIVE, the abandoned partial card
restarts at 0 and the completions (and so the tier) are kept, because a
customer who returns after a long break should be welcomed, not turned away.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.cards import CardState, EntryKind, replay_steps
from core.reasons import Reason
from core.tiers import (
    CardTier,
    card_progress_dict,
    card_tier_for,
    card_tier_progress,
    confirm_prize_response,
    parse_card_tier_config,
)
from server.db import changelog, wallet_outbox
from server.db.models import LoyaltyPass, Offer, PassEntry, PassExpiry, User
from server.db.models.enums import OfferStatus, PassStatus
from server.errors import ReasonError


@dataclass(frozen=True)
class CardResult:
    """What a stamp or claim did to a pass, with the tier before and after."""

    card: LoyaltyPass
    offer: Offer
    entry: PassEntry
    previous_tier: CardTier | None
    tier: CardTier | None
    restarted: bool

    @property
    def tier_changed(self) -> bool:
        """True when this entry moved the customer into another tier."""
        return self.previous_tier != self.tier

    def confirm_prize_body(self) -> dict[str, Any]:
        """The seed's confirm-prize response for this claim."""
        return confirm_prize_response(
            self.card.current_stamps,
            self.offer.max_stamps,
            self.card.rewards_claimed,
            offer_tiers(self.offer),
        )


def offer_tiers(offer: Offer) -> tuple[CardTier, ...]:
    """The offer's custom tiers, or the seed defaults."""
    return parse_card_tier_config(offer.loyalty_tiers)


def get_offer(session: Session, *, offer_id: uuid.UUID) -> Offer:
    """An offer, or NotFound."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise ReasonError(Reason.UNKNOWN_OFFER, status=404)
    return offer


def get_pass(session: Session, *, offer_id: uuid.UUID, user_id: uuid.UUID) -> LoyaltyPass | None:
    """The customer's pass for this offer, if they have one."""
    return session.scalar(
        select(LoyaltyPass).where(LoyaltyPass.offer_id == offer_id, LoyaltyPass.user_id == user_id)
    )


def get_or_create_pass(session: Session, *, offer_id: uuid.UUID, user_id: uuid.UUID) -> LoyaltyPass:
    """The customer's pass for this offer, created empty on first use."""
    existing = get_pass(session, offer_id=offer_id, user_id=user_id)
    if existing is not None:
        return existing
    if session.get(User, user_id) is None:
        raise ReasonError(Reason.UNKNOWN_PASSPORT, status=404)
    card = LoyaltyPass(offer_id=offer_id, user_id=user_id)
    try:
        with session.begin_nested():
            session.add(card)
    except IntegrityError:
        winner = get_pass(session, offer_id=offer_id, user_id=user_id)
        if winner is None:
            raise
        return winner
    return card


def lock_pass(session: Session, card_id: uuid.UUID) -> LoyaltyPass:
    """The pass, locked for update and read afresh."""
    card = session.scalar(
        select(LoyaltyPass)
        .where(LoyaltyPass.id == card_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert card is not None
    return card


def ledger(session: Session, card_id: uuid.UUID) -> list[PassEntry]:
    """The pass's ledger entries in door-time order."""
    return list(
        session.scalars(
            select(PassEntry)
            .where(PassEntry.pass_id == card_id)
            .order_by(PassEntry.occurred_at, PassEntry.id)
        )
    )


@dataclass(frozen=True, slots=True)
class OpEntry:
    """A synced op's entry on a pass ledger: a stamp or claim its decision says counts."""

    op_id: uuid.UUID
    kind: EntryKind
    occurred_at: datetime
    device_id: uuid.UUID | None
    seq: int | None


def write_back(
    session: Session,
    card: LoyaltyPass,
    *,
    state: CardState,
    entries: list[PassEntry],
    counted: list[OpEntry],
) -> None:
    """Bring a pass in line with its decided ledger: the op entries that count, and their figures.

    `entries` is the ledger as read; op entries no longer counted go, newly
    counted ones are added, entries made directly (no op) stay as they are.
    The figures are those of the replay (`state`), and a pass that counts an
    entry is active again.
    """
    wanted = {entry.op_id: entry for entry in counted}
    stale = [row.id for row in entries if row.op_id is not None and row.op_id not in wanted]
    if stale:
        session.execute(delete(PassEntry).where(PassEntry.id.in_(stale)))
    present = {row.op_id for row in entries if row.op_id is not None}
    for op_id, entry in wanted.items():
        if op_id not in present:
            session.add(
                PassEntry(
                    pass_id=card.id,
                    kind=entry.kind,
                    occurred_at=entry.occurred_at,
                    device_id=entry.device_id,
                    seq=entry.seq,
                    op_id=op_id,
                )
            )
    _set_figures(card, state, reactivate=bool(wanted))
    session.flush()


def _set_figures(card: LoyaltyPass, state: CardState, *, reactivate: bool) -> None:
    card.current_stamps = state.current_stamps
    card.rewards_claimed = state.rewards_claimed
    card.last_activity_at = state.last_activity_at
    if reactivate and card.status != PassStatus.ACTIVE:
        card.status = PassStatus.ACTIVE
        card.expired_at = None


def _apply(
    session: Session,
    *,
    kind: EntryKind,
    offer_id: uuid.UUID,
    user_id: uuid.UUID,
    occurred_at: datetime,
    inactivity_days: int,
    device_id: uuid.UUID | None,
    op_id: uuid.UUID | None,
) -> CardResult:
    offer = get_offer(session, offer_id=offer_id)
    if offer.status != OfferStatus.ACTIVE:
        raise ReasonError(Reason.UNKNOWN_OFFER, status=404)
    card = lock_pass(session, get_or_create_pass(session, offer_id=offer_id, user_id=user_id).id)
    tiers = offer_tiers(offer)
    previous_tier = card_tier_for(card.rewards_claimed, tiers)
    before = CardState(card.current_stamps, card.rewards_claimed, card.last_activity_at)
    entry = PassEntry(
        pass_id=card.id, kind=kind, occurred_at=occurred_at, device_id=device_id, op_id=op_id
    )
    savepoint = session.begin_nested()
    session.add(entry)
    session.flush()
    rows = ledger(session, card.id)
    steps = replay_steps(
        [(EntryKind(row.kind), row.occurred_at) for row in rows],
        max_stamps=offer.max_stamps,
        inactivity_days=inactivity_days,
    )
    position = rows.index(entry)
    refused = steps[position].refused
    if refused is not None:
        savepoint.rollback()
        raise ReasonError(
            refused,
            {"current": before.current_stamps, "max": offer.max_stamps},
            status=409,
        )
    savepoint.commit()
    _set_figures(card, steps[-1].state, reactivate=True)
    session.flush()
    return CardResult(
        card=card,
        offer=offer,
        entry=entry,
        previous_tier=previous_tier,
        tier=card_tier_for(card.rewards_claimed, tiers),
        restarted=steps[position].restarted,
    )


def add_stamp(
    session: Session,
    *,
    offer_id: uuid.UUID,
    user_id: uuid.UUID,
    occurred_at: datetime,
    inactivity_days: int = 90,
    device_id: uuid.UUID | None = None,
    op_id: uuid.UUID | None = None,
) -> CardResult:
    """Add one stamp; refused with CARD_FULL when the card is already full."""
    return _apply(
        session,
        kind=EntryKind.STAMP,
        offer_id=offer_id,
        user_id=user_id,
        occurred_at=occurred_at,
        inactivity_days=inactivity_days,
        device_id=device_id,
        op_id=op_id,
    )


def confirm_prize(
    session: Session,
    *,
    offer_id: uuid.UUID,
    user_id: uuid.UUID,
    occurred_at: datetime,
    inactivity_days: int = 90,
    device_id: uuid.UUID | None = None,
    op_id: uuid.UUID | None = None,
) -> CardResult:
    """Confirm the prize on a full card: stamps back to 0, one more completion, tier recomputed."""
    return _apply(
        session,
        kind=EntryKind.CLAIM,
        offer_id=offer_id,
        user_id=user_id,
        occurred_at=occurred_at,
        inactivity_days=inactivity_days,
        device_id=device_id,
        op_id=op_id,
    )


def pass_view(session: Session, *, offer_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Any]:
    """The contract's `GET /offers/{offer_id}/passes/{user_id}` body (seed shapes)."""
    offer = get_offer(session, offer_id=offer_id)
    card = get_pass(session, offer_id=offer_id, user_id=user_id)
    current, claimed = (card.current_stamps, card.rewards_claimed) if card else (0, 0)
    return {
        "progress": card_progress_dict(current, offer.max_stamps, claimed),
        "tier": card_tier_progress(claimed, offer_tiers(offer)).to_seed_dict(),
        "status": card.status if card else PassStatus.ACTIVE.value,
        "lastActivityAt": card.last_activity_at.isoformat()
        if card and card.last_activity_at
        else None,
    }


def expire_inactive_passes(session: Session, *, now: datetime, inactivity_days: int) -> int:
    """Expire ACTIVE passes with no scan for over `inactivity_days`; returns how many.

    Each expiry is kept as a `pass_expiries` row (the card's history), and the
    card is noted in the change log so devices pull its new status.
    """
    cutoff = now - timedelta(days=inactivity_days)
    due = session.execute(
        select(
            LoyaltyPass.id, LoyaltyPass.user_id, LoyaltyPass.offer_id, LoyaltyPass.last_activity_at
        )
        .where(
            LoyaltyPass.status == PassStatus.ACTIVE,
            LoyaltyPass.last_activity_at.is_not(None),
            LoyaltyPass.last_activity_at < cutoff,
        )
        .with_for_update()
    ).all()
    if not due:
        return 0
    ids = [row.id for row in due]
    session.execute(
        update(LoyaltyPass)
        .where(LoyaltyPass.id.in_(ids), LoyaltyPass.status == PassStatus.ACTIVE)
        .values(status=PassStatus.EXPIRED, expired_at=now)
        .execution_options(synchronize_session=False)
    )
    session.add_all(
        PassExpiry(
            pass_id=row.id,
            expired_at=now,
            last_activity_at=row.last_activity_at,
            inactivity_days=inactivity_days,
        )
        for row in due
    )
    for row in due:
        changelog.touch(session, "cards", str(row.id), user_id=row.user_id, offer_id=row.offer_id)
        wallet_outbox.touch(session, "card", row.id, "expired")
    session.flush()
    return len(due)


def retier(session: Session, *, offer: Offer, previous: tuple[CardTier, ...], now: datetime) -> int:
    """After an offer's tiers changed: mark every pass whose tier changed as updated.

    A card's tier is never stored (it is computed from `rewards_claimed` and
    the offer's tiers wherever it is shown), so no card can keep a stale one;
    bumping `updated_at` notes the card in the change log and tells anything
    that caches a rendering of it (wallet passes) to render it again.
    """
    current = offer_tiers(offer)
    cards = session.scalars(
        select(LoyaltyPass).where(LoyaltyPass.offer_id == offer.id, LoyaltyPass.rewards_claimed > 0)
    ).all()
    changed = 0
    for card in cards:
        before = card_tier_for(card.rewards_claimed, previous)
        after = card_tier_for(card.rewards_claimed, current)
        if before != after:
            card.updated_at = now
            changed += 1
    session.flush()
    return changed


def replay_offer(session: Session, *, offer: Offer, inactivity_days: int) -> int:
    """Re-derive every pass of an offer from its ledger (after `max_stamps` changed)."""
    cards = session.scalars(select(LoyaltyPass).where(LoyaltyPass.offer_id == offer.id)).all()
    changed = 0
    for card in cards:
        entries = ledger(session, card.id)
        steps = replay_steps(
            [(EntryKind(row.kind), row.occurred_at) for row in entries],
            max_stamps=offer.max_stamps,
            inactivity_days=inactivity_days,
        )
        state = steps[-1].state if steps else CardState()
        if (card.current_stamps, card.rewards_claimed) != (
            state.current_stamps,
            state.rewards_claimed,
        ):
            card.current_stamps = state.current_stamps
            card.rewards_claimed = state.rewards_claimed
            changed += 1
    session.flush()
    return changed
