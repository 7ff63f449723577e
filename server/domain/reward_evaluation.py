"""Seed 003's rewards earned from spend: who crossed which threshold, and the redemptions made.

Decisions, named so `event_rewards`, `spend` and the tests can point at them:

- **Earned again as spend grows.** A user qualifies once per multiple of the
  threshold: with MINIMUM_SPEND 150 a user who has spent 320 has qualified
  twice, with TRANSACTION_COUNT 10 a user with 25 transactions twice. How
  many of those become redemptions is capped by `max_redemptions_per_user`
  (default 1, so the default reward is one-shot; None means no cap).
- **The window filters the ledger.** Only spend whose `occurred_at` lies in
  `active_from <= t < active_until` counts towards a reward. Evaluation is a
  function of that ledger, not of the clock, so a spend that syncs late still
  earns what it earned at the bar, and the result does not depend on the
  order spends arrive in (except where the global cap runs out).
- **A redemption remembers its crossing.** `qualified_at`, `trigger_amount`,
  `trigger_transactions` and `django_bracelet_id` come from the transaction
  that crossed the threshold (spends ordered by `occurred_at`, then id);
  `spend_transaction_id` names the new spend whose recording created it.
- **Limits under concurrency.** Evaluation runs under locks on the users'
  rows (`FOR NO KEY UPDATE`, taken in id order, which does not block rows that
  only reference them), so `max_redemptions_per_user` holds; the slots a
  reward gives in one evaluation are taken at once under a lock on the
  reward row with a guarded `UPDATE` (`rows.take_slots`), users in id order
  first, and the one that reaches the cap sets DEPLETED. Rewards are taken in
  id order, users before rewards, so two evaluations cannot deadlock. On
  SQLite the locks are no-ops and `BEGIN IMMEDIATE` serialises writers.
- **Only the possibly due are replayed.** Per reward, an aggregate of each
  user's in-window spend picks the users who may have a crossing not yet
  redeemed; only their spends are read and replayed exactly.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from server.db.models import EventReward, RewardRedemption, SpendTransaction, User
from server.db.models.enums import RewardStatus, RewardTriggerType
from server.domain import rows
from server.errors import InvalidInput, NotFound

#: Triggers evaluated today; SPECIFIC_ITEMS is the seed's "future".
SUPPORTED_TRIGGERS: Final = frozenset(
    {RewardTriggerType.MINIMUM_SPEND, RewardTriggerType.TRANSACTION_COUNT}
)


@dataclass(frozen=True)
class Spend:
    """One spend as evaluation reads it."""

    id: uuid.UUID
    occurred_at: datetime
    amount: Decimal
    django_bracelet_id: str | None


@dataclass(frozen=True)
class Crossing:
    """The spend that took a user over one multiple of a reward's threshold."""

    spend_id: uuid.UUID
    occurred_at: datetime
    total_amount: Decimal
    transactions: int
    django_bracelet_id: str | None


def settle_depleted(reward: EventReward) -> None:
    """DEPLETED when the global cap is met, ACTIVE again when it was raised."""
    reward.status = rows.settled(
        reward.status,
        count=reward.current_redemptions,
        cap=reward.max_total_redemptions,
        active=RewardStatus.ACTIVE,
        full=RewardStatus.DEPLETED,
    )


def _in_window(reward: EventReward, at: datetime) -> bool:
    after_start = reward.active_from is None or at >= reward.active_from
    return after_start and (reward.active_until is None or at < reward.active_until)


def crossings(reward: EventReward, spends: Sequence[Spend]) -> list[Crossing]:
    """Every threshold crossing of a user's spends (in occurred order) inside the reward's
    window, capped per user."""
    cap = reward.max_redemptions_per_user
    found: list[Crossing] = []
    total, count = Decimal("0.00"), 0
    for spend in spends:
        if not _in_window(reward, spend.occurred_at):
            continue
        total, count = total + spend.amount, count + 1
        while cap is None or len(found) < cap:
            step = len(found) + 1
            if reward.trigger_type == RewardTriggerType.MINIMUM_SPEND:
                crossed = reward.minimum_spend is not None and total >= reward.minimum_spend * step
            else:
                needed = reward.minimum_transactions
                crossed = needed is not None and count >= needed * step
            if not crossed:
                break
            found.append(
                Crossing(spend.id, spend.occurred_at, total, count, spend.django_bracelet_id)
            )
    return found


