"""The bar and bracelet systems' API (issue 18): credentials, the spend feed, applying rewards.

- `POST /api/v1/events/{event_id}/integrations {"name", "currency"?}` (HQ, the
  event's promoter) → 201 `{"id", "token", ...}`; the token is shown once.
  `DELETE /api/v1/integrations/{id}` revokes it (again: no change).
- With the token as bearer: `POST /api/v1/integrations/spend
  {"transactions": [...]}` (at most `limits.SPEND_BATCH`) answers each
  transaction on its own: `recorded` with the redemptions it caused,
  `duplicate` (its external id was recorded before: the first result again)
  or `rejected` with its 4xx `http_status` and error; a rejected transaction
  writes nothing. `GET /api/v1/integrations/redemptions?status=pending`
  lists what the bracelets still need; `POST .../redemptions/{id}/applied`
  confirms one (idempotent).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from core import limits
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.integration_auth import integration
from server.api.schemas import RequestModel
from server.db.models import EventReward, IntegrationCredential, RewardRedemption, utcnow
from server.domain import integrations
from server.domain.spend import SpendIn, SpendResult, record_spends
from server.errors import FieldErrors, NotFound, SocaError

router = APIRouter(tags=["integrations"], route_class=PolicyRoute)
Owner = Annotated[Principal, allow(Role.HQ, Role.PROMOTER)]
System = Annotated[IntegrationCredential, integration()]

_TRANSACTION: dict[str, Any] = {
    "external_id": "bar-7-000123",
    "bracelet_id": "BR-8F3A21C9D0",
    "amount": "12.50",
    "currency": "EUR",
    "occurred_at": "2026-02-14T23:41:07Z",
}
_REDEMPTION: dict[str, Any] = {
    "id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "reward_id": "6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c",
    "reward_name": "Spend 150€, get 10€ free recharge",
    "reward_type": "RECHARGE",
    "reward_amount": "10.00",
    "user_id": "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60",
    "bracelet_id": "BR-8F3A21C9D0",
    "trigger_amount": "152.50",
    "trigger_transactions": 9,
    "qualified_at": "2026-02-14T23:41:07Z",
    "applied_at": None,
    "spend_transaction_id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
}


class IntegrationCreate(RequestModel):
    """A name for the system, and the currency its amounts are in."""

    name: Annotated[str, limits.INTEGRATION_NAME]
    currency: Annotated[str, limits.CURRENCY] = "EUR"

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Main bar POS"}]})


class IntegrationIssued(BaseModel):
    """The new credential; `token` is shown this once."""

    id: uuid.UUID
    event_id: uuid.UUID
    name: str
    currency: str
    token: str
    created_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                    "event_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                    "name": "Main bar POS",
                    "currency": "EUR",
                    "token": "soca_int_q8Vw1Kx9...",
                    "created_at": "2026-02-01T10:00:00Z",
                }
            ]
        }
    )


class SpendTransactionIn(RequestModel):
    """One transaction: the customer by `user_id` or `bracelet_id`."""

    external_id: Annotated[str, limits.EXTERNAL_ID]
    user_id: uuid.UUID | None = None
    bracelet_id: Annotated[str, limits.BRACELET_ID] | None = None
    amount: Annotated[Decimal, limits.TRANSACTION_AMOUNT]
    currency: Annotated[str, limits.CURRENCY]
    occurred_at: Annotated[AwareDatetime, limits.DATE_TIME]


class SpendBatch(RequestModel):
    """Transactions, each checked on its own (a bad one is answered, never the whole batch)."""

    transactions: Annotated[
        list[dict[str, Any]], Field(min_length=1, max_length=limits.SPEND_BATCH)
    ]

    model_config = ConfigDict(json_schema_extra={"examples": [{"transactions": [_TRANSACTION]}]})


class RedemptionView(BaseModel):
    """A reward a customer earned; `applied_at` once the bracelet system applied it."""

    id: uuid.UUID
    reward_id: uuid.UUID
    reward_name: str
    reward_type: str
    reward_amount: Decimal
    user_id: uuid.UUID
    bracelet_id: str | None
    trigger_amount: Decimal | None
    trigger_transactions: int | None
    qualified_at: datetime
    applied_at: datetime | None
    spend_transaction_id: uuid.UUID | None

    model_config = ConfigDict(json_schema_extra={"examples": [_REDEMPTION]})


class ErrorView(BaseModel):
    """Why a transaction was refused."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class SpendResultView(BaseModel):
    """The answer to one transaction, in the order sent."""

    index: int
    external_id: str | None
    status: Literal["recorded", "duplicate", "rejected"]
    http_status: int
    transaction_id: uuid.UUID | None
    user_id: uuid.UUID | None
    redemptions: list[RedemptionView]
    error: ErrorView | None


