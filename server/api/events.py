"""Events (seed 000 columns): create, list, read, and switch Soca Passport on.

An approved promoter creates events for itself (a `promoter_id` naming
another promoter is a 422); HQ for any promoter or none. Enabling the
passport creates the event's DRAFT bill and returns it; only HQ sets a fee.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import AwareDatetime, ConfigDict

from core import limits
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.billing import BillingView
from server.api.deps import DbSession
from server.api.schemas import RequestModel, View
from server.domain import events
from server.errors import Forbidden

router = APIRouter(prefix="/api/v1/events", tags=["events"], route_class=PolicyRoute)
Owner = Annotated[Principal, allow(Role.HQ, Role.PROMOTER)]

_EXAMPLE: dict[str, Any] = {
    "name": "Soca Brainwash Tonight",
    "starts_at": "2026-02-14T21:00:00-04:00",
    "ends_at": "2026-02-15T05:00:00-04:00",
    "venue": "Queen's Park Savannah",
    "city": "Port of Spain",
    "country_code": "TT",
    "carnival_circuit": "Trinidad Carnival",
    "stamp_points_default": 100,
    "time_zone": "America/Port_of_Spain",
}


class EventCreate(RequestModel):
    """A new event; `promoter_id` is HQ's choice (a promoter's events are always its own)."""

    name: Annotated[str, limits.EVENT_NAME]
    starts_at: Annotated[AwareDatetime, limits.DATE_TIME]
    ends_at: Annotated[AwareDatetime, limits.DATE_TIME] | None = None
    venue: Annotated[str, limits.VENUE] | None = None
    city: Annotated[str, limits.CITY] | None = None
    country_code: Annotated[str, limits.COUNTRY_CODE] | None = None
    carnival_circuit: Annotated[str, limits.CARNIVAL_CIRCUIT] | None = None
    stamp_points_default: Annotated[int, limits.STAMP_POINTS] = 50
    time_zone: Annotated[str, limits.TIME_ZONE] | None = None
    promoter_id: uuid.UUID | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class EnablePassport(RequestModel):
    """HQ may set the fee when enabling; a promoter sends `{}` or no body."""

    fee_amount_cents: Annotated[int, limits.FEE_CENTS] | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"fee_amount_cents": 1999}]})


class EventView(View):
    """An event with its passport settings."""

    id: uuid.UUID
    promoter_id: uuid.UUID | None
    name: str
    venue: str | None
    city: str | None
    starts_at: datetime
    ends_at: datetime | None
    is_soca_passport_enabled: bool
    stamp_points_default: int
    country_code: str | None
    carnival_circuit: str | None
    time_zone: str | None
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                    "promoter_id": "2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c",
                    "is_soca_passport_enabled": True,
                    "created_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                }
            ]
        }
    )


@router.post("", status_code=201)
def create_event(
    session: DbSession,
    caller: Owner,
    body: Annotated[EventCreate, Body(openapi_examples={"fete": {"value": _EXAMPLE}})],
) -> EventView:
    """Create an event for the calling promoter (HQ: for any promoter, or a house event)."""
    owner = tenancy.owner_for_write(caller, body.promoter_id)
    created = events.create_event(
        session, promoter_id=owner, **body.model_dump(exclude={"promoter_id"})
    )
    return EventView.model_validate(created)


@router.get("")
def list_events(session: DbSession, caller: Owner) -> list[EventView]:
    """The caller's events (HQ: every event), earliest first."""
    return [EventView.model_validate(row) for row in tenancy.visible_events(session, caller)]


@router.get("/{event_id}")
def get_event(event_id: uuid.UUID, session: DbSession, caller: Owner) -> EventView:
    """One event (404 for a missing id or another promoter's)."""
    return EventView.model_validate(tenancy.event(session, caller, event_id))


@router.post("/{event_id}/enable-passport")
def enable_passport(
    event_id: uuid.UUID,
    session: DbSession,
    caller: Owner,
    body: Annotated[
        EnablePassport | None,
        Body(
            openapi_examples={
                "promoter": {"value": {}},
                "hq": {"value": {"fee_amount_cents": 1999}},
            }
        ),
    ] = None,
) -> BillingView:
    """Turn Soca Passport on; returns the event's bill (DRAFT when new)."""
    event = tenancy.event(session, caller, event_id)
    fee = body.fee_amount_cents if body is not None else None
    if fee is not None and caller.role != Role.HQ:
        raise Forbidden("Only HQ sets the passport fee.")
    row = events.enable_passport(session, event_id=event.id, fee_amount_cents=fee)
    return BillingView.model_validate(row)
