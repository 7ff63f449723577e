"""Tenancy: which objects a caller may see, answering 404 exactly as for a missing id.

An attendee sees only their own account and passport. A promoter (user or
PROMOTER device) sees its own events and what hangs off
them (packages, rewards, billing, tickets), its branches, and the devices
paired into those scopes. A business owner sees its branches, their offers
and cards. A branch manager and a BRANCH device see their
branch and its offers; a DOOR device its event; HQ sees everything. An
object outside the caller's tenancy raises the very error a missing id
raises (same code, same message), so a response never tells a tenant that
another tenant's id exists.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.reasons import Reason
from core.wire import DeviceRole, DeviceScope, PairingCodeRequest
from server.api.auth import Principal, Role
from server.db.models import (
    Branch,
    Business,
    Device,
    Event,
    EventPassportBilling,
    EventReward,
    Offer,
    Package,
    PassportStamp,
    Ticket,
    TicketScan,
)
from server.db.models.enums import ScanOutcome
from server.domain import billing, events
from server.domain.promoters import FieldErrors
from server.errors import Forbidden, InvalidInput, NotFound, ReasonError

_PROMOTERS = (Role.PROMOTER, Role.PROMOTER_DEVICE)


def not_found(noun: str, object_id: uuid.UUID) -> NotFound:
    """The one 404 for a missing or invisible object of this kind."""
    return NotFound(f"There is no {noun} {object_id}.")


# ------------------------------------------------------------------------------ events


def can_see_event(who: Principal, event: Event) -> bool:
    """Whether the caller may see this event."""
    if who.role == Role.HQ:
        return True
    if who.role in _PROMOTERS:
        return who.promoter_id is not None and event.promoter_id == who.promoter_id
    if who.role == Role.DOOR_DEVICE and who.device is not None:
        return who.device.event_id == event.id
    return False


def event(session: Session, who: Principal, event_id: uuid.UUID) -> Event:
    """The event, if the caller may see it; 404 otherwise."""
    found = session.get(Event, event_id)
    if found is None or not can_see_event(who, found):
        raise not_found("event", event_id)
    return found


def visible_events(session: Session, who: Principal) -> list[Event]:
    """Every event the caller may see, earliest start first."""
    if who.role == Role.HQ:
        return list(session.scalars(select(Event).order_by(Event.starts_at, Event.id)))
    if who.role in _PROMOTERS and who.promoter_id is not None:
        return events.list_for_promoter(session, promoter_id=who.promoter_id)
    return []


def owner_for_write(who: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """The promoter a new event belongs to: HQ chooses; a promoter only ever itself (422)."""
    if who.role == Role.HQ:
        return requested
    if requested is not None and requested != who.promoter_id:
        raise FieldErrors({"promoter_id": "You can only create events for your own promoter."})
    return who.promoter_id


def billing_for_event(
    session: Session, who: Principal, event_id: uuid.UUID
) -> EventPassportBilling:
    """The event's billing row, if the caller may see the event and the row exists."""
    found = event(session, who, event_id)
    row = billing.get_for_event(session, event_id=found.id)
    if row is None:
        raise NotFound(f"Event {event_id} has no passport billing yet; enable the passport first.")
    return row


def ticket(session: Session, who: Principal, ticket_id: uuid.UUID) -> Ticket:
    """The ticket, if the caller may see its event."""
    found = session.get(Ticket, ticket_id)
    if found is None:
        raise not_found("ticket", ticket_id)
    try:
        event(session, who, found.event_id)
    except NotFound:
        raise not_found("ticket", ticket_id) from None
    return found


# -------------------------------------------------------------------- packages, rewards


def package(session: Session, who: Principal, package_id: uuid.UUID) -> Package:
    """The package, if the caller may see its event (PACKAGE_NOT_FOUND otherwise)."""
    found = session.get(Package, package_id)
    event_row = None if found is None else session.get(Event, found.event_id)
    if found is None or event_row is None or not can_see_event(who, event_row):
        raise ReasonError(Reason.PACKAGE_NOT_FOUND, status=404)
    return found


def reward(session: Session, who: Principal, reward_id: uuid.UUID) -> EventReward:
    """The reward, if the caller may see its event (REWARD_NOT_FOUND otherwise)."""
    found = session.get(EventReward, reward_id)
    event_row = None if found is None else session.get(Event, found.event_id)
    if found is None or event_row is None or not can_see_event(who, event_row):
        raise ReasonError(Reason.REWARD_NOT_FOUND, status=404)
    return found


def listing_events(
    session: Session, who: Principal, event_id: uuid.UUID | None
) -> list[uuid.UUID] | None:
    """The event ids a list may cover: one (checked), the caller's own, or None for all (HQ)."""
    if event_id is not None:
        return [event(session, who, event_id).id]
    if who.role == Role.HQ:
        return None
    return [row.id for row in visible_events(session, who)]


# ---------------------------------------------------------------------- branches, offers


def can_see_branch(who: Principal, branch: Branch) -> bool:
    """Whether the caller may see this branch."""
    if who.role == Role.HQ:
        return True
    if who.role in _PROMOTERS:
        return who.promoter_id is not None and branch.promoter_id == who.promoter_id
    if who.role == Role.BUSINESS:
        return who.business_id is not None and branch.business_id == who.business_id
    if who.role == Role.BRANCH_MANAGER and who.user is not None:
        return branch.manager_user_id == who.user.id
    if who.role == Role.BRANCH_DEVICE and who.device is not None:
        return who.device.branch_id == branch.id
    return False


def branch(session: Session, who: Principal, branch_id: uuid.UUID) -> Branch:
    """The branch, if the caller may see it; 404 otherwise."""
    found = session.get(Branch, branch_id)
    if found is None or not can_see_branch(who, found):
        raise not_found("branch", branch_id)
    return found