def spends_of(
    session: Session, event_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Spend]]:
    """The event's spends of these users, each in occurred order (then id)."""
    found: dict[uuid.UUID, list[Spend]] = {user_id: [] for user_id in user_ids}
    for chunk in chunks(sorted(user_ids)):
        rows_ = session.execute(
            select(
                SpendTransaction.user_id,
                SpendTransaction.id,
                SpendTransaction.occurred_at,
                SpendTransaction.amount,
                SpendTransaction.django_bracelet_id,
            )
            .where(SpendTransaction.event_id == event_id, SpendTransaction.user_id.in_(chunk))
            .order_by(SpendTransaction.occurred_at, SpendTransaction.id)
        )
        for user_id, spend_id, occurred_at, amount, bracelet in rows_:
            found[user_id].append(Spend(spend_id, occurred_at, amount, bracelet))
    return found


def possibly_due(
    session: Session,
    reward: EventReward,
    user_ids: Collection[uuid.UUID],
    redeemed: Mapping[tuple[uuid.UUID, uuid.UUID], int],
) -> set[uuid.UUID]:
    """Users whose in-window totals may give this reward more crossings than they redeemed.

    A float sum with a cent of slack only narrows who `crossings` then evaluates exactly;
    it can let through a user with nothing due, never keep out one with something due.
    """
    window = [SpendTransaction.event_id == reward.event_id]
    if reward.active_from is not None:
        window.append(SpendTransaction.occurred_at >= reward.active_from)
    if reward.active_until is not None:
        window.append(SpendTransaction.occurred_at < reward.active_until)
    found: set[uuid.UUID] = set()
    for chunk in chunks(sorted(user_ids)):
        totals = session.execute(
            select(
                SpendTransaction.user_id,
                func.sum(cast(SpendTransaction.amount, Float)),
                func.count(),
            )
            .where(SpendTransaction.user_id.in_(chunk), *window)
            .group_by(SpendTransaction.user_id)
        )
        for user_id, total, count in totals:
            if reward.trigger_type == RewardTriggerType.MINIMUM_SPEND:
                step = float(reward.minimum_spend or 0)
                possible = math.floor((total + 0.01) / step) if step > 0 else 0
            else:
                possible = count // (reward.minimum_transactions or count + 1)
            cap = reward.max_redemptions_per_user
            if (possible if cap is None else min(possible, cap)) > redeemed.get(
                (reward.id, user_id), 0
            ):
                found.add(user_id)
    return found


def chunks(ids: list[uuid.UUID], size: int = 500) -> list[list[uuid.UUID]]:
    """Ids in slices small enough for one IN list."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def redeemed_counts(
    session: Session, reward_ids: list[uuid.UUID], user_ids: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Redemptions so far per (reward, user)."""
    counts: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for chunk in chunks(sorted(user_ids)):
        query = (
            select(RewardRedemption.reward_id, RewardRedemption.user_id, func.count())
            .where(RewardRedemption.reward_id.in_(reward_ids), RewardRedemption.user_id.in_(chunk))
            .group_by(RewardRedemption.reward_id, RewardRedemption.user_id)
        )
        for reward_id, user_id, count in session.execute(query):
            counts[(reward_id, user_id)] = count
    return counts


def take_slot(session: Session, reward: EventReward) -> bool:
    """Count one more redemption if the reward is ACTIVE and under its global cap."""
    taken = rows.take_slot(
        session,
        reward,
        counter=EventReward.current_redemptions,
        cap=EventReward.max_total_redemptions,
        where=(EventReward.status == RewardStatus.ACTIVE,),
    )
    if taken is not None:
        settle_depleted(reward)
    return taken is not None


