"""Seed 003's event-time rewards: earned from spend, never bought.

Decisions, named so the API, the payment bridge and the tests can point at them:

- **Qualification lives in `reward_evaluation`**: thresholds earned again as
  spend grows, the window filtering the ledger, a redemption remembering its
  crossing, and the limits under concurrency.
- **Automatic first, explicit claim as catch-up.** `record_spend` creates
  every redemption the user newly qualifies for in every ACTIVE reward of the
  event. `redeem` is the explicit claim, with the seed's error codes, for a
  qualification automatic evaluation did not turn into a redemption (the
  reward was activated after the spend, or its global cap was raised).
- **An explicit claim takes one slot** with the counted-slot UPDATE
  (`rows.take_slot`), under the user's lock, so both caps hold there too.
- **Spend comes in through `spend`** (one transaction or a batch); it calls
  `apply_rewards_for` once per batch for every user with new spend.
- **Delete refuses after a redemption**: set the reward INACTIVE instead.
- **Applied once, confirmed any number of times.** `mark_applied` sets
  `applied_at` the first time; confirming again returns it unchanged.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from core.reasons import Reason
from server.db.models import Event, EventReward, RewardRedemption
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.domain import checks, money, reward_evaluation, rows
from server.domain.promoters import FieldErrors
from server.domain.unset import UNSET, Unset
from server.errors import Conflict, InvalidInput, NotFound, ReasonError

#: Statuses a promoter may set; DEPLETED and EXPIRED are the system's.
SETTABLE_STATUSES: Final = frozenset(
    {RewardStatus.DRAFT, RewardStatus.ACTIVE, RewardStatus.INACTIVE}
)
_REWARD_TYPES: Final = frozenset(RewardType)
#: Triggers evaluated today (SPECIFIC_ITEMS is the seed's "future").
SUPPORTED_TRIGGERS: Final = reward_evaluation.SUPPORTED_TRIGGERS


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
    reward_evaluation.settle_depleted(reward)
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


def redeem(
    session: Session, *, reward_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> RewardRedemption:
    """Claim one qualification the user has not redeemed yet, or raise the seed's REWARD_* code."""
    money.check_aware(now, "now")
    reward = get(session, reward_id=reward_id)
    reward_evaluation.lock_user(session, user_id)
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
    redeemed = reward_evaluation.redeemed_counts(session, [reward.id], [user_id]).get(
        (reward.id, user_id), 0
    )
    cap = reward.max_redemptions_per_user
    if cap is not None and redeemed >= cap:
        raise ReasonError(
            Reason.REWARD_MAX_REDEMPTIONS_EXCEEDED, {"redeemed": redeemed, "max": cap}
        )
    found = reward_evaluation.crossings(
        reward, reward_evaluation.spends_of(session, reward.event_id, [user_id])[user_id]
    )
    if len(found) <= redeemed:
        raise ReasonError(Reason.REWARD_USER_NOT_QUALIFIED)
    if not reward_evaluation.take_slot(session, reward):
        raise ReasonError(Reason.REWARD_DEPLETED)
    redemption = reward_evaluation.new_redemption(reward, user_id, found[redeemed], None)
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
