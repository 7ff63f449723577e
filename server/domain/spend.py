"""Spend from the bar and bracelet systems: recorded once, answered with the rewards it earned.

Decisions, named so the integration API, the benchmark and the tests can point at them:

- **A batch, each transaction on its own.** `record_spends` checks every
  transaction alone; a bad one is answered with its own 4xx error (code,
  status, message) and writes nothing, the others are recorded. `record_spend`
  is a batch of one that raises its error.
- **Idempotent on external_id.** A transaction whose `external_id` was
  recorded before is a `duplicate`: nothing changes and it is answered with
  the first result (its transaction and the redemptions its recording
  created). The same id with another event, customer or amount is a Conflict
  (`external_id_reused`).
- **A customer is a user or a bracelet.** A `bracelet_id` alone is looked up
  among the event's purchased bracelets (`purchase_bracelets`); with a user it
  is kept as named, unless it is a purchased bracelet of someone else.
- **One evaluation per batch.** Users are locked in id order before anything
  is written, every new spend is inserted, then `reward_evaluation.apply_rewards_for`
  evaluates each user once. A redemption answers the transaction that crossed
  the threshold when that one is new, else the user's latest new one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Event, PurchaseBracelet, RewardRedemption, SpendTransaction
from server.domain import checks, money, reward_evaluation
from server.errors import Conflict, FieldErrors, InvalidInput, NotFound, SocaError


@dataclass(frozen=True)
class SpendIn:
    """One transaction as the bar or bracelet system reports it."""

    amount: Decimal
    occurred_at: datetime
    external_id: str | None = None
    user_id: uuid.UUID | None = None
    bracelet_id: str | None = None
    currency: str | None = None


@dataclass
class SpendRecord:
    """A spend as recorded (a plain copy of its row: a batch makes hundreds)."""

    id: uuid.UUID
    event_id: uuid.UUID | None
    user_id: uuid.UUID | None
    amount: Decimal
    external_id: str | None
    django_bracelet_id: str | None
    currency: str | None
    occurred_at: datetime

    @classmethod
    def of(cls, row: SpendTransaction) -> SpendRecord:
        """The record of a stored row."""
        return cls(
            row.id,
            row.event_id,
            row.user_id,
            row.amount,
            row.external_id,
            row.django_bracelet_id,
            row.currency,
            row.occurred_at,
        )


@dataclass(frozen=True)
class SpendResult:
    """The answer to one transaction: recorded, a duplicate of an earlier one, or refused."""

    external_id: str | None
    transaction: SpendRecord | None = None
    redemptions: tuple[RewardRedemption, ...] = ()
    duplicate: bool = False
    error: SocaError | None = None

    @property
    def status(self) -> str:
        """`recorded`, `duplicate` or `rejected`."""
        if self.error is not None:
            return "rejected"
        return "duplicate" if self.duplicate else "recorded"


@dataclass
class _Pending:
    index: int
    item: SpendIn
    amount: Decimal
    user_id: uuid.UUID | None = None
    spend: SpendRecord | None = None
    first: SpendRecord | None = None  # the earlier transaction of a duplicate
    errors: list[SocaError] = field(default_factory=list)


def _checked(item: SpendIn, currency: str | None) -> Decimal:
    if not limits.TRANSACTION_AMOUNT.contains(item.amount):
        allowed = limits.TRANSACTION_AMOUNT.words()
        raise InvalidInput(f"amount must be {allowed}, with at most 2 decimals", code="bad_amount")
    errors: dict[str, str] = {}
    checks.text(errors, "external_id", item.external_id, limits.EXTERNAL_ID)
    checks.text(errors, "bracelet_id", item.bracelet_id, limits.BRACELET_ID)
    if errors:
        raise FieldErrors(errors)
    money.check_aware(item.occurred_at, "occurred_at")
    if item.user_id is None and item.bracelet_id is None:
        raise InvalidInput("name the customer: user_id or bracelet_id", code="no_customer")
    if currency is not None and item.currency is not None and item.currency != currency:
        raise InvalidInput(
            f"this event takes {currency}, not {item.currency}", code="wrong_currency"
        )
    return item.amount.quantize(limits.CENT)


def _validate(items: Sequence[SpendIn], currency: str | None) -> list[_Pending]:
    pending = []
    for index, item in enumerate(items):
        row = _Pending(index, item, Decimal(0), item.user_id)
        try:
            row.amount = _checked(item, currency)
        except SocaError as exc:
            row.errors.append(exc)
        pending.append(row)
    return pending


def _live(pending: Iterable[_Pending]) -> list[_Pending]:
    return [row for row in pending if not row.errors and row.first is None]


def _resolve_bracelets(session: Session, event_id: uuid.UUID, pending: list[_Pending]) -> None:
    wanted = {row.item.bracelet_id for row in _live(pending) if row.item.bracelet_id}
    owners: dict[str, uuid.UUID] = {}
    for chunk in _chunks(sorted(wanted)):
        query = select(PurchaseBracelet.bracelet_id, PurchaseBracelet.user_id).where(
            PurchaseBracelet.event_id == event_id, PurchaseBracelet.bracelet_id.in_(chunk)
        )
        owners.update((bracelet, user_id) for bracelet, user_id in session.execute(query))
    for row in _live(pending):
        bracelet = row.item.bracelet_id
        if bracelet is None:
            continue
        owner = owners.get(bracelet)
        if owner is None and row.user_id is not None:
            continue  # a bracelet the bar system issued itself: kept as it was named
        if owner is None:
            row.errors.append(
                NotFound(
                    f"bracelet {bracelet!r} is not one of this event's", code="unknown_bracelet"
                )
            )
        elif row.user_id is not None and row.user_id != owner:
            row.errors.append(
                InvalidInput(f"bracelet {bracelet!r} is another user's", code="bracelet_mismatch")
            )
        else:
            row.user_id = owner


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _find_existing(session: Session, pending: list[_Pending]) -> None:
    """Mark duplicates of earlier transactions, in the database or earlier in this batch."""
    wanted = sorted({row.item.external_id for row in _live(pending) if row.item.external_id})
    known: dict[str, SpendRecord] = {}
    for chunk in _chunks(wanted):
        query = select(SpendTransaction).where(SpendTransaction.external_id.in_(chunk))
        known.update(
            (spend.external_id or "", SpendRecord.of(spend)) for spend in session.scalars(query)
        )
    first_in_batch: dict[str, _Pending] = {}
    for row in _live(pending):
        external_id = row.item.external_id
        if external_id is None:
            continue
        if external_id in known:
            row.first = known[external_id]
        elif external_id in first_in_batch:
            row.first = _placeholder(first_in_batch[external_id])
        else:
            first_in_batch[external_id] = row


def _share_refusals(pending: list[_Pending]) -> None:
    """A repeat within the batch of a refused transaction is refused the same way."""
    refused = {id(row.spend): row.errors[0] for row in pending if row.errors and row.spend}
    for row in pending:
        if row.first is not None and id(row.first) in refused:
            row.first, row.errors = None, [refused[id(row.first)]]


def _placeholder(row: _Pending) -> SpendRecord:
    """The transaction an earlier row of the batch will insert (made now, inserted later)."""
    if row.spend is None:
        row.spend = _new_spend(row, row.user_id)
    return row.spend


def _new_spend(row: _Pending, user_id: uuid.UUID | None) -> SpendRecord:
    item = row.item
    return SpendRecord(
        uuid.uuid4(),
        None,
        user_id,
        row.amount,
        item.external_id,
        item.bracelet_id,
        item.currency,
        item.occurred_at,
    )


def _judge_duplicates(event_id: uuid.UUID, pending: list[_Pending]) -> None:
    for row in pending:
        first = row.first
        if row.errors or first is None:
            continue
        if (first.event_id or event_id, first.user_id, first.amount) != (
            event_id,
            row.user_id,
            row.amount,
        ):
            row.first = None
            row.errors.append(
                Conflict(
                    f"external_id {first.external_id!r} was already recorded for another spend",
                    code="external_id_reused",
                )
            )


def _insert(session: Session, event_id: uuid.UUID, fresh: list[_Pending]) -> None:
    """Insert the batch's new spends in one statement (one at a time if one collides)."""
    for row in fresh:
        if row.spend is None:
            row.spend = _new_spend(row, row.user_id)
        row.spend.event_id = event_id
    values = [_columns(row.spend) for row in fresh if row.spend is not None]
    if not values:
        return
    try:
        with session.begin_nested():
            session.execute(insert(SpendTransaction), values)
    except IntegrityError:  # an external_id another batch committed meanwhile: one at a time
        for row in fresh:
            _insert_one(session, event_id, row)


