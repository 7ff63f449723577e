"""Tickets: issue one with its signed QR token, or revoke it (kiosks learn it in their pull)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import ConfigDict

from core import limits
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import RequestModel, View
from server.db.models import Ticket, utcnow
from server.domain import tickets

router = APIRouter(tags=["tickets"], route_class=PolicyRoute)
Owner = Annotated[Principal, allow(Role.HQ, Role.PROMOTER)]

_USER_ID = "7f1c2a9e-3b4d-4c5e-8f6a-1b2c3d4e5f60"


class TicketIssue(RequestModel):
    """Who the ticket is for; the holder name defaults to the user's display name."""

    user_id: uuid.UUID
    holder_name: Annotated[str, limits.HOLDER_NAME] | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user_id": _USER_ID, "holder_name": "Kesha Baptiste"}]}
    )


class TicketView(View):
    """A ticket; `qr` is the exact text its QR code carries."""

    id: uuid.UUID
    event_id: uuid.UUID
    user_id: uuid.UUID
    holder_name: str
    code: str
    status: str
    qr: str
    revoked_at: datetime | None
    created_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
                    "event_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                    "user_id": _USER_ID,
                    "holder_name": "Kesha Baptiste",
                    "code": "K7Q2-MX9D",
                    "status": "VALID",
                    "qr": "1" + "0" * 249,
                    "revoked_at": None,
                    "created_at": "2026-01-05T10:00:00Z",
                }
            ]
        }
    )

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        """The view of a ticket row."""
        return cls(
            id=ticket.id,
            event_id=ticket.event_id,
            user_id=ticket.user_id,
            holder_name=ticket.holder_name,
            code=ticket.code,
            status=ticket.status,
            qr=ticket.qr_token,
            revoked_at=ticket.revoked_at,
            created_at=ticket.created_at,
        )


@router.post("/api/v1/events/{event_id}/tickets", status_code=201)
def issue_ticket(
    event_id: uuid.UUID,
    session: DbSession,
    caller: Owner,
    body: Annotated[TicketIssue, Body(openapi_examples={"fan": {"value": {"user_id": _USER_ID}}})],
) -> TicketView:
    """Issue a ticket for one of the caller's events."""
    event = tenancy.event(session, caller, event_id)
    ticket = tickets.issue_ticket(
        session, event_id=event.id, user_id=body.user_id, holder_name=body.holder_name
    )
    return TicketView.of(ticket)


@router.post("/api/v1/tickets/{ticket_id}/revoke")
def revoke_ticket(ticket_id: uuid.UUID, session: DbSession, caller: Owner) -> TicketView:
    """Revoke a ticket of one of the caller's events (again: no change)."""
    ticket = tenancy.ticket(session, caller, ticket_id)
    return TicketView.of(tickets.revoke_ticket(session, ticket_id=ticket.id, now=utcnow()))
