"""Per-event passport billing (seed 001 §3.2): read an event's bill; HQ moves its status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import ConfigDict

from core import limits
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import RequestModel, View
from server.db.models.enums import BillingStatus
from server.domain import billing

router = APIRouter(tags=["billing"], route_class=PolicyRoute)

_VIEW_EXAMPLE: dict[str, Any] = {
    "id": "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e",
    "event_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "promoter_id": "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c",
    "billing_model": "PER_EVENT",
    "fee_amount_cents": 1999,
    "currency": "USD",
    "status": "DRAFT",
    "notes": None,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z",
}


class BillingView(View):
    """An event's passport bill."""

    id: uuid.UUID
    event_id: uuid.UUID
    promoter_id: uuid.UUID | None
    billing_model: str
    fee_amount_cents: int | None
    currency: str
    status: str
    notes: str | None
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(json_schema_extra={"examples": [_VIEW_EXAMPLE]})


class StatusChange(RequestModel):
    """The status to move the bill to, and optional notes that replace the old ones."""

    status: BillingStatus
    notes: Annotated[str, limits.BILLING_NOTES] | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "WAIVED", "notes": "Beta promoter"}]}
    )


@router.get("/api/v1/events/{event_id}/billing")
def get_event_billing(
    event_id: uuid.UUID,
    session: DbSession,
    caller: Annotated[Principal, allow(Role.HQ, Role.PROMOTER)],
) -> BillingView:
    """The event's bill (404 until the passport is enabled for it)."""
    return BillingView.model_validate(tenancy.billing_for_event(session, caller, event_id))


@router.post("/api/v1/billing/{billing_id}/status")
def change_status(
    billing_id: uuid.UUID,
    session: DbSession,
    _caller: Annotated[Principal, allow(Role.HQ)],
    body: Annotated[
        StatusChange,
        Body(openapi_examples={"ask": {"value": {"status": "PENDING_PAYMENT"}}}),
    ],
) -> BillingView:
    """HQ: DRAFT → PENDING_PAYMENT → PAID, or unpaid → WAIVED (409 naming both otherwise)."""
    row = billing.change_status(
        session, billing_id=billing_id, new_status=body.status, notes=body.notes
    )
    return BillingView.model_validate(row)
