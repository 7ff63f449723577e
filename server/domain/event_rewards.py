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
- **Idempotent on external_id.** The same `external_id` returns the first
  transaction and evaluates nothing; the same id with another event, user or
  amount is a Conflict.
- **Delete refuses after a redemption**: set the reward INACTIVE instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import limits
from core.reasons import Reason
from server.db.models import Event, EventReward, RewardRedemption, SpendTransaction, User
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.domain import checks
from server.domain.promoters import FieldErrors
from server.domain.unset import UNSET, Unset
from server.errors import Conflict, InvalidInput, NotFound, ReasonError

_LOCK = {"key_share": True}  # FOR NO KEY UPDATE on PostgreSQL; nothing on SQLite
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
class SpendResult:
    """A recorded spend and the redemptions it newly earned (none when `duplicate`)."""

    transaction: SpendTransaction
    redemptions: tuple[RewardRedemption, ...]
    duplicate: bool


@dataclass(frozen=True)
class _Crossing:
    """The spend that took a user over one multiple of a reward's threshold."""

    occurred_at: datetime
    total_amount: Decimal
    transactions: int
    django_bracelet_id: str | None


# ---------------------------------------------------------------- validation


def _invalid_amount(detail: str) -> ReasonError:
    return ReasonError(Reason.REWARD_INVALID_AMOUNT, {"detail": detail}, status=422)


def _money(value: Decimal, field: str, limit: limits.Money) -> Decimal:
    if not limit.contains(value):
        raise _invalid_amount(f"{field} must be {limit.words()} with at most 2 decimals")
    return value.quantize(limits.CENT)


def _check_texts(reward: EventReward) -> None:
    errors: dict[str, str] = {}
    checks.text(errors, "name", reward.name, limits.REWARD_NAME, required="Name the reward.")
    checks.text(errors, "description", reward.description, limits.DESCRIPTION)
    if errors:
        raise FieldErrors(errors)


def _check_aware(value: datetime | None, field: str) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{field} must be timezone-aware")
    if value is not None and not limits.DATE_TIME.contains(value):
        raise FieldErrors({field: f"Use {limits.DATE_TIME.words()}."})


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
    _check_aware(reward.active_from, "active_from")
    _check_aware(reward.active_until, "active_until")
    start, end = reward.active_from, reward.active_until
    if start is not None and end is not None and end <= start:
        raise InvalidInput("active_until must be after active_from")


def _check_status(status: str) -> str:
    if status not in SETTABLE_STATUSES:
        raise InvalidInput(f"status must be one of {sorted(SETTABLE_STATUSES)}, not {status!r}")
    return status


def _settle_depleted(reward: EventReward) -> None:
    cap = reward.max_total_redemptions
    exhausted = cap is not None and reward.current_redemptions >= cap
    if reward.status == RewardStatus.ACTIVE and exhausted:
        reward.status = RewardStatus.DEPLETED
    elif reward.status == RewardStatus.DEPLETED and not exhausted:
        reward.status = RewardStatus.ACTIVE


# ---------------------------------------------------------------- catalogue


def get(session: Session, *, reward_id: uuid.UUID) -> EventReward:
    """A reward, or REWARD_NOT_FOUND."""
    reward = session.get(EventReward, reward_id)
    if reward is None:
        raise ReasonError(Reason.REWARD_NOT_FOUND, status=404)
    return reward


def _get_locked(session: Session, reward_id: uuid.UUID) -> EventReward:
    reward = session.get(EventReward, reward_id, with_for_update=_LOCK, populate_existing=True)
    if reward is None:
        raise ReasonError(Reason.REWARD_NOT_FOUND, status=404)
    return reward


def list_(
    session: Session, *, event_id: uuid.UUID | None = None, status: str | None = None
) -> list[EventReward]:
    """Rewards, optionally of one event and in one status, oldest first."""
    query = select(EventReward).order_by(EventReward.created_at, EventReward.id)
    if event_id is not None:
        query = query.where(EventReward.event_id == event_id)
    if status is not None:
        query = query.where(EventReward.status == status)
    return list(session.scalars(query))


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


