"""Manage Event's sales and feed: purchases (mark paid), live redemptions, integration credentials.

The Pre-event tab lists the event's purchases, newest first, with "Mark
paid" for those to be paid at the door; the Event tab shows, per reward, how
often it was earned and applied with the latest redemptions, and the
credentials the bar and bracelet systems use (a new token is shown once, on
the page that made it; revoking is immediate). Only the event's promoter
gets here (404 for anyone else's purchase or credential).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from server.api.deps import DbSession
from server.db.models import Event, utcnow
from server.domain import integrations, purchases, redemption_lists
from server.errors import FieldErrors, NotFound
from server.web.auth import CheckedForm, Promoter, field
from server.web.forms import done
from server.web.promoter import own_event
from server.web.render import render
from server.web.routing import page_router

router = page_router()


def manage_extras(session: Session, *, event: Event) -> dict[str, Any]:
    """What Manage Event adds: purchases, reward tallies and integration credentials."""
    return {
        "purchases": purchases.list_for_event(session, event_id=event.id),
        "tallies": redemption_lists.tallies(session, event_id=event.id),
        "integrations": integrations.list_for_event(session, event_id=event.id),
    }


def _manage_url(event: Event, tab: str) -> str:
    return f"/promoter/events/{event.id}/manage?tab={tab}"


def _id(raw: str, noun: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"We couldn't find that {noun}.") from None


@router.post("/promoter/purchases/{purchase_id}/paid")
def mark_paid(
    purchase_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """Mark a purchase of the promoter's event PAID (cash taken, or settled another way)."""
    found = purchases.get_purchase(session, purchase_id=_id(purchase_id, "purchase"))
    event = own_event(session, promoter, str(found.event_id))
    purchases.mark_paid(session, purchase_id=found.id, now=utcnow())
    return done(_manage_url(event, "packages") + f"#purchase-{found.id}", "Marked as paid.")


@router.post("/promoter/events/{event_id}/integrations")
def create_integration(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Make a credential for the bar or bracelet system; its token is shown on this page only."""
    event = own_event(session, promoter, event_id)
    try:
        issued = integrations.create(
            session,
            event_id=event.id,
            name=field(form, "name"),
            currency=(field(form, "currency") or "EUR").upper(),
            created_by_user_id=promoter.user_id,
        )
    except FieldErrors as exc:
        problems = " ".join(exc.fields.values())
        return done(_manage_url(event, "rewards") + "#integrations", f"Not made: {problems}")
    context = {"event": event, "credential": issued.credential, "token": issued.token}
    return render(request, "promoter/integration_token.html", context, status=201)


@router.post("/promoter/integrations/{integration_id}/revoke")
def revoke_integration(
    integration_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """Revoke a credential of the promoter's event: its token stops working at once."""
    credential = integrations.get(session, credential_id=_id(integration_id, "integration"))
    event = own_event(session, promoter, str(credential.event_id))
    integrations.revoke(session, credential_id=credential.id, now=utcnow())
    return done(_manage_url(event, "rewards") + "#integrations", f"Revoked {credential.name}.")
