"""Pull: pages of everything changed in a device's scope since its cursor.

The cursor is the last change number a device has seen (see
`server.db.changelog`): a server-side monotonic counter, never a wall-clock
time. A page holds up to `limit` changed rows of the device's scope, in change
order, loaded with their current content; a row that no longer exists is sent
as a deletion. The public keys are in every page. A fresh device passes no
cursor; an interrupted pull resumes from the last cursor it stored.

Scope: a DOOR device gets its event (and its promoter's other events, so a
ticket for the wrong night is named), its tickets (with their holders'
handles and first check-in), the holders' passports and the event's package
purchases; a BRANCH device its branch's offers, their cards (with the
holders' display names and handles, for offline search) and the card
holders' passports; a PROMOTER device its events, their tickets, scans and
purchases, and the attendees' passports; a HUB (a venue hub) its event or
its promoter's events, scans included, and the holders' passports (the hub
reads them raw through `server.hub.replica`).

`wait` (`GET /sync/pull?wait=S`) is the route's: it polls `latest_change`
(one indexed read) until it moves, then `has_changes` for the device's scope.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from core.wire import (
    CardRow,
    DeletionRow,
    EventRow,
    OfferRow,
    PassportRow,
    PublicKeyInfo,
    PullResponse,
    PurchaseRow,
    ScanRow,
    TicketRow,
)
from server.db.bulk import is_postgresql, member_of
from server.db.models import (
    Device,
    Event,
    LoyaltyPass,
    Offer,
    Package,
    PackagePurchase,
    PassportProfile,
    SigningKey,
    SyncChange,
    Ticket,
    TicketScan,
    User,
)
from server.db.models.enums import ScanOutcome, TicketStatus
from server.errors import InvalidInput
from server.sync import pull_sql
from server.sync.scope import page_of_changes, scope_filter

DEFAULT_PAGE = 5000
MAX_PAGE = 25_000


def parse_cursor(cursor: str | None) -> int:
    """The change number a cursor stands for (0 for a fresh device)."""
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidInput(f"the cursor {cursor[:40]!r} is not one this server gave out")
    return int(cursor)


def next_cursor(last: int | None, after: int) -> str | None:
    """The cursor a page gives: its last change number, or (an empty page) the one it was
    asked from (None for a fresh device)."""
    if last is not None:
        return str(last)
    return str(after) if after else None


def latest_change(session: Session) -> int:
    """The highest change number so far (0 for none): a cheap test that anything changed."""
    found = session.scalar(select(SyncChange.change_no).order_by(SyncChange.change_no.desc()))
    return int(found or 0)


def has_changes(session: Session, *, device: Device, cursor: str | None) -> bool:
    """True when the device's scope holds a change after `cursor`."""
    after = parse_cursor(cursor)
    found = session.scalar(
        select(SyncChange.change_no)
        .where(SyncChange.change_no > after, scope_filter(device))
        .limit(1)
    )
    return found is not None


def pull(
    session: Session, *, device: Device, cursor: str | None, limit: int, now: datetime
) -> PullResponse:
    """One page of changes in the device's scope after `cursor` (None: from the start)."""
    page, wanted = _page(session, device=device, cursor=cursor, limit=limit, now=now)
    update: dict[str, list[Any]] = {"deletions": list(page.deletions)}
    for entity, loader in _BULK_LOADERS.items():
        rows = loader(session, wanted[entity]) if wanted[entity] else {}
        update["deletions"].extend(_missing(entity, wanted[entity], rows))
        update[entity] = list(rows.values())
    return page.model_copy(update=update)


def pull_json(
    session: Session, *, device: Device, cursor: str | None, limit: int, now: datetime
) -> str:
    """`pull` as the JSON text of the page, as the HTTP route sends it.

    On PostgreSQL one statement reads the page and writes its tickets and
    passports (nearly all of a fresh device's rows) as JSON
    (`server.sync.pull_sql`): a 150,000-ticket pull then builds no Python
    object per row and ships no id list back. SQLite serializes the models.
    """
    if not is_postgresql(session):
        return pull(session, device=device, cursor=cursor, limit=limit, now=now).model_dump_json()
    after, size = parse_cursor(cursor), _size(limit)
    found = pull_sql.read_page(
        session, changes=page_of_changes(device, after=after, rows=size + 1), size=size
    )
    deletions: list[DeletionRow] = []
    wanted: dict[str, list[str]] = defaultdict(list)
    for entity, entity_id, deleted in found.others:
        if deleted or entity in pull_sql.BULK:  # a bulk row named here no longer exists
            deletions.append(DeletionRow(entity=entity, id=entity_id))
        else:
            wanted[entity].append(entity_id)
    last = next_cursor(found.last, after)
    page = _assemble(session, device, wanted, deletions, cursor=last, more=found.more, now=now)
    head = page.model_dump_json(exclude=set(pull_sql.BULK))
    return f'{head[:-1]},"tickets":{found.tickets},"passports":{found.passports}}}'


