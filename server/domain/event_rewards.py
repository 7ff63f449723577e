"""Seed 003's event-time rewards: earned from spend, never bought.

Decisions, named so the API, the payment bridge and the tests can point at them:

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
  that crossed the threshold (spends ordered by `occurred_at`, then id).
- **Automatic first, explicit claim as catch-up.** `record_spend` creates
  every redemption the user newly qualifies for in every ACTIVE reward of the
  event. `redeem` is the explicit claim, with the seed's error codes, for a
  qualification automatic evaluation did not turn into a redemption (the
  reward was activated after the spend, or its global cap was raised).
- **Limits under concurrency.** Evaluation for one user runs under a lock on
  that user's row (`FOR NO KEY UPDATE`, which does not block rows that only
  reference the user), so `max_redemptions_per_user` holds; each redemption
  takes a global slot with a conditional `UPDATE rewards SET
  current_redemptions = current_redemptions + 1 WHERE status = 'ACTIVE' AND
  (max_total_redemptions IS NULL OR current_redemptions <
  max_total_redemptions)`, and the one that reaches the cap sets DEPLETED.
  Rewards are always taken in id order, users before rewards, so two
  evaluations cannot deadlock. On SQLite the locks are no-ops and `BEGIN
  IMMEDIATE` serialises writers.
- **Spend comes in through `spend`** (one transaction or a batch); it calls
  `apply_rewards_for` once per batch for every user with new spend.
- **Delete refuses after a redemption**: set the reward INACTIVE instead.
- **Applied once, confirmed any number of times.** `mark_applied` sets
  `applied_at` the first time; confirming again returns it unchanged.
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

from core import limits
from core.reasons import Reason
from server.db.models import Event, EventReward, RewardRedemption, SpendTransaction, User
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.domain import checks, money, rows
from server.domain.promoters import FieldErrors
from server.domain.unset import UNSET, Unset
from server.errors import Conflict, InvalidInput, NotFound, ReasonError

#: Statuses a promoter may set; DEPLETED and EXPIRED are the system's.
SETTABLE_STATUSES: Final = frozenset(
    {RewardStatus.DRAFT, RewardStatus.ACTIVE, RewardStatus.INACTIVE}
)
#: Triggers evaluated today; SPECIFIC_ITEMS is the seed's "future".
SUPPORTED_TRIGGERS: Final = frozenset(
    {RewardTriggerType.MINIMUM_SPEND, RewardTriggerType.TRANSACTION_COUNT}
)
_REWARD_TYPES: Final = frozenset(RewardType)


@dataclass(frozen=True)
class Spend:
    """One spend as evaluation reads it."""

    id: uuid.UUID
    occurred_at: datetime
    amount: Decimal
    django_bracelet_id: str | None


@dataclass(frozen=True)
class _Crossing:
    """The spend that took a user over one multiple of a reward's threshold."""

    spend_id: uuid.UUID
    occurred_at: datetime
    total_amount: Decimal
    transactions: int
    django_bracelet_id: str | None


# ---------------------------------------------------------------- validation


def _invalid_amount(detail: str) -> ReasonError:
    return ReasonError(Reason.REWARD_INVALID_AMOUNT, {"detail": detail}, status=422)


def _money(value: Decimal, field: str, limit: limits.Money) -> Decimal:
    return money.checked(value, limit, field=field, refuse=_invalid_amount)


def _check_texts(reward: EventReward) -> None:
    errors: dict[str, str] = {}
    checks.text(errors, "name", reward.name, limits.REWARD_NAME, required="Name the reward.")
    checks.text(errors, "description", reward.description, limits.DESCRIPTION)
    if errors:
        raise FieldErrors(errors)