def _in_window(reward: EventReward) -> list[ColumnElement[bool]]:
    conditions = [
        SpendTransaction.event_id == reward.event_id,
    ]
    if reward.active_from is not None:
        conditions.append(SpendTransaction.occurred_at >= reward.active_from)
    if reward.active_until is not None:
        conditions.append(SpendTransaction.occurred_at < reward.active_until)
    return conditions


def _crossings(session: Session, reward: EventReward, user_id: uuid.UUID) -> list[_Crossing]:
    """Every threshold crossing of the user's in-window spend, capped per user."""
    spends = session.execute(
        select(
            SpendTransaction.occurred_at,
            SpendTransaction.amount,
            SpendTransaction.django_bracelet_id,
        )
        .where(SpendTransaction.user_id == user_id, *_in_window(reward))
        .order_by(SpendTransaction.occurred_at, SpendTransaction.id)
    ).all()
    cap = reward.max_redemptions_per_user
    crossings: list[_Crossing] = []
    total, count = Decimal("0.00"), 0
    for occurred_at, amount, bracelet in spends:
        total, count = total + amount, count + 1
        while cap is None or len(crossings) < cap:
            step = len(crossings) + 1
            if reward.trigger_type == RewardTriggerType.MINIMUM_SPEND:
                crossed = reward.minimum_spend is not None and total >= reward.minimum_spend * step
            else:
                needed = reward.minimum_transactions
                crossed = needed is not None and count >= needed * step
            if not crossed:
                break
            crossings.append(_Crossing(occurred_at, total, count, bracelet))
    return crossings


def _redeemed(session: Session, reward: EventReward, user_id: uuid.UUID) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(RewardRedemption)
        .where(RewardRedemption.reward_id == reward.id, RewardRedemption.user_id == user_id)
    )
    return count or 0


def _take_slot(session: Session, reward: EventReward) -> bool:
    """Count one more redemption if the reward is ACTIVE and under its global cap."""
    taken = session.execute(
        sql_update(EventReward)
        .where(
            EventReward.id == reward.id,
            EventReward.status == RewardStatus.ACTIVE,
            or_(
                EventReward.max_total_redemptions.is_(None),
                EventReward.current_redemptions < EventReward.max_total_redemptions,
            ),
        )
        .values(current_redemptions=EventReward.current_redemptions + 1)
        .returning(EventReward.current_redemptions, EventReward.max_total_redemptions)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if taken is not None and taken[1] is not None and taken[0] >= taken[1]:
        session.execute(
            sql_update(EventReward)
            .where(EventReward.id == reward.id)
            .values(status=RewardStatus.DEPLETED)
            .execution_options(synchronize_session=False)
        )
    session.refresh(reward)
    return taken is not None


def _redemption(reward: EventReward, user_id: uuid.UUID, crossing: _Crossing) -> RewardRedemption:
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
    )


def _lock_user(session: Session, user_id: uuid.UUID) -> None:
    if session.get(User, user_id, with_for_update=_LOCK, populate_existing=True) is None:
        raise NotFound(f"user {user_id} not found")


def apply_rewards(
    session: Session, *, event_id: uuid.UUID, user_id: uuid.UUID
) -> list[RewardRedemption]:
    """Create the redemptions a user newly qualifies for in the event's ACTIVE rewards."""
    _lock_user(session, user_id)
    rewards = session.scalars(
        select(EventReward)
        .where(
            EventReward.event_id == event_id,
            EventReward.status == RewardStatus.ACTIVE,
            EventReward.trigger_type.in_(SUPPORTED_TRIGGERS),
        )
        .order_by(EventReward.id)
    ).all()
    created: list[RewardRedemption] = []
    for reward in rewards:
        for crossing in _crossings(session, reward, user_id)[_redeemed(session, reward, user_id) :]:
            if not _take_slot(session, reward):
                break
            redemption = _redemption(reward, user_id, crossing)
            session.add(redemption)
            created.append(redemption)
    session.flush()
    return created


