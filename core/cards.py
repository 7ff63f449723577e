"""The perpetual stamp-card rule (seed 002), as a pure replay of a pass's ledger.

A pass is derived from its ordered entries: a STAMP adds one stamp unless the
card is full; a CLAIM needs a full card, resets it to 0 and counts one more
completion. An entry that comes more than `inactivity_days` after the
previous one finds the pass expired: the abandoned partial card restarts at
0, while completions (and so the tier) are kept. The server, the kiosk and
`recompute` all use this one copy.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.reasons import Reason


class EntryKind(enum.StrEnum):
    """What a ledger entry does to a card."""

    STAMP = "STAMP"
    CLAIM = "CLAIM"


@dataclass(frozen=True, slots=True)
class CardState:
    """A pass's derived figures."""

    current_stamps: int = 0
    rewards_claimed: int = 0
    last_activity_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CardStep:
    """The result of applying one entry: the new state, or the reason it was refused."""

    state: CardState
    refused: Reason | None = None
    restarted: bool = False


def is_expired(state: CardState, now: datetime, inactivity_days: int) -> bool:
    """True when the pass has seen no activity for more than `inactivity_days`."""
    last = state.last_activity_at
    return last is not None and now - last > timedelta(days=inactivity_days)


def apply_entry(
    state: CardState,
    kind: EntryKind,
    occurred_at: datetime,
    *,
    max_stamps: int,
    inactivity_days: int,
) -> CardStep:
    """Apply one stamp or claim to a card; a refused entry leaves the state unchanged."""
    restarted = is_expired(state, occurred_at, inactivity_days)
    current = 0 if restarted else state.current_stamps
    if kind is EntryKind.STAMP:
        if current >= max_stamps:
            return CardStep(state, refused=Reason.CARD_FULL)
        new = replace(state, current_stamps=current + 1, last_activity_at=occurred_at)
        return CardStep(new, restarted=restarted)
    if current < max_stamps:
        return CardStep(state, refused=Reason.NOT_ENOUGH_STAMPS)
    new = CardState(0, state.rewards_claimed + 1, occurred_at)
    return CardStep(new, restarted=restarted)


def withdraw_stamp(state: CardState) -> CardState:
    """A card with one stamp of its current cycle withdrawn (`pass.unstamp`), never below 0.

    For a card whose ledger already holds the stamp (a pulled card): a card
    replayed from its entries drops the stamp from the replay instead.
    """
    return replace(state, current_stamps=max(0, state.current_stamps - 1))


def replay_steps(
    entries: Iterable[tuple[EntryKind, datetime]],
    *,
    max_stamps: int,
    inactivity_days: int,
) -> list[CardStep]:
    """Apply entries in the order given; one step per entry, refused ones leave the state as is."""
    state = CardState()
    steps = []
    for kind, occurred_at in entries:
        step = apply_entry(
            state, kind, occurred_at, max_stamps=max_stamps, inactivity_days=inactivity_days
        )
        steps.append(step)
        state = step.state
    return steps


def replay(
    entries: Iterable[tuple[EntryKind, datetime]],
    *,
    max_stamps: int,
    inactivity_days: int,
) -> CardState:
    """Rebuild a card from its entries in door-time order, skipping any that would be refused."""
    steps = replay_steps(entries, max_stamps=max_stamps, inactivity_days=inactivity_days)
    return steps[-1].state if steps else CardState()