def _validate(reward: EventReward) -> None:
    _check_texts(reward)
    if reward.trigger_type not in SUPPORTED_TRIGGERS:
        raise InvalidInput(f"trigger_type must be one of {sorted(SUPPORTED_TRIGGERS)}")
    if reward.reward_type not in _REWARD_TYPES:
        raise InvalidInput(f"reward_type must be one of {sorted(_REWARD_TYPES)}")
    if reward.reward_amount is None:
        raise _invalid_amount("reward_amount is required")
    reward.reward_amount = _money(reward.reward_amount, "reward_amount", limits.REWARD_AMOUNT)
    if reward.reward_type == RewardType.DISCOUNT_PERCENTAGE and reward.reward_amount > 100:
        raise _invalid_amount("a percentage discount cannot exceed 100")
    needed_spend = reward.trigger_type == RewardTriggerType.MINIMUM_SPEND
    if needed_spend and reward.minimum_spend is None:
        raise _invalid_amount("MINIMUM_SPEND needs minimum_spend")
    if reward.minimum_spend is not None:
        reward.minimum_spend = _money(reward.minimum_spend, "minimum_spend", limits.SPEND_AMOUNT)
    needed = reward.minimum_transactions
    counting = reward.trigger_type == RewardTriggerType.TRANSACTION_COUNT
    if counting and needed is None:
        raise _invalid_amount("TRANSACTION_COUNT needs minimum_transactions")
    if needed is not None and not limits.MIN_TRANSACTIONS.contains(needed):
        raise _invalid_amount(f"minimum_transactions must be {limits.MIN_TRANSACTIONS.words()}")
    for field in ("max_redemptions_per_user", "max_total_redemptions"):
        value = getattr(reward, field)
        if value is not None and not limits.REDEMPTIONS.contains(value):
            raise InvalidInput(f"{field} must be {limits.REDEMPTIONS.words()}")
    cap = reward.max_total_redemptions
    if cap is not None and cap < reward.current_redemptions:
        raise InvalidInput(
            f"max_total_redemptions must be at least the {reward.current_redemptions} already given"
        )
    money.check_aware(reward.active_from, "active_from")
    money.check_aware(reward.active_until, "active_until")
    start, end = reward.active_from, reward.active_until
    if start is not None and end is not None and end <= start:
        raise InvalidInput("active_until must be after active_from")


def _check_status(status: str) -> str:
    if status not in SETTABLE_STATUSES:
        raise InvalidInput(f"status must be one of {sorted(SETTABLE_STATUSES)}, not {status!r}")
    return status


def _settle_depleted(reward: EventReward) -> None:
    reward.status = rows.settled(
        reward.status,
        count=reward.current_redemptions,
        cap=reward.max_total_redemptions,
        active=RewardStatus.ACTIVE,
        full=RewardStatus.DEPLETED,
    )


# ---------------------------------------------------------------- catalogue


def _not_found() -> ReasonError:
    return ReasonError(Reason.REWARD_NOT_FOUND, status=404)


def get(session: Session, *, reward_id: uuid.UUID) -> EventReward:
    """A reward, or REWARD_NOT_FOUND."""
    return rows.get(session, EventReward, reward_id, _not_found)


def _get_locked(session: Session, reward_id: uuid.UUID) -> EventReward:
    return rows.get(session, EventReward, reward_id, _not_found, lock=True)


def list_(
    session: Session, *, event_id: uuid.UUID | None = None, status: str | None = None
) -> list[EventReward]:
    """Rewards, optionally of one event and in one status, oldest first."""
    return rows.list_for_event(session, EventReward, event_id=event_id, status=status)


