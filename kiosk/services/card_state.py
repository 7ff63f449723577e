"""A card as this tablet sees it: the pulled card with its own unsynced entries on top.

The pulled card is the server's; this device's stamps, claims and unstamps
that the pull does not reflect yet (`counts_on_top`) are replayed on it with
`core.cards`. An unstamp withdraws its stamp: when neither is reflected yet,
both are skipped (the stamp never happened); when the pulled card already
holds the stamp but not the unstamp, one stamp is taken off it
(`withdraw_stamp`); once both are reflected, neither counts. A rejected or
duplicate unstamp withdraws nothing. The double-tap guard and the undo
window (`core.limits`) read the same entries. `card_view` is how a card state
is shown ("4 of 5 • 🥇 Gold Member • 7× completed", the next tier, the prize).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from core.cards import CardState, EntryKind, apply_entry, withdraw_stamp
from core.errors import CoreError
from core.tiers import (
    CardTier,
    Lang,
    card_summary,
    card_tier_for,
    card_tier_progress,
    next_tier_line,
    parse_card_tier_config,
)
from kiosk.services.verdict import CardView
from kiosk.store.outbox import LocalCardEntry, counts_on_top
from kiosk.store.rows import CachedOffer

UNSTAMP: Final = "UNSTAMP"
_LIVE = ("pending", "applied")


def withdrawn(entries: Sequence[LocalCardEntry]) -> set[uuid.UUID]:
    """The stamps withdrawn by a live (pending or applied) unstamp of this device."""
    return {
        entry.undoes
        for entry in entries
        if entry.kind == UNSTAMP and entry.state in _LIVE and entry.undoes is not None
    }


def card_on_device(
    pulled: CardState,
    entries: Sequence[LocalCardEntry],
    reflected: int,
    *,
    max_stamps: int,
    inactivity_days: int,
) -> CardState:
    """The pulled card with the entries it does not reflect yet replayed on top, in order."""
    undone = withdrawn(entries)
    by_id = {entry.op_id: entry for entry in entries}
    state = pulled
    for entry in entries:
        on_top = counts_on_top(entry.state, entry.ack_no, reflected)
        if entry.kind == UNSTAMP:
            stamp = by_id.get(entry.undoes)
            if (
                on_top
                and entry.state in _LIVE
                and stamp is not None
                and stamp.state == "applied"
                and not counts_on_top(stamp.state, stamp.ack_no, reflected)
            ):
                state = withdraw_stamp(state)
            continue
        if not on_top or entry.op_id in undone:
            continue
        state = apply_entry(
            state,
            EntryKind(entry.kind),
            entry.occurred_at,
            max_stamps=max_stamps,
            inactivity_days=inactivity_days,
        ).state
    return state


def _last_given(entries: Sequence[LocalCardEntry]) -> LocalCardEntry | None:
    """The latest stamp or claim of this device that still stands (not withdrawn, not refused)."""
    undone = withdrawn(entries)
    standing = [
        entry
        for entry in entries
        if entry.kind != UNSTAMP and entry.state in _LIVE and entry.op_id not in undone
    ]
    return standing[-1] if standing else None


def recent_stamp(
    entries: Sequence[LocalCardEntry], now: datetime, window: timedelta
) -> LocalCardEntry | None:
    """The card's last standing entry here if it is a stamp less than `window` old.

    The double-tap guard asks before a stamp when this finds one within
    `STAMP_REPEAT_WINDOW`; an undo withdraws what it finds within
    `STAMP_UNDO_WINDOW` (never a stamp with a prize given after it).
    """
    last = _last_given(entries)
    if last is None or last.kind != EntryKind.STAMP.value:
        return None
    return last if now - last.occurred_at < window else None


def offer_tiers(offer: CachedOffer) -> tuple[CardTier, ...]:
    """The offer's tiers, or the default ones when its configuration cannot be read."""
    try:
        return parse_card_tier_config(offer.loyalty_tiers)
    except CoreError:
        return parse_card_tier_config(None)


def tier_label(tier: CardTier | None, lang: Lang = "en") -> str | None:
    """A tier's icon and name in a language ("🥇 Gold Member"), None below the first tier."""
    return None if tier is None else tier.label(lang)


def card_view(offer: CachedOffer, state: CardState, *, restarted: bool) -> CardView:
    """A card state as the prize screen shows it, in English and Arabic."""
    tiers = offer_tiers(offer)
    tier = card_tier_for(state.rewards_claimed, tiers)
    progress = card_tier_progress(state.rewards_claimed, tiers)
    current = min(state.current_stamps, offer.max_stamps)
    completions = state.rewards_claimed
    return CardView(
        offer_id=offer.id,
        offer_name=offer.name,
        current_stamps=current,
        max_stamps=offer.max_stamps,
        completions=completions,
        tier=tier_label(tier),
        summary=card_summary(current, offer.max_stamps, tier, completions),
        restarted=restarted,
        tier_ar=tier_label(tier, "ar"),
        summary_ar=card_summary(current, offer.max_stamps, tier, completions, "ar"),
        prize=offer.prize,
        next_tier=next_tier_line(progress),
        next_tier_ar=next_tier_line(progress, "ar"),
    )
