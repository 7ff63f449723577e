"""Manual look-up at the door: find a ticket by name, handle or ticket code, offline."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core import limits
from core.ticket_codes import ticket_code_key
from kiosk.services.scanning import storage_errors
from kiosk.store.cache import Cache
from kiosk.store.outbox import Outbox

MAX_QUERY_LENGTH = limits.SEARCH_QUERY.max_length


def looks_like_ticket_code(text: str) -> bool:
    """True for a printed ticket code in any case or spacing (`un49-y3nq`): Enter scans it."""
    return ticket_code_key(text) is not None


@dataclass(frozen=True, slots=True)
class TicketMatch:
    """A ticket found by search, with whether it is already checked in (here or by the server)."""

    ticket_id: uuid.UUID
    holder_name: str | None
    handle: str | None
    code: str | None
    revoked: bool
    checked_in_at: datetime | None
    checked_in_gate: str | None


class TicketSearch:
    """Search one event's cached tickets; belongs to the thread that opened its store objects."""

    def __init__(self, *, outbox: Outbox, cache: Cache, event_id: uuid.UUID) -> None:
        self.outbox = outbox
        self.cache = cache
        self.event_id = event_id

    @storage_errors
    def search(self, query: str, *, limit: int = 20) -> list[TicketMatch]:
        """Tickets whose name, handle or code contain every word typed; exact code first."""
        if not isinstance(query, str):
            return []
        text = limits.without_control(query.strip(), limits.SEARCH_QUERY).strip()
        if not text:
            return []
        matches = []
        for ticket in self.cache.search_tickets(self.event_id, text, limit=limit):
            local = self.outbox.checkin(ticket.id)
            at, gate = ticket.checked_in_at, ticket.checked_in_gate
            if local is not None and (at is None or local.checked_in_at < at):
                at, gate = local.checked_in_at, local.gate
            matches.append(
                TicketMatch(
                    ticket_id=ticket.id,
                    holder_name=ticket.holder_name,
                    handle=ticket.handle,
                    code=ticket.code,
                    revoked=ticket.revoked,
                    checked_in_at=at,
                    checked_in_gate=gate,
                )
            )
        return matches