def create(
    session: Session,
    *,
    event_id: uuid.UUID,
    name: str,
    trigger_type: str,
    reward_type: str,
    reward_amount: Decimal,
    minimum_spend: Decimal | None = None,
    minimum_transactions: int | None = None,
    max_redemptions_per_user: int | None = 1,
    max_total_redemptions: int | None = None,
    active_from: datetime | None = None,
    active_until: datetime | None = None,
    status: str = RewardStatus.DRAFT,
    description: str | None = None,
    promoter_id: uuid.UUID | None = None,
) -> EventReward:
    """Create a validated reward (promoter defaults to the event's)."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    reward = EventReward(
        event_id=event_id,
        promoter_id=promoter_id if promoter_id is not None else event.promoter_id,
        name=name,
        description=description,
        status=_check_status(status),
        trigger_type=trigger_type,
        minimum_spend=minimum_spend,
        minimum_transactions=minimum_transactions,
        reward_type=reward_type,
        reward_amount=reward_amount,
        max_redemptions_per_user=max_redemptions_per_user,
        max_total_redemptions=max_total_redemptions,
        current_redemptions=0,
        active_from=active_from,
        active_until=active_until,
    )
    _validate(reward)
    session.add(reward)
    session.flush()
    return reward


def update(
    session: Session,
    *,
    reward_id: uuid.UUID,
    name: str | Unset = UNSET,
    description: str | Unset | None = UNSET,
    trigger_type: str | Unset = UNSET,
    minimum_spend: Decimal | Unset | None = UNSET,
    minimum_transactions: int | Unset | None = UNSET,
    reward_type: str | Unset = UNSET,
    reward_amount: Decimal | Unset = UNSET,
    max_redemptions_per_user: int | Unset | None = UNSET,
    max_total_redemptions: int | Unset | None = UNSET,
    active_from: datetime | Unset | None = UNSET,
    active_until: datetime | Unset | None = UNSET,
    status: str | Unset = UNSET,
) -> EventReward:
    """Change the given fields and re-validate; a raised cap turns DEPLETED back to ACTIVE."""
    reward = _get_locked(session, reward_id)
    if name is not UNSET:
        reward.name = name
    if description is not UNSET:
        reward.description = description
    if trigger_type is not UNSET:
        reward.trigger_type = trigger_type
    if minimum_spend is not UNSET:
        reward.minimum_spend = minimum_spend
    if minimum_transactions is not UNSET:
        reward.minimum_transactions = minimum_transactions
    if reward_type is not UNSET:
        reward.reward_type = reward_type
    if reward_amount is not UNSET:
        reward.reward_amount = reward_amount
    if max_redemptions_per_user is not UNSET:
        reward.max_redemptions_per_user = max_redemptions_per_user
    if max_total_redemptions is not UNSET:
        reward.max_total_redemptions = max_total_redemptions
    if active_from is not UNSET:
        reward.active_from = active_from
    if active_until is not UNSET:
        reward.active_until = active_until
    if status is not UNSET:
        reward.status = _check_status(status)
    try:
        _validate(reward)
    except (ReasonError, InvalidInput):
        session.expire(reward)  # drop the refused changes
        raise
    _settle_depleted(reward)
    session.flush()
    return reward


def delete(session: Session, *, reward_id: uuid.UUID) -> None:
    """Delete a reward nobody earned; after a redemption raise Conflict (set it INACTIVE)."""
    reward = _get_locked(session, reward_id)
    given = session.scalar(
        select(func.count())
        .select_from(RewardRedemption)
        .where(RewardRedemption.reward_id == reward.id)
    )
    if given:
        raise Conflict(
            f"reward {reward.id} has {given} redemption(s); set it INACTIVE instead",
            code="reward_has_redemptions",
        )
    session.delete(reward)
    session.flush()


# ---------------------------------------------------------------- qualification


def _in_window(reward: EventReward, at: datetime) -> bool:
    after_start = reward.active_from is None or at >= reward.active_from
    return after_start and (reward.active_until is None or at < reward.active_until)


def crossings(reward: EventReward, spends: Sequence[Spend]) -> list[_Crossing]:
    """Every threshold crossing of a user's spends (in occurred order) inside the reward's
    window, capped per user."""
    cap = reward.max_redemptions_per_user
    found: list[_Crossing] = []
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
                _Crossing(spend.id, spend.occurred_at, total, count, spend.django_bracelet_id)
            )
    return found


def _spends_of(
    session: Session, event_id: uuid.UUID, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Spend]]:
    """The event's spends of these users, each in occurred order (then id)."""
    found: dict[uuid.UUID, list[Spend]] = {user_id: [] for user_id in user_ids}
    for chunk in _chunks(sorted(user_ids)):
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