def take_slots(session: Session, reward: EventReward, wanted: int) -> int:
    """Count up to `wanted` redemptions at once (users in id order get them first)."""
    if not wanted:
        return 0
    granted = rows.take_slots(
        session,
        reward,
        wanted,
        counter=EventReward.current_redemptions,
        cap=EventReward.max_total_redemptions,
        where=(EventReward.status == RewardStatus.ACTIVE,),
    )
    if granted:
        settle_depleted(reward)
    return granted


def new_redemption(
    reward: EventReward, user_id: uuid.UUID, crossing: Crossing, cause: uuid.UUID | None
) -> RewardRedemption:
    if reward.reward_amount is None:  # refused by create and update; never from the service
        raise InvalidInput(f"reward {reward.id} has no reward_amount")
    return RewardRedemption(
        reward_id=reward.id,
        user_id=user_id,
        event_id=reward.event_id,
        promoter_id=reward.promoter_id,
        trigger_amount=crossing.total_amount,
        trigger_transactions=crossing.transactions,
        reward_amount=reward.reward_amount,
        django_bracelet_id=crossing.django_bracelet_id,
        qualified_at=crossing.occurred_at,
        spend_transaction_id=cause,
    )


def lock_users(session: Session, user_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Lock these users' rows in id order (see the module notes); the ids that exist."""
    found: set[uuid.UUID] = set()
    for chunk in chunks(sorted(user_ids)):
        query = select(User.id).where(User.id.in_(chunk)).order_by(User.id)
        found.update(session.scalars(query.with_for_update(key_share=True)))
    return found


def lock_user(session: Session, user_id: uuid.UUID) -> None:
    """Lock one user's row, or NotFound."""
    if not lock_users(session, [user_id]):
        raise NotFound(f"user {user_id} not found")


def _cause(crossing: Crossing, new: Mapping[uuid.UUID, datetime] | None) -> uuid.UUID | None:
    """The new spend a redemption is answered with: the crossing one, else the user's latest."""
    if not new:
        return None
    if crossing.spend_id in new:
        return crossing.spend_id
    return max(new, key=lambda spend_id: (new[spend_id], str(spend_id)))


def apply_rewards_for(
    session: Session,
    *,
    event_id: uuid.UUID,
    user_ids: Collection[uuid.UUID],
    new_spends: Mapping[uuid.UUID, Mapping[uuid.UUID, datetime]] | None = None,
) -> dict[uuid.UUID, list[RewardRedemption]]:
    """Create the redemptions these (locked) users newly qualify for in the event's ACTIVE
    rewards; `new_spends` (user → spend id → occurred_at) names the spends that caused them."""
    rewards = session.scalars(
        select(EventReward)
        .where(
            EventReward.event_id == event_id,
            EventReward.status == RewardStatus.ACTIVE,
            EventReward.trigger_type.in_(SUPPORTED_TRIGGERS),
        )
        .order_by(EventReward.id)
    ).all()
    created: dict[uuid.UUID, list[RewardRedemption]] = {user_id: [] for user_id in user_ids}
    if not rewards or not user_ids:
        return created
    redeemed = redeemed_counts(session, [reward.id for reward in rewards], user_ids)
    candidates = {r.id: possibly_due(session, r, user_ids, redeemed) for r in rewards}
    spends = spends_of(session, event_id, set().union(*candidates.values()))
    for reward in rewards:
        due = [
            (user_id, crossing)
            for user_id in sorted(candidates[reward.id])
            for crossing in crossings(reward, spends[user_id])[
                redeemed.get((reward.id, user_id), 0) :
            ]
        ]
        for user_id, crossing in due[: take_slots(session, reward, len(due))]:
            cause = _cause(crossing, (new_spends or {}).get(user_id))
            redemption = new_redemption(reward, user_id, crossing, cause)
            session.add(redemption)
            created[user_id].append(redemption)
    session.flush()
    return created


def apply_rewards(
    session: Session, *, event_id: uuid.UUID, user_id: uuid.UUID
) -> list[RewardRedemption]:
    """Create the redemptions a user newly qualifies for in the event's ACTIVE rewards."""
    lock_user(session, user_id)
    return apply_rewards_for(session, event_id=event_id, user_ids=[user_id])[user_id]