def _columns(spend: SpendRecord) -> dict[str, object]:
    return {
        "id": spend.id,
        "event_id": spend.event_id,
        "user_id": spend.user_id,
        "amount": spend.amount,
        "external_id": spend.external_id,
        "django_bracelet_id": spend.django_bracelet_id,
        "currency": spend.currency,
        "occurred_at": spend.occurred_at,
    }


def _insert_one(session: Session, event_id: uuid.UUID, row: _Pending) -> None:
    spend = _new_spend(row, row.user_id)
    spend.event_id = event_id
    try:
        with session.begin_nested():
            session.execute(insert(SpendTransaction), [_columns(spend)])
        row.spend = spend
    except IntegrityError:
        found = session.scalar(
            select(SpendTransaction).where(SpendTransaction.external_id == row.item.external_id)
        )
        if found is None:
            raise
        row.spend, row.first = None, SpendRecord.of(found)
        _judge_duplicates(event_id, [row])


def _first_results(
    session: Session, duplicates: list[_Pending]
) -> dict[uuid.UUID, tuple[RewardRedemption, ...]]:
    ids = sorted({row.first.id for row in duplicates if row.first is not None}, key=str)
    found: dict[uuid.UUID, list[RewardRedemption]] = {spend_id: [] for spend_id in ids}
    for start in range(0, len(ids), 500):
        query = (
            select(RewardRedemption)
            .where(RewardRedemption.spend_transaction_id.in_(ids[start : start + 500]))
            .order_by(RewardRedemption.qualified_at, RewardRedemption.id)
        )
        for redemption in session.scalars(query):
            if redemption.spend_transaction_id is not None:
                found[redemption.spend_transaction_id].append(redemption)
    return {spend_id: tuple(redemptions) for spend_id, redemptions in found.items()}