def _possibly_due(
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
    for chunk in _chunks(sorted(user_ids)):
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


def _chunks(ids: list[uuid.UUID], size: int = 500) -> list[list[uuid.UUID]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _redeemed_counts(
    session: Session, reward_ids: list[uuid.UUID], user_ids: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    counts: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for chunk in _chunks(sorted(user_ids)):
        query = (
            select(RewardRedemption.reward_id, RewardRedemption.user_id, func.count())
            .where(RewardRedemption.reward_id.in_(reward_ids), RewardRedemption.user_id.in_(chunk))
            .group_by(RewardRedemption.reward_id, RewardRedemption.user_id)
        )
        for reward_id, user_id, count in session.execute(query):
            counts[(reward_id, user_id)] = count
    return counts


def _take_slot(session: Session, reward: EventReward) -> bool:
    """Count one more redemption if the reward is ACTIVE and under its global cap."""
    taken = rows.take_slot(
        session,
        reward,
        counter=EventReward.current_redemptions,
        cap=EventReward.max_total_redemptions,
        where=(EventReward.status == RewardStatus.ACTIVE,),
    )
    if taken is not None:
        _settle_depleted(reward)
    return taken is not None


def _take_slots(session: Session, reward: EventReward, wanted: int) -> int:
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
        _settle_depleted(reward)
    return granted


def _redemption(
    reward: EventReward, user_id: uuid.UUID, crossing: _Crossing, cause: uuid.UUID | None
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
    for chunk in _chunks(sorted(user_ids)):
        query = select(User.id).where(User.id.in_(chunk)).order_by(User.id)
        found.update(session.scalars(query.with_for_update(key_share=True)))
    return found


def _lock_user(session: Session, user_id: uuid.UUID) -> None:
    if not lock_users(session, [user_id]):
        raise NotFound(f"user {user_id} not found")


def _cause(crossing: _Crossing, new: Mapping[uuid.UUID, datetime] | None) -> uuid.UUID | None:
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
    redeemed = _redeemed_counts(session, [reward.id for reward in rewards], user_ids)
    candidates = {r.id: _possibly_due(session, r, user_ids, redeemed) for r in rewards}
    spends = _spends_of(session, event_id, set().union(*candidates.values()))
    for reward in rewards:
        due = [
            (user_id, crossing)
            for user_id in sorted(candidates[reward.id])
            for crossing in crossings(reward, spends[user_id])[
                redeemed.get((reward.id, user_id), 0) :
            ]
        ]
        for user_id, crossing in due[: _take_slots(session, reward, len(due))]:
            cause = _cause(crossing, (new_spends or {}).get(user_id))
            redemption = _redemption(reward, user_id, crossing, cause)
            session.add(redemption)
            created[user_id].append(redemption)
    session.flush()
    return created


def apply_rewards(
    session: Session, *, event_id: uuid.UUID, user_id: uuid.UUID
) -> list[RewardRedemption]:
    """Create the redemptions a user newly qualifies for in the event's ACTIVE rewards."""
    _lock_user(session, user_id)
    return apply_rewards_for(session, event_id=event_id, user_ids=[user_id])[user_id]


def redeem(
    session: Session, *, reward_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> RewardRedemption:
    """Claim one qualification the user has not redeemed yet, or raise the seed's REWARD_* code."""
    money.check_aware(now, "now")
    reward = get(session, reward_id=reward_id)
    _lock_user(session, user_id)
    session.refresh(reward)
    if reward.status == RewardStatus.DEPLETED:
        raise ReasonError(Reason.REWARD_DEPLETED)
    if reward.status == RewardStatus.EXPIRED:
        raise ReasonError(Reason.REWARD_EXPIRED)
    if reward.status != RewardStatus.ACTIVE or reward.trigger_type not in SUPPORTED_TRIGGERS:
        raise ReasonError(Reason.REWARD_INACTIVE, {"status": reward.status})
    if (reward.active_from is not None and now < reward.active_from) or (
        reward.active_until is not None and now >= reward.active_until
    ):
        raise ReasonError(Reason.REWARD_EXPIRED)
    redeemed = _redeemed_counts(session, [reward.id], [user_id]).get((reward.id, user_id), 0)
    cap = reward.max_redemptions_per_user
    if cap is not None and redeemed >= cap:
        raise ReasonError(
            Reason.REWARD_MAX_REDEMPTIONS_EXCEEDED, {"redeemed": redeemed, "max": cap}
        )
    found = crossings(reward, _spends_of(session, reward.event_id, [user_id])[user_id])
    if len(found) <= redeemed:
        raise ReasonError(Reason.REWARD_USER_NOT_QUALIFIED)
    if not _take_slot(session, reward):
        raise ReasonError(Reason.REWARD_DEPLETED)
    redemption = _redemption(reward, user_id, found[redeemed], None)
    session.add(redemption)
    session.flush()
    return redemption


def list_redemptions(
    session: Session,
    *,
    event_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    reward_id: uuid.UUID | None = None,
    unapplied_only: bool = False,
) -> list[RewardRedemption]:
    """Redemptions, filtered, in the order users qualified."""
    query = select(RewardRedemption).order_by(RewardRedemption.qualified_at, RewardRedemption.id)
    if event_id is not None:
        query = query.where(RewardRedemption.event_id == event_id)
    if user_id is not None:
        query = query.where(RewardRedemption.user_id == user_id)
    if reward_id is not None:
        query = query.where(RewardRedemption.reward_id == reward_id)
    if unapplied_only:
        query = query.where(RewardRedemption.applied_at.is_(None))
    return list(session.scalars(query))


def mark_applied(
    session: Session,
    *,
    redemption_id: uuid.UUID,
    now: datetime,
    django_bracelet_id: str | None = None,
) -> RewardRedemption:
    """Record that the bracelet system applied a redemption; confirming again changes nothing."""
    money.check_aware(now, "now")
    redemption = rows.get(
        session,
        RewardRedemption,
        redemption_id,
        lambda: NotFound(f"reward redemption {redemption_id} not found"),
        lock=True,
    )
    if redemption.applied_at is not None:
        return redemption
    redemption.applied_at = now
    if django_bracelet_id is not None:
        redemption.django_bracelet_id = django_bracelet_id
    session.flush()
    return redemption