class SpendResponse(BaseModel):
    """One result per transaction, and how many of each."""

    recorded: int
    duplicates: int
    rejected: int
    results: list[SpendResultView]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recorded": 1,
                    "duplicates": 0,
                    "rejected": 0,
                    "results": [
                        {
                            "index": 0,
                            "external_id": "bar-7-000123",
                            "status": "recorded",
                            "http_status": 201,
                            "transaction_id": _REDEMPTION["spend_transaction_id"],
                            "user_id": _REDEMPTION["user_id"],
                            "redemptions": [_REDEMPTION],
                            "error": None,
                        }
                    ],
                }
            ]
        }
    )


class AppliedRequest(RequestModel):
    """The bracelet the reward went onto, when the system knows it."""

    bracelet_id: Annotated[str, limits.BRACELET_ID] | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"bracelet_id": "BR-8F3A21C9D0"}]})


# ---------------------------------------------------------------------------- views


def _rewards(session: Session, redemptions: list[RewardRedemption]) -> dict[uuid.UUID, EventReward]:
    wanted = {r.reward_id for r in redemptions}
    return {reward_id: session.get_one(EventReward, reward_id) for reward_id in wanted}


def _redemption_view(redemption: RewardRedemption, reward: EventReward) -> RedemptionView:
    return RedemptionView(
        id=redemption.id,
        reward_id=redemption.reward_id,
        reward_name=reward.name,
        reward_type=reward.reward_type,
        reward_amount=redemption.reward_amount,
        user_id=redemption.user_id,
        bracelet_id=redemption.django_bracelet_id,
        trigger_amount=redemption.trigger_amount,
        trigger_transactions=redemption.trigger_transactions,
        qualified_at=redemption.qualified_at,
        applied_at=redemption.applied_at,
        spend_transaction_id=redemption.spend_transaction_id,
    )


def redemption_views(session: Session, redemptions: list[RewardRedemption]) -> list[RedemptionView]:
    """Redemptions as the integration API shows them."""
    rewards = _rewards(session, redemptions)
    return [_redemption_view(r, rewards[r.reward_id]) for r in redemptions]


def _error(exc: SocaError) -> ErrorView:
    return ErrorView(code=exc.code, message=exc.message, fields=getattr(exc, "fields", None))


def _result_view(
    index: int, result: SpendResult, rewards: dict[uuid.UUID, EventReward]
) -> SpendResultView:
    spend = result.transaction
    return SpendResultView(
        index=index,
        external_id=result.external_id,
        status=result.status,
        http_status=result.error.status if result.error else (200 if result.duplicate else 201),
        transaction_id=spend.id if spend is not None else None,
        user_id=spend.user_id if spend is not None else None,
        redemptions=[_redemption_view(r, rewards[r.reward_id]) for r in result.redemptions],
        error=_error(result.error) if result.error else None,
    )


# --------------------------------------------------------------------------- parsing


def _parse(raw: dict[str, Any]) -> SpendIn | SocaError:
    try:
        item = SpendTransactionIn.model_validate(raw)
    except ValidationError as exc:
        fields = {
            ".".join(str(part) for part in error["loc"]) or "transaction": error["msg"]
            for error in exc.errors()
        }
        return FieldErrors(fields, code="invalid_transaction")
    return SpendIn(
        amount=item.amount,
        occurred_at=item.occurred_at,
        external_id=item.external_id,
        user_id=item.user_id,
        bracelet_id=item.bracelet_id,
        currency=item.currency.upper(),
    )