def _evaluate(
    session: Session, event_id: uuid.UUID, fresh: list[_Pending]
) -> dict[uuid.UUID, list[RewardRedemption]]:
    new_spends: dict[uuid.UUID, dict[uuid.UUID, datetime]] = {}
    for row in fresh:
        if row.spend is not None and row.user_id is not None:
            new_spends.setdefault(row.user_id, {})[row.spend.id] = row.spend.occurred_at
    created = reward_evaluation.apply_rewards_for(
        session, event_id=event_id, user_ids=list(new_spends), new_spends=new_spends
    )
    by_spend: dict[uuid.UUID, list[RewardRedemption]] = {}
    for redemptions in created.values():
        for redemption in redemptions:
            if redemption.spend_transaction_id is not None:
                by_spend.setdefault(redemption.spend_transaction_id, []).append(redemption)
    return by_spend


def record_spends(
    session: Session, *, event_id: uuid.UUID, items: Sequence[SpendIn], currency: str | None = None
) -> list[SpendResult]:
    """Record a batch of spends for one event; one result per item, in order (see notes)."""
    if session.get(Event, event_id) is None:
        raise NotFound(f"event {event_id} not found")
    pending = _validate(items, currency)
    _resolve_bracelets(session, event_id, pending)
    _find_existing(session, pending)  # a replay locks nothing: it only reads
    wanted = {row.user_id for row in _live(pending) if row.user_id is not None}
    existing = reward_evaluation.lock_users(session, wanted)
    for row in _live(pending):
        if row.user_id not in existing:
            row.errors.append(NotFound(f"user {row.user_id} not found", code="unknown_user"))
    _share_refusals(pending)
    _judge_duplicates(event_id, pending)
    fresh = _live(pending)
    _insert(session, event_id, fresh)
    by_spend = _evaluate(session, event_id, [row for row in fresh if row.first is None])
    firsts = _first_results(session, [row for row in pending if row.first is not None])
    return [_result(row, by_spend, firsts) for row in pending]


def _result(
    row: _Pending,
    by_spend: dict[uuid.UUID, list[RewardRedemption]],
    firsts: dict[uuid.UUID, tuple[RewardRedemption, ...]],
) -> SpendResult:
    external_id = row.item.external_id
    if row.errors:
        return SpendResult(external_id, error=row.errors[0])
    if row.first is not None:
        return SpendResult(external_id, row.first, firsts.get(row.first.id, ()), duplicate=True)
    assert row.spend is not None
    return SpendResult(external_id, row.spend, tuple(by_spend.get(row.spend.id, ())))


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
    """Record one spend (a batch of one); its error, if any, is raised."""
    item = SpendIn(
        amount=amount,
        occurred_at=occurred_at,
        external_id=external_id,
        user_id=user_id,
        bracelet_id=django_bracelet_id,
    )
    result = record_spends(session, event_id=event_id, items=[item])[0]
    if result.error is not None:
        raise result.error
    return result
