"""Tickets: issue one to a buyer's email with its signed QR token, or revoke it.

A ticket goes to the account with that email, or is held for whoever
registers with it later (`server.domain.accounts`); the response is the same
either way and shows only what the promoter typed, never the account's name.
Kiosks learn a revocation in their next pull.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import ConfigDict
from sqlalchemy.orm import Session

from core import limits
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import RequestModel, View
from server.db.models import Ticket, User, utcnow
from server.domain import tickets

router = APIRouter(tags=["tickets"], route_class=PolicyRoute)
Owner = Annotated[Principal, allow(Role.HQ, Role.PROMOTER)]

_EMAIL = "kesha@example.com"


class TicketIssue(RequestModel):
    """The buyer's email; the holder name (for the door's look-up) defaults to the email."""

    email: Annotated[str, limits.EMAIL]
    holder_name: Annotated[str, limits.HOLDER_NAME] | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": _EMAIL, "holder_name": "Kesha Baptiste"}]}
    )


class TicketView(View):
    """A ticket; `qr` is the exact text its QR code carries; `email` is where it went."""

    id: uuid.UUID
    event_id: uuid.UUID
    email: str
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
                    "email": _EMAIL,
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
    def of(cls, session: Session, ticket: Ticket) -> TicketView:
        """The view of a ticket row."""
        holder = session.get(User, ticket.user_id)
        return cls(
            id=ticket.id,
            event_id=ticket.event_id,
            email=holder.email if holder is not None and holder.email else "",
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
    body: Annotated[TicketIssue, Body(openapi_examples={"fan": {"value": {"email": _EMAIL}}})],
) -> TicketView:
    """Issue a ticket for one of the caller's events to a buyer's email."""
    event = tenancy.event(session, caller, event_id)
    ticket = tickets.issue_to_email(
        session, event_id=event.id, email=body.email, holder_name=body.holder_name
    )
    return TicketView.of(session, ticket)


@router.post("/api/v1/tickets/{ticket_id}/revoke")
def revoke_ticket(ticket_id: uuid.UUID, session: DbSession, caller: Owner) -> TicketView:
    """Revoke a ticket of one of the caller's events (again: no change)."""
    ticket = tenancy.ticket(session, caller, ticket_id)
    return TicketView.of(session, tickets.revoke_ticket(session, ticket_id=ticket.id, now=utcnow()))
