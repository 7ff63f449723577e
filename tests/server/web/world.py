"""A small world for page tests, committed through the domain services.

A business (Bean There, its owner and branch manager can log in) runs an offer at
its branch, where the attendee has 3 stamps; another business has its own.
Promoter A (approved, can log in) owns event A (passport on, a ticket held by
the attendee, a paired door device) and event C (passport off). Promoter B
owns event B (passport on, billed). HQ and the attendee can log in too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.wire import DeviceRole, DeviceScope
from server.db.models import Business, User
from server.db.models.enums import BusinessStatus, UserRole
from server.db.session import unit_of_work
from server.domain import (
    accounts,
    branches,
    businesses,
    cards,
    devices,
    events,
    offers,
    passport,
    promoters,
    tickets,
)
from tests.server.api.world import password_hash

NOW = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@dataclass
class WebWorld:
    """Ids, emails and tokens of the world."""

    emails: dict[str, str]
    promoter_a_id: uuid.UUID
    promoter_b_id: uuid.UUID
    event_a_id: uuid.UUID
    event_b_id: uuid.UUID
    event_c_id: uuid.UUID
    attendee_id: uuid.UUID
    ticket_qr: str
    ticket_id: uuid.UUID
    door_token: str
    door_id: uuid.UUID
    billing_a_id: uuid.UUID
    business_id: uuid.UUID
    branch_id: uuid.UUID
    offer_id: uuid.UUID
    other_branch_id: uuid.UUID
    other_offer_id: uuid.UUID
    customer_id: uuid.UUID


def _user(session: Session, name: str, role: UserRole, home: str | None = None) -> User:
    user = accounts.create_user(
        session,
        username=name,
        display_name=name.replace("_", " ").title(),
        email=f"{name}@example.com",
        role=role,
        home_country=home,
    )
    user.password_hash = password_hash()  # the hash of PASSWORD, computed once per run
    return user


def _business(session: Session, owner: str, name: str) -> Business:
    user = _user(session, owner, UserRole.ATTENDEE)
    return businesses.create(
        session, name=name, country_code="TT", owner_user_id=user.id, status=BusinessStatus.APPROVED
    )


def build_web_world(factory: sessionmaker[Session]) -> WebWorld:
    """Build and commit the world."""
    with unit_of_work(factory) as session:
        _user(session, "hq_admin", UserRole.HQ)
        user_a = _user(session, "promoter_a", UserRole.PROMOTER)
        user_b = _user(session, "promoter_b", UserRole.PROMOTER)
        attendee = _user(session, "road_runner", UserRole.ATTENDEE, home="TT")
        promoter_a = promoters.register(
            session, name="Island Vibes", email="a@fetes.example", user_id=user_a.id
        )
        promoter_b = promoters.register(
            session, name="Other Crew", email="b@fetes.example", user_id=user_b.id
        )
        promoters.approve(session, promoter_id=promoter_a.id)
        promoters.approve(session, promoter_id=promoter_b.id)
        event_a = events.create_event(
            session,
            name="Soca Sunrise",
            starts_at=NOW,
            promoter_id=promoter_a.id,
            country_code="TT",
            carnival_circuit="Trinidad Carnival",
        )
        bill_a = events.enable_passport(session, event_id=event_a.id)
        event_c = events.create_event(
            session, name="Miami Lime", starts_at=NOW, promoter_id=promoter_a.id, country_code="US"
        )
        event_b = events.create_event(
            session, name="Their Fête", starts_at=NOW, promoter_id=promoter_b.id, country_code="BB"
        )
        events.enable_passport(session, event_id=event_b.id)
        passport.get_or_create_profile(session, user_id=attendee.id)
        ticket = tickets.issue_ticket(session, event_id=event_a.id, user_id=attendee.id)
        issued = devices.create_pairing_code(
            session, role=DeviceRole.DOOR, scope=DeviceScope(event_id=event_a.id), now=NOW
        )
        door = devices.pair(session, code=issued.code, name="Gate 1", now=NOW)
        shop = _business(session, "cafe_owner", "Bean There")
        branch = branches.create(session, business_id=shop.id, name="Ariapita Ave", city="PoS")
        branch.manager_user_id = _user(session, "cafe_manager", UserRole.BRANCH_MANAGER).id
        offer = offers.create(
            session, branch_id=branch.id, name="Fifth coffee free", prize="A coffee", max_stamps=5
        )
        for minute in range(3):
            cards.add_stamp(
                session,
                offer_id=offer.id,
                user_id=attendee.id,
                occurred_at=NOW + timedelta(minutes=minute),
            )
        other = _business(session, "other_owner", "Other Cafe")
        other_branch = branches.create(session, business_id=other.id, name="Elsewhere")
        other_offer = offers.create(
            session, branch_id=other_branch.id, name="Free tea", prize="Tea"
        )
        return WebWorld(
            emails={
                "hq": "hq_admin@example.com",
                "promoter_a": "promoter_a@example.com",
                "promoter_b": "promoter_b@example.com",
                "attendee": "road_runner@example.com",
                "owner": "cafe_owner@example.com",
                "manager": "cafe_manager@example.com",
                "other_owner": "other_owner@example.com",
            },
            promoter_a_id=promoter_a.id,
            promoter_b_id=promoter_b.id,
            event_a_id=event_a.id,
            event_b_id=event_b.id,
            event_c_id=event_c.id,
            attendee_id=attendee.id,
            ticket_qr=ticket.qr_token,
            ticket_id=ticket.id,
            door_token=door.token,
            door_id=door.device.id,
            billing_a_id=bill_a.id,
            business_id=shop.id,
            branch_id=branch.id,
            offer_id=offer.id,
            other_branch_id=other_branch.id,
            other_offer_id=other_offer.id,
            customer_id=attendee.id,
        )