def _existing_spend(session: Session, external_id: str) -> SpendTransaction | None:
    return session.scalar(
        select(SpendTransaction).where(SpendTransaction.external_id == external_id)
    )


def _same_spend(
    found: SpendTransaction, event_id: uuid.UUID, user_id: uuid.UUID, amount: Decimal
) -> SpendResult:
    if (found.event_id, found.user_id, found.amount) != (event_id, user_id, amount):
        raise Conflict(
            f"external_id {found.external_id!r} was already recorded for another spend",
            code="external_id_reused",
        )
    return SpendResult(transaction=found, redemptions=(), duplicate=True)


def record_spend(
    session: Session,
    *,
    event_id: uuid.UUID,
    user_id: uuid.UUID,
    amount: Decimal,
    occurred_at: datetime,
    external_id: str | None = None,
    django_bracelet_id: str | None = None,
) -> SpendResult:
    """Store a spend (idempotent on external_id) and create the redemptions it earns."""
    if not limits.TRANSACTION_AMOUNT.contains(amount):
        allowed = limits.TRANSACTION_AMOUNT.words()
        raise InvalidInput(f"amount must be {allowed}, with at most 2 decimals")
    amount = amount.quantize(limits.CENT)
    errors: dict[str, str] = {}
    checks.text(errors, "external_id", external_id, limits.EXTERNAL_ID)
    checks.text(errors, "bracelet_id", django_bracelet_id, limits.BRACELET_ID)
    if errors:
        raise FieldErrors(errors)
    _check_aware(occurred_at, "occurred_at")
    if session.get(Event, event_id) is None:
        raise NotFound(f"event {event_id} not found")
    _lock_user(session, user_id)
    if external_id is not None and (found := _existing_spend(session, external_id)):
        return _same_spend(found, event_id, user_id, amount)
    spend = SpendTransaction(
        event_id=event_id,
        user_id=user_id,
        amount=amount,
        external_id=external_id,
        django_bracelet_id=django_bracelet_id,
        occurred_at=occurred_at,
    )
    try:
        with session.begin_nested():
            session.add(spend)
    except IntegrityError:  # the same external_id committed by another user's spend
        found = _existing_spend(session, external_id) if external_id is not None else None
        if found is None:
            raise
        return _same_spend(found, event_id, user_id, amount)
    redemptions = apply_rewards(session, event_id=event_id, user_id=user_id)
    return SpendResult(transaction=spend, redemptions=tuple(redemptions), duplicate=False)


def redeem(
    session: Session, *, reward_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> RewardRedemption:
    """Claim one qualification the user has not redeemed yet, or raise the seed's REWARD_* code."""
    _check_aware(now, "now")
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
    redeemed = _redeemed(session, reward, user_id)
    cap = reward.max_redemptions_per_user
    if cap is not None and redeemed >= cap:
        raise ReasonError(
            Reason.REWARD_MAX_REDEMPTIONS_EXCEEDED, {"redeemed": redeemed, "max": cap}
        )
    crossings = _crossings(session, reward, user_id)
    if len(crossings) <= redeemed:
        raise ReasonError(Reason.REWARD_USER_NOT_QUALIFIED)
    if not _take_slot(session, reward):
        raise ReasonError(Reason.REWARD_DEPLETED)
    redemption = _redemption(reward, user_id, crossings[redeemed])
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
    """Record that the bracelet system applied a redemption; a second time is a Conflict."""
    _check_aware(now, "now")
    redemption = session.get(
        RewardRedemption, redemption_id, with_for_update=_LOCK, populate_existing=True
    )
    if redemption is None:
        raise NotFound(f"reward redemption {redemption_id} not found")
    if redemption.applied_at is not None:
        raise Conflict(
            f"reward redemption {redemption_id} was already applied "
            f"{redemption.applied_at.isoformat()}",
            code="already_applied",
        )
    redemption.applied_at = now
    if django_bracelet_id is not None:
        redemption.django_bracelet_id = django_bracelet_id
    session.flush()
    return redemption
