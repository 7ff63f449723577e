"""Seed 003's event-time rewards: `GET/POST /api/v1/rewards`, `GET/PUT/DELETE /api/v1/rewards/{id}`.

Same conventions as packages: camelCase, money as decimal strings, the
seed's error codes, a promoter sees its own events' rewards, HQ all, PUT
changes only the fields it sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Body, Query, Response
from pydantic import AwareDatetime, ConfigDict

from core import limits
from core.reasons import Reason
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import CamelView, PartialUpdate, SeedRequest
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.domain import event_rewards

router = APIRouter(prefix="/api/v1/rewards", tags=["rewards"], route_class=PolicyRoute)
Writer = Annotated[Principal, allow(Role.HQ, Role.PROMOTER)]

_DESCRIPTION = Annotated[str, limits.DESCRIPTION]
_REDEMPTIONS = Annotated[int, limits.REDEMPTIONS]
_AMOUNTS = dict.fromkeys(
    ("reward_amount", "minimum_spend", "minimum_transactions"), Reason.REWARD_INVALID_AMOUNT
)
_EXAMPLE: dict[str, Any] = {
    "eventId": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "name": "Spend 150€, get 10€ free recharge",
    "triggerType": "MINIMUM_SPEND",
    "minimumSpend": "150.00",
    "rewardType": "RECHARGE",
    "rewardAmount": "10.00",
    "maxRedemptionsPerUser": 1,
    "maxTotalRedemptions": 500,
    "activeFrom": "2026-02-14T20:00:00Z",
    "activeUntil": "2026-02-15T06:00:00Z",
    "status": "ACTIVE",
}


class RewardCreate(SeedRequest):
    """A new reward for one of the caller's events."""

    FIELD_CODES: ClassVar[Mapping[str, str]] = _AMOUNTS

    event_id: uuid.UUID
    name: Annotated[str, limits.REWARD_NAME]
    description: _DESCRIPTION | None = None
    trigger_type: RewardTriggerType
    minimum_spend: Annotated[Decimal, limits.SPEND_AMOUNT] | None = None
    minimum_transactions: Annotated[int, limits.MIN_TRANSACTIONS] | None = None
    reward_type: RewardType
    reward_amount: Annotated[Decimal, limits.REWARD_AMOUNT]
    max_redemptions_per_user: _REDEMPTIONS | None = 1
    max_total_redemptions: _REDEMPTIONS | None = None
    active_from: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    active_until: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    status: RewardStatus = RewardStatus.DRAFT

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class RewardUpdate(PartialUpdate, SeedRequest):
    """The fields to change."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"name", "trigger_type", "reward_type", "reward_amount", "status"}
    )
    FIELD_CODES: ClassVar[Mapping[str, str]] = _AMOUNTS

    name: Annotated[str, limits.REWARD_NAME] | None = None
    description: _DESCRIPTION | None = None
    trigger_type: RewardTriggerType | None = None
    minimum_spend: Annotated[Decimal, limits.SPEND_AMOUNT] | None = None
    minimum_transactions: Annotated[int, limits.MIN_TRANSACTIONS] | None = None
    reward_type: RewardType | None = None
    reward_amount: Annotated[Decimal, limits.REWARD_AMOUNT] | None = None
    max_redemptions_per_user: _REDEMPTIONS | None = None
    max_total_redemptions: _REDEMPTIONS | None = None
    active_from: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    active_until: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    status: RewardStatus | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "INACTIVE"}]})


class RewardView(CamelView):
    """A reward and how often it has been given."""

    id: uuid.UUID
    event_id: uuid.UUID
    promoter_id: uuid.UUID | None
    name: str
    description: str | None
    status: str
    trigger_type: str
    minimum_spend: Decimal | None
    minimum_transactions: int | None
    reward_type: str
    reward_amount: Decimal | None
    max_redemptions_per_user: int | None
    max_total_redemptions: int | None
    current_redemptions: int
    active_from: datetime | None
    active_until: datetime | None
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "id": "6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c",
                    "promoterId": "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c",
                    "currentRedemptions": 37,
                    "createdAt": "2026-01-01T00:00:00Z",
                    "updatedAt": "2026-01-02T00:00:00Z",
                }
            ]
        }
    )


@router.get("")
def list_rewards(
    session: DbSession,
    caller: Writer,
    event_id: Annotated[uuid.UUID | None, Query(alias="eventId")] = None,
    status: RewardStatus | None = None,
) -> list[RewardView]:
    """Rewards of the caller's events (HQ: all), optionally of one event and one status."""
    scope = tenancy.listing_events(session, caller, event_id)
    if scope is None:
        found = event_rewards.list_(session, status=status)
    else:
        found = [
            r for one in scope for r in event_rewards.list_(session, event_id=one, status=status)
        ]
    return [RewardView.model_validate(reward) for reward in found]


@router.get("/{reward_id}")
def get_reward(reward_id: uuid.UUID, session: DbSession, caller: Writer) -> RewardView:
    """One reward (REWARD_NOT_FOUND for a missing id or another promoter's)."""
    return RewardView.model_validate(tenancy.reward(session, caller, reward_id))


@router.post("", status_code=201)
def create_reward(
    session: DbSession,
    caller: Writer,
    body: Annotated[RewardCreate, Body(openapi_examples={"spend": {"value": _EXAMPLE}})],
) -> RewardView:
    """Create a reward for one of the caller's events."""
    event = tenancy.event(session, caller, body.event_id)
    created = event_rewards.create(
        session, event_id=event.id, **body.model_dump(exclude={"event_id"})
    )
    return RewardView.model_validate(created)


@router.put("/{reward_id}")
def update_reward(
    reward_id: uuid.UUID,
    session: DbSession,
    caller: Writer,
    body: Annotated[
        RewardUpdate, Body(openapi_examples={"pause": {"value": {"status": "INACTIVE"}}})
    ],
) -> RewardView:
    """Change the fields sent."""
    reward = tenancy.reward(session, caller, reward_id)
    updated = event_rewards.update(session, reward_id=reward.id, **body.changes())
    return RewardView.model_validate(updated)


@router.delete("/{reward_id}", status_code=204, response_class=Response)
def delete_reward(reward_id: uuid.UUID, session: DbSession, caller: Writer) -> None:
    """Delete a reward nobody earned (409 `reward_has_redemptions` after one)."""
    event_rewards.delete(session, reward_id=tenancy.reward(session, caller, reward_id).id)
