"""A promoter's tickets: issue one to a buyer's email, upload a CSV of buyers (with a report
row by row), list them with their state, and revoke one (after a confirmation).

Whether the email already has an account is never shown: the page says the
same for a known and an unknown buyer (see `server.domain.accounts`).
"""

from __future__ import annotations

import uuid
from typing import Final

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import Event, Ticket, utcnow
from server.db.models.enums import TicketStatus
from server.domain import ticket_batches, tickets
from server.errors import FieldErrors, NotFound, SocaError
from server.web.auth import CheckedForm, Promoter, field
from server.web.forms import confirm, done
from server.web.promoter import own_event
from server.web.render import render
from server.web.routing import page_router

router = page_router()

PAGE_SIZE: Final = 100
#: The largest CSV accepted (about 10,000 rows of email and name).
MAX_UPLOAD_BYTES: Final = 1024 * 1024


def _page(
    request: Request,
    session: Session,
    event: Event,
    *,
    page: int = 1,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    report: list[ticket_batches.RowResult] | None = None,
    upload_error: str = "",
    status: int = 200,
) -> Response:
    total = tickets.count_for_event(session, event_id=event.id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    lines = tickets.list_for_event(
        session, event_id=event.id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    context = {
        "event": event,
        "lines": lines,
        "total": total,
        "page": page,
        "pages": pages,
        "values": values or {},
        "errors": errors or {},
        "report": report,
        "issued": sum(1 for row in report or () if row.ok),
        "upload_error": upload_error,
    }
    return render(request, "promoter/tickets.html", context, status=status)


@router.get("/promoter/events/{event_id}/tickets")
def ticket_list(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, page: int = 1
) -> Response:
    """The event's tickets (newest first, 100 a page) and the forms that issue more."""
    return _page(request, session, own_event(session, promoter, event_id), page=page)


@router.post("/promoter/events/{event_id}/tickets")
def issue_one(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Issue one ticket to a buyer's email."""
    event = own_event(session, promoter, event_id)
    values = {"email": field(form, "email"), "holder_name": field(form, "holder_name")}
    try:
        with session.begin_nested():
            ticket = tickets.issue_to_email(
                session, event_id=event.id, email=values["email"], holder_name=values["holder_name"]
            )
    except FieldErrors as exc:
        return _page(request, session, event, values=values, errors=exc.fields, status=422)
    return done(
        f"/promoter/events/{event.id}/tickets",
        f"Ticket {ticket.code} issued to {values['email'].lower()} ({ticket.holder_name}).",
    )


def _read_upload(upload: object) -> str:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise SocaError("Choose a CSV file to upload.")
    try:
        raw = upload.file.read(MAX_UPLOAD_BYTES + 1)
    finally:
        upload.file.close()  # the form's own temporary file: nothing else closes it
    if len(raw) > MAX_UPLOAD_BYTES:
        raise SocaError("That file is larger than 1 MB; split it into smaller files.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # what spreadsheet programs often save


@router.post("/promoter/events/{event_id}/tickets/csv")
def issue_from_csv(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Issue a ticket per row of an uploaded CSV; the page reports every row."""
    event = own_event(session, promoter, event_id)
    try:
        rows = ticket_batches.parse(_read_upload(form.get("file")))
    except SocaError as exc:
        return _page(request, session, event, upload_error=exc.message, status=422)
    report = ticket_batches.issue_all(session, event_id=event.id, rows=rows)
    return _page(request, session, event, report=report)


def _own_ticket(session: Session, principal: Principal, raw_id: str) -> tuple[Ticket, Event]:
    try:
        ticket = session.get(Ticket, uuid.UUID(raw_id))
    except ValueError:
        ticket = None
    if ticket is None:
        raise NotFound("We couldn't find that ticket.")
    try:
        return ticket, own_event(session, principal, str(ticket.event_id))
    except NotFound:
        raise NotFound("We couldn't find that ticket.") from None


@router.get("/promoter/tickets/{ticket_id}/revoke")
def revoke_confirm(
    request: Request, ticket_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """Ask before revoking: the door will refuse the ticket from its next sync."""
    ticket, event = _own_ticket(session, promoter, ticket_id)
    back = f"/promoter/events/{event.id}/tickets"
    if ticket.status == TicketStatus.REVOKED:
        return done(back, f"Ticket {ticket.code} was already revoked.")
    return confirm(
        request,
        title=f"Revoke ticket {ticket.code}?",
        lines=[
            f"{ticket.holder_name}'s ticket for {event.name} stops working: door devices refuse "
            "it as soon as they next sync.",
            "This cannot be undone; issue a new ticket if you change your mind.",
        ],
        action=f"/promoter/tickets/{ticket.id}/revoke",
        button="Revoke the ticket",
        back=back,
    )


@router.post("/promoter/tickets/{ticket_id}/revoke")
def revoke(ticket_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm) -> Response:
    """Revoke the ticket."""
    ticket, event = _own_ticket(session, promoter, ticket_id)
    tickets.revoke_ticket(session, ticket_id=ticket.id, now=utcnow())
    return done(
        f"/promoter/events/{event.id}/tickets",
        f"Ticket {ticket.code} ({ticket.holder_name}) is revoked; the door will refuse it.",
    )