def _size(limit: int) -> int:
    return max(1, min(limit or DEFAULT_PAGE, MAX_PAGE))


def _page(
    session: Session, *, device: Device, cursor: str | None, limit: int, now: datetime
) -> tuple[PullResponse, dict[str, list[str]]]:
    """The page's cursor, keys, deletions and small entities, and the ids of its tickets and
    passports (left for the caller to load)."""
    after = parse_cursor(cursor)
    size = _size(limit)
    changes = (
        session.connection().execute(page_of_changes(device, after=after, rows=size + 1)).all()
    )
    more = len(changes) > size
    changes = changes[:size]
    wanted: dict[str, list[str]] = defaultdict(list)
    deletions: list[DeletionRow] = []
    for entity, entity_id, _number, deleted in changes:
        if deleted:
            deletions.append(DeletionRow(entity=entity, id=entity_id))
        else:
            wanted[entity].append(entity_id)
    last = next_cursor(changes[-1][2] if changes else None, after)
    page = _assemble(session, device, wanted, deletions, cursor=last, more=more, now=now)
    return page, wanted


def _assemble(
    session: Session,
    device: Device,
    wanted: Mapping[str, list[str]],
    deletions: list[DeletionRow],
    *,
    cursor: str | None,
    more: bool,
    now: datetime,
) -> PullResponse:
    """A page with its keys and its small entities loaded (rows gone become deletions)."""
    loaded: dict[str, dict[str, Any]] = {
        entity: loader(session, wanted[entity]) if wanted.get(entity) else {}
        for entity, loader in _LOADERS.items()
    }
    for entity, rows in loaded.items():
        deletions.extend(_missing(entity, wanted.get(entity, []), rows))
    device.last_seen_at = now
    return PullResponse(
        cursor=cursor,
        more=more,
        server_time=now,
        keys=_keys(session),
        deletions=deletions,
        **{entity: list(rows.values()) for entity, rows in loaded.items()},
    )


def _missing(entity: str, wanted: list[str], found: Mapping[str, Any]) -> list[DeletionRow]:
    """Rows the change log names that no longer exist: sent as deletions."""
    return [
        DeletionRow(entity=entity, id=entity_id) for entity_id in wanted if entity_id not in found
    ]


_Row = TypeVar("_Row", bound=BaseModel)


def _trusted(model: type[_Row], fields: frozenset[str], values: dict[str, Any]) -> _Row:
    """A row model from values our own database holds, built without validation.

    What `model_construct` does for a model whose every field is given, at a
    quarter of its cost: a 50,000-ticket pull builds 100,000 of these.
    """
    row = model.__new__(model)
    object.__setattr__(row, "__dict__", values)
    object.__setattr__(row, "__pydantic_fields_set__", fields)
    object.__setattr__(row, "__pydantic_extra__", None)
    object.__setattr__(row, "__pydantic_private__", None)
    return row


_TICKET_FIELDS = frozenset(TicketRow.model_fields)
_PASSPORT_FIELDS = frozenset(PassportRow.model_fields)


def _keys(session: Session) -> list[PublicKeyInfo]:
    rows = session.execute(
        select(SigningKey.key_id, SigningKey.public_key, SigningKey.retired_at).order_by(
            SigningKey.key_id
        )
    ).all()
    return [
        PublicKeyInfo.from_raw(key_id, public, revoked=retired is not None)
        for key_id, public, retired in rows
    ]


def _events(session: Session, ids: Sequence[str]) -> dict[str, EventRow]:
    rows = session.scalars(select(Event).where(member_of(session, Event.id, ids)))
    return {
        str(event.id): EventRow(
            id=event.id,
            name=event.name,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            venue=event.venue,
            is_soca_passport_enabled=event.is_soca_passport_enabled,
            stamp_points_default=event.stamp_points_default,
            country_code=event.country_code,
            carnival_circuit=event.carnival_circuit,
        )
        for event in rows
    }