def offer(session: Session, who: Principal, offer_id: uuid.UUID) -> Offer:
    """The offer, if the caller may see its branch (UNKNOWN_OFFER otherwise, like a missing one)."""
    found = session.get(Offer, offer_id)
    branch_row = None if found is None else session.get(Branch, found.branch_id)
    if found is None or branch_row is None or not can_see_branch(who, branch_row):
        raise ReasonError(Reason.UNKNOWN_OFFER, status=404)
    return found


def visible_branches(session: Session, who: Principal) -> list[Branch] | None:
    """The branches a caller may list (None: all, for HQ)."""
    if who.role == Role.HQ:
        return None
    query = select(Branch).order_by(Branch.name, Branch.id)
    if who.role == Role.BUSINESS and who.business_id is not None:
        return list(session.scalars(query.where(Branch.business_id == who.business_id)))
    if who.role == Role.BRANCH_MANAGER and who.user is not None:
        return list(session.scalars(query.where(Branch.manager_user_id == who.user.id)))
    if who.role == Role.BRANCH_DEVICE and who.device is not None:
        return list(session.scalars(query.where(Branch.id == who.device.branch_id)))
    return []


def business(session: Session, who: Principal, business_id: uuid.UUID) -> Business:
    """The business, for HQ or its owner; 404 otherwise."""
    found = session.get(Business, business_id)
    if found is None or not (who.role == Role.HQ or who.business_id == found.id):
        raise not_found("business", business_id)
    return found


# --------------------------------------------------------------------------- passports


def passport_owner(session: Session, who: Principal, user_id: uuid.UUID) -> uuid.UUID:
    """The user id, if the caller may see that passport: HQ, the attendee themself, or a
    promoter the user attended (which then sees only its own events' stamps)."""
    if who.role == Role.HQ:
        return user_id
    if who.role == Role.ATTENDEE and who.user_id == user_id:
        return user_id
    promoter_id = who.promoter_id if who.role in _PROMOTERS else None
    if promoter_id is not None and _attended(session, user_id, promoter_id):
        return user_id
    raise NotFound("this user has no passport")  # the message passport_summary gives a stranger


def _attended(session: Session, user_id: uuid.UUID, promoter_id: uuid.UUID) -> bool:
    own_events = select(Event.id).where(Event.promoter_id == promoter_id)
    stamped = exists().where(
        PassportStamp.user_id == user_id, PassportStamp.event_id.in_(own_events)
    )
    admitted = exists().where(
        TicketScan.user_id == user_id,
        TicketScan.outcome == ScanOutcome.ADMITTED,
        TicketScan.event_id.in_(own_events),
    )
    return bool(session.scalar(select(stamped | admitted)))


# ----------------------------------------------------------------------------- devices


def pairing_scope(session: Session, who: Principal, request: PairingCodeRequest) -> DeviceScope:
    """The scope a caller may pair into: HQ any; a promoter its own; a manager its branch."""
    role = request.role
    if who.role == Role.HQ:
        return DeviceScope(
            event_id=request.event_id,
            branch_id=request.branch_id,
            promoter_id=request.promoter_id,
        )
    if who.role in (Role.BRANCH_MANAGER, Role.BUSINESS) and role != DeviceRole.BRANCH:
        raise Forbidden("A business or branch manager can pair BRANCH devices only.")
    if role == DeviceRole.DOOR:
        if request.event_id is None:
            raise InvalidInput("a DOOR device needs event_id")
        return DeviceScope(event_id=event(session, who, request.event_id).id)
    if role == DeviceRole.BRANCH:
        branch_id = request.branch_id or _only_managed_branch(session, who)
        return DeviceScope(branch_id=branch(session, who, branch_id).id)
    if role == DeviceRole.HUB and request.event_id is not None:
        return DeviceScope(event_id=event(session, who, request.event_id).id)
    if request.promoter_id is not None and request.promoter_id != who.promoter_id:
        raise not_found("promoter", request.promoter_id)
    return DeviceScope(promoter_id=who.promoter_id)


def _only_managed_branch(session: Session, who: Principal) -> uuid.UUID:
    if who.role == Role.BRANCH_MANAGER and who.user is not None:
        ids = list(session.scalars(select(Branch.id).where(Branch.manager_user_id == who.user.id)))
        if len(ids) == 1:
            return ids[0]
    raise InvalidInput("a BRANCH device needs branch_id")


def manageable_device(session: Session, who: Principal, device_id: uuid.UUID) -> Device:
    """A device HQ, or the promoter owning its scope, may revoke; 404 otherwise."""
    found = session.get(Device, device_id)
    if found is None or not _owns_device(session, who, found):
        raise not_found("device", device_id)
    return found


def _owns_device(session: Session, who: Principal, device: Device) -> bool:
    if who.role == Role.HQ:
        return True
    if who.role not in _PROMOTERS or who.promoter_id is None:
        return False
    if device.promoter_id is not None:
        return device.promoter_id == who.promoter_id
    if device.event_id is not None:
        event_row = session.get(Event, device.event_id)
        return event_row is not None and event_row.promoter_id == who.promoter_id
    if device.branch_id is not None:
        branch_row = session.get(Branch, device.branch_id)
        return branch_row is not None and branch_row.promoter_id == who.promoter_id
    return False


def self_or_hq_device(session: Session, who: Principal, device_id: uuid.UUID) -> uuid.UUID:
    """The device id, if the caller is that device or HQ; 404 otherwise."""
    if who.role == Role.HQ or who.device_id == device_id:
        return device_id
    raise not_found("device", device_id)
