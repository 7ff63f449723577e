"""What each device pulls: its scope of the change log, and a page of it read cheaply.

A scope is a few branches joined by OR (a door: its event's rows, its
holders' passports, its promoter's events). As one OR, the database cannot
walk any index in change order: it collected every remaining row of the
scope and sorted it to return the next page, so each page cost the whole
rest of the pull (a 150,000-ticket door: 0.1-0.6 s a page, 31 pages). A
page is therefore read per branch (each branch's first rows after the
cursor, in change order, a walk of that branch's index that stops at the
page size) and the branches' rows merged: the first `size` rows of the
merge are exactly the first `size` rows of the OR, and a row in two
branches (an event of the door's own promoter) counts once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, union

from server.db.models import Device, Event, LoyaltyPass, Offer, SyncChange, Ticket
from server.db.models.enums import DeviceRole


def _branches(device: Device) -> list[ColumnElement[bool]]:
    """The scope's branches: a row of the change log is in scope when it is in any of them."""
    change = SyncChange
    if device.role == DeviceRole.DOOR:
        holders = select(Ticket.user_id).where(Ticket.event_id == device.event_id)
        promoter = select(Event.promoter_id).where(Event.id == device.event_id).scalar_subquery()
        return [
            and_(change.event_id == device.event_id, change.entity != "scans"),
            and_(change.entity == "passports", change.user_id.in_(holders)),
            # The promoter's other events (names only matter): "wrong event" can say which.
            and_(change.entity == "events", change.promoter_id == promoter),
        ]
    if device.role == DeviceRole.BRANCH:
        offers = select(Offer.id).where(Offer.branch_id == device.branch_id)
        holders = select(LoyaltyPass.user_id).where(LoyaltyPass.offer_id.in_(offers))
        return [
            change.branch_id == device.branch_id,
            and_(change.entity == "passports", change.user_id.in_(holders)),
        ]
    if device.role == DeviceRole.HUB:
        return _hub_branches(device)
    if device.role == DeviceRole.PROMOTER:
        events = select(Event.id).where(Event.promoter_id == device.promoter_id)
        holders = select(Ticket.user_id).where(Ticket.event_id.in_(events))
        return [
            change.event_id.in_(events),
            and_(change.entity == "passports", change.user_id.in_(holders)),
        ]
    return []


def _hub_branches(device: Device) -> list[ColumnElement[bool]]:
    """A venue hub's scope: its event (or its promoter's events), scans included."""
    change = SyncChange
    if device.event_id is not None:
        events: Any = [device.event_id]
        holders = select(Ticket.user_id).where(Ticket.event_id == device.event_id)
    else:
        events = select(Event.id).where(Event.promoter_id == device.promoter_id)
        holders = select(Ticket.user_id).where(Ticket.event_id.in_(events))
    return [
        change.event_id.in_(events),
        and_(change.entity == "passports", change.user_id.in_(holders)),
    ]


def scope_filter(device: Device) -> ColumnElement[bool]:
    """The change log's rows in a device's scope (what its pull pages hold)."""
    branches = _branches(device)
    return or_(*branches) if branches else false()


_PAGE_COLUMNS = (SyncChange.entity, SyncChange.entity_id, SyncChange.change_no, SyncChange.deleted)


def page_of_changes(device: Device, *, after: int, rows: int) -> Select[Any]:
    """(entity, entity_id, change_no, deleted) of the first `rows` changes after `after` in
    the device's scope, in change order: each branch walked on its own, then merged."""
    walks = [
        select(*_PAGE_COLUMNS)
        .where(SyncChange.change_no > after, branch)
        .order_by(SyncChange.change_no)
        .limit(rows)
        for branch in _branches(device) or [false()]
    ]
    if len(walks) == 1:
        page = walks[0].subquery("page_rows")
    else:
        page = union(*(select(walk.subquery()) for walk in walks)).subquery("page_rows")
    return select(page).order_by(page.c.change_no).limit(rows)