def _tickets(session: Session, ids: Sequence[str]) -> dict[str, TicketRow]:
    first_scans: dict[uuid.UUID, tuple[datetime, str | None, uuid.UUID | None]] = {}
    # Core, not ORM execution: plain column rows, without the ORM's per-row loading.
    for ticket_id, scanned_at, gate, device_id in (
        session.connection()
        .execute(
            select(
                TicketScan.ticket_id, TicketScan.scanned_at, TicketScan.gate, TicketScan.device_id
            )
            .where(
                member_of(session, TicketScan.ticket_id, ids),
                TicketScan.outcome == ScanOutcome.ADMITTED,
            )
            .order_by(TicketScan.scanned_at)
        )
        .all()
    ):  # fetched at once: iterating fetches row by row
        if ticket_id is not None:
            first_scans.setdefault(ticket_id, (scanned_at, gate, device_id))
    rows = (
        session.connection()
        .execute(
            select(
                Ticket.id,
                Ticket.event_id,
                Ticket.user_id,
                Ticket.holder_name,
                Ticket.code,
                Ticket.status,
                PassportProfile.handle,
            )
            .outerjoin(PassportProfile, PassportProfile.user_id == Ticket.user_id)
            .where(member_of(session, Ticket.id, ids))
        )
        .all()
    )
    result = {}
    # Columns, not entities, and rows built without re-validating what our own
    # database holds: a 50,000-ticket pull is dominated by this loop.
    for ticket_id, event_id, user_id, holder_name, code, status, handle in rows:
        scanned = first_scans.get(ticket_id)
        result[str(ticket_id)] = _trusted(
            TicketRow,
            _TICKET_FIELDS,
            {
                "id": ticket_id,
                "event_id": event_id,
                "user_id": user_id,
                "holder_name": holder_name,
                "handle": handle,
                "code": code,
                "revoked": status == TicketStatus.REVOKED,
                "checked_in_at": scanned[0] if scanned else None,
                "checked_in_gate": scanned[1] if scanned else None,
                "checked_in_device": str(scanned[2]) if scanned and scanned[2] else None,
            },
        )
    return result


def _passports(session: Session, ids: Sequence[str]) -> dict[str, PassportRow]:
    rows = (
        session.connection()
        .execute(
            select(
                PassportProfile.user_id,
                PassportProfile.handle,
                PassportProfile.total_points,
                PassportProfile.current_tier,
            ).where(member_of(session, PassportProfile.user_id, ids))
        )
        .all()
    )
    return {
        str(user_id): _trusted(
            PassportRow,
            _PASSPORT_FIELDS,
            {
                "user_id": user_id,
                "handle": handle,
                "total_points": points,
                "current_tier": tier,
                "revoked": False,
            },
        )
        for user_id, handle, points, tier in rows
    }


def _offers(session: Session, ids: Sequence[str]) -> dict[str, OfferRow]:
    rows = session.scalars(select(Offer).where(member_of(session, Offer.id, ids)))
    return {
        str(offer.id): OfferRow(
            id=offer.id,
            branch_id=offer.branch_id,
            name=offer.name,
            max_stamps=offer.max_stamps,
            prize=offer.prize,
            loyalty_tiers=offer.loyalty_tiers,
            active=offer.status == "ACTIVE",
        )
        for offer in rows
    }


def _cards(session: Session, ids: Sequence[str]) -> dict[str, CardRow]:
    """Cards with their holders' display names and handles (a branch tablet's offline search)."""
    rows = session.execute(
        select(LoyaltyPass, User.display_name, PassportProfile.handle)
        .join(User, User.id == LoyaltyPass.user_id)
        .outerjoin(PassportProfile, PassportProfile.user_id == LoyaltyPass.user_id)
        .where(member_of(session, LoyaltyPass.id, ids))
    ).all()
    return {
        str(card.id): CardRow(
            offer_id=card.offer_id,
            user_id=card.user_id,
            current_stamps=card.current_stamps,
            rewards_claimed=card.rewards_claimed,
            last_activity_at=card.last_activity_at,
            expired=card.status == "EXPIRED",
            holder_name=name,
            handle=handle,
        )
        for card, name, handle in rows
    }


def _purchases(session: Session, ids: Sequence[str]) -> dict[str, PurchaseRow]:
    rows = session.execute(
        select(PackagePurchase, Package.name)
        .join(Package, Package.id == PackagePurchase.package_id)
        .where(member_of(session, PackagePurchase.id, ids))
    ).all()
    return {
        str(purchase.id): PurchaseRow(
            id=purchase.id,
            user_id=purchase.user_id,
            package_id=purchase.package_id,
            event_id=purchase.event_id,
            package_name=name,
            status=purchase.status,
            activated_at=purchase.activated_at,
            payment_method=purchase.payment_method,
            final_amount=f"{purchase.final_amount:.2f}",
        )
        for purchase, name in rows
    }


def _scans(session: Session, ids: Sequence[str]) -> dict[str, ScanRow]:
    rows = session.scalars(select(TicketScan).where(member_of(session, TicketScan.id, ids)))
    return {
        str(scan.id): ScanRow(
            id=scan.id,
            event_id=scan.event_id,
            ticket_id=scan.ticket_id,
            user_id=scan.user_id,
            gate=scan.gate,
            scanned_at=scan.scanned_at,
            outcome=ScanOutcome(scan.outcome).value,
            device_id=scan.device_id,
        )
        for scan in rows
        if scan.event_id is not None
    }


_LOADERS: dict[str, Callable[[Session, Sequence[str]], dict[str, Any]]] = {
    "events": _events,
    "offers": _offers,
    "cards": _cards,
    "purchases": _purchases,
    "scans": _scans,
}
#: The bulk of a door's pull, loaded as models by `pull` or as JSON by `pull_json`.
_BULK_LOADERS: dict[str, Callable[[Session, Sequence[str]], dict[str, Any]]] = {
    "tickets": _tickets,
    "passports": _passports,
}