def _named(raw: dict[str, Any]) -> str | None:
    """The external id an unreadable transaction gave, if it is text (cut to its limit)."""
    named = raw.get("external_id")
    return named[: limits.EXTERNAL_ID.max_length] if isinstance(named, str) else None


# ---------------------------------------------------------------------------- routes


@router.post("/api/v1/events/{event_id}/integrations", status_code=201)
def create_integration(
    event_id: uuid.UUID,
    session: DbSession,
    caller: Owner,
    body: Annotated[
        IntegrationCreate, Body(openapi_examples={"bar": {"value": {"name": "Main bar POS"}}})
    ],
) -> IntegrationIssued:
    """A credential for one of the caller's events; the token is shown this once."""
    event = tenancy.event(session, caller, event_id)
    issued = integrations.create(
        session,
        event_id=event.id,
        name=body.name,
        currency=body.currency,
        created_by_user_id=caller.user_id,
    )
    row = issued.credential
    return IntegrationIssued(
        id=row.id,
        event_id=row.event_id,
        name=row.name,
        currency=row.currency,
        token=issued.token,
        created_at=row.created_at,
    )


@router.delete("/api/v1/integrations/{integration_id}", status_code=204, response_class=Response)
def revoke_integration(integration_id: uuid.UUID, session: DbSession, caller: Owner) -> None:
    """Revoke a credential of one of the caller's events (again: no change)."""
    credential = integrations.get(session, credential_id=integration_id)
    try:
        tenancy.event(session, caller, credential.event_id)
    except NotFound:
        raise NotFound(f"There is no integration {integration_id}.") from None
    integrations.revoke(session, credential_id=credential.id, now=utcnow())


@router.post("/api/v1/integrations/spend")
def post_spend(
    session: DbSession,
    system: System,
    body: Annotated[
        SpendBatch, Body(openapi_examples={"one": {"value": {"transactions": [_TRANSACTION]}}})
    ],
) -> SpendResponse:
    """Record spend for the credential's event; each transaction is answered on its own."""
    parsed = [_parse(raw) for raw in body.transactions]
    items = [item for item in parsed if isinstance(item, SpendIn)]
    recorded = iter(
        record_spends(session, event_id=system.event_id, items=items, currency=system.currency)
    )
    results = [
        next(recorded) if isinstance(item, SpendIn) else SpendResult(_named(raw), error=item)
        for raw, item in zip(body.transactions, parsed, strict=True)
    ]
    rewards = _rewards(session, [r for result in results for r in result.redemptions])
    views = [_result_view(index, result, rewards) for index, result in enumerate(results)]
    return SpendResponse(
        recorded=sum(view.status == "recorded" for view in views),
        duplicates=sum(view.status == "duplicate" for view in views),
        rejected=sum(view.status == "rejected" for view in views),
        results=views,
    )


@router.get("/api/v1/integrations/redemptions")
def list_redemptions(
    session: DbSession, system: System, status: Literal["pending", "all"] = "all"
) -> list[RedemptionView]:
    """The event's redemptions (`status=pending`: those not applied yet), oldest first."""
    if status == "pending":
        found = integrations.pending_redemptions(session, credential=system)
    else:
        found = integrations.redemptions(session, credential=system)
    return redemption_views(session, found)


@router.post("/api/v1/integrations/redemptions/{redemption_id}/applied")
def redemption_applied(
    redemption_id: uuid.UUID,
    session: DbSession,
    system: System,
    body: Annotated[
        AppliedRequest | None,
        Body(openapi_examples={"bracelet": {"value": {"bracelet_id": "BR-8F3A21C9D0"}}}),
    ] = None,
) -> RedemptionView:
    """Confirm a redemption applied to a bracelet; confirming again changes nothing."""
    applied = integrations.mark_applied(
        session,
        credential=system,
        redemption_id=redemption_id,
        now=utcnow(),
        bracelet_id=body.bracelet_id if body is not None else None,
    )
    return redemption_views(session, [applied])[0]
