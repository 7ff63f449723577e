"""A small world for API tests, built with the domain services and committed.

Promoter A owns event A (passport on, with a package, a reward, a ticket and
an attendee who attended it) and branch X (managed by the branch manager,
with a stamp-card offer). Promoter B owns event B. Devices: a DOOR kiosk of
event A, a BRANCH tablet of branch X, a PROMOTER laptop of A, and a revoked
DOOR kiosk.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from core.wire import DeviceRole, DeviceScope
from server.db.models import Business, EventReward, Promoter, User
from server.db.models.enums import BusinessStatus, UserRole
from server.db.session import unit_of_work
from server.domain import (
    accounts,
    branches,
    businesses,
    cards,
    devices,
    event_rewards,
    events,
    memberships,
    offers,
    packages,
    passport,
    promoters,
    tickets,
)

NOW = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"

#: The principals every route is tried with, in the matrix's column order.
PRINCIPALS = (
    "anonymous",
    "hq",
    "promoter_a",
    "promoter_b",
    "manager",
    "door",
    "branch",
    "promoter_device",
    "revoked",
    "business_a",
    "business_b",
)


@cache
def password_hash() -> str:
    """The argon2 hash of PASSWORD, computed once (hashing is slow on purpose)."""
    return accounts.hash_password(PASSWORD)


def tag() -> str:
    """A short unique suffix."""
    return uuid.uuid4().hex[:8]


@dataclass
class World:
    """Ids and bearer tokens of the world."""

    tokens: dict[str, str]
    hq_user_id: uuid.UUID
    promoter_a_id: uuid.UUID
    promoter_a_user_id: uuid.UUID
    promoter_a_email: str
    promoter_b_id: uuid.UUID
    manager_user_id: uuid.UUID
    event_a_id: uuid.UUID
    event_b_id: uuid.UUID
    billing_a_id: uuid.UUID
    branch_id: uuid.UUID
    offer_id: uuid.UUID
    business_a_id: uuid.UUID
    business_b_id: uuid.UUID
    branch_b_id: uuid.UUID
    offer_b_id: uuid.UUID
    package_id: uuid.UUID
    reward_id: uuid.UUID
    attendee_id: uuid.UUID
    ticket_id: uuid.UUID
    membership_id: uuid.UUID
    device_ids: dict[str, uuid.UUID]
    #: The user behind each user principal (and "attendee", whose token is in `tokens` too).
    user_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    #: Tokens a test swapped out and puts back afterwards.
    spare_tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        """The Authorization header of a principal (none for anonymous)."""
        if who == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _user(
    session: Session, role: UserRole, *, email: str | None = None, password: str | None = None
) -> User:
    name = tag()
    user = accounts.create_user(
        session,
        username=f"{role.lower()}_{name}",
        display_name=f"{role.title()} {name}",
        email=email,
        role=role,
    )
    if password is not None:
        hashed = password_hash() if password == PASSWORD else accounts.hash_password(password)
        user.password_hash = hashed
    return user


def _promoter(
    session: Session, *, email: str | None = None, password: str | None = None
) -> tuple[User, Promoter]:
    user = _user(session, UserRole.PROMOTER, email=email, password=password)
    promoter = promoters.register(
        session, name=f"Promoter {tag()}", email=f"p{tag()}@fetes.example", user_id=user.id
    )
    promoters.approve(session, promoter_id=promoter.id)
    return user, promoter


def business(session: Session) -> tuple[User, Business]:
    """An APPROVED business and its owner (who can log in with PASSWORD)."""
    owner = _user(session, UserRole.ATTENDEE, email=f"b{tag()}@shops.example", password=PASSWORD)
    row = businesses.create(
        session,
        name=f"Shop {tag()}",
        country_code="TT",
        owner_user_id=owner.id,
        status=BusinessStatus.APPROVED,
    )
    return owner, row


def pair_device(
    session: Session, role: DeviceRole, scope: DeviceScope, *, revoked: bool = False
) -> tuple[uuid.UUID, str]:
    """A paired device (optionally revoked) and its token."""
    issued = devices.create_pairing_code(session, role=role, scope=scope, now=NOW)
    paired = devices.pair(session, code=issued.code, name=f"{role} {tag()}", now=NOW)
    if revoked:
        devices.revoke(session, device_id=paired.device.id, now=NOW)
    return paired.device.id, paired.token


def build_world(factory: sessionmaker[Session]) -> World:
    """Build and commit the world."""
    with unit_of_work(factory) as session:
        hq = _user(session, UserRole.HQ)
        email_a = f"a{tag()}@fetes.example"
        user_a, promoter_a = _promoter(session, email=email_a, password=PASSWORD)
        user_b, promoter_b = _promoter(session)
        manager = _user(session, UserRole.BRANCH_MANAGER)
        event_a = events.create_event(
            session, name="Fête A", starts_at=NOW, promoter_id=promoter_a.id, country_code="TT"
        )
        bill = events.enable_passport(session, event_id=event_a.id)
        event_b = events.create_event(
            session, name="Fête B", starts_at=NOW, promoter_id=promoter_b.id, country_code="BB"
        )
        events.enable_passport(session, event_id=event_b.id)
        owner_a, business_a = business(session)
        owner_b, business_b = business(session)
        branch = branches.create(session, business_id=business_a.id, name="Rum Shop X")
        branch.manager_user_id = manager.id
        offer = offers.create(
            session, branch_id=branch.id, name="Fifth punch free", prize="Punch", max_stamps=5
        )
        branch_b = branches.create(session, business_id=business_b.id, name="Coffee Bar Y")
        offer_b = offers.create(session, branch_id=branch_b.id, name="Free latte", prize="Latte")
        package = packages.create(session, event_id=event_a.id, name="VIP", price=Decimal("10.00"))
        reward = fresh_reward(session, event_a.id)
        attendee = _user(session, UserRole.ATTENDEE)
        passport.award_stamp_for_event_scan(
            session, user_id=attendee.id, event_id=event_a.id, now=NOW
        )
        ticket = tickets.issue_ticket(session, event_id=event_a.id, user_id=attendee.id)
        membership = memberships.create(session, user_id=attendee.id, tier="GOLD", now=NOW)
        door_id, door_token = pair_device(
            session, DeviceRole.DOOR, DeviceScope(event_id=event_a.id)
        )
        branch_id, branch_token = pair_device(
            session, DeviceRole.BRANCH, DeviceScope(branch_id=branch.id)
        )
        pdev_id, pdev_token = pair_device(
            session, DeviceRole.PROMOTER, DeviceScope(promoter_id=promoter_a.id)
        )
        revoked_id, revoked_token = pair_device(
            session, DeviceRole.DOOR, DeviceScope(event_id=event_a.id), revoked=True
        )
        tokens = {
            "hq": accounts.issue_api_token(session, user_id=hq.id),
            "promoter_a": accounts.issue_api_token(session, user_id=user_a.id),
            "promoter_b": accounts.issue_api_token(session, user_id=user_b.id),
            "manager": accounts.issue_api_token(session, user_id=manager.id),
            "door": door_token,
            "branch": branch_token,
            "promoter_device": pdev_token,
            "revoked": revoked_token,
            "business_a": accounts.issue_api_token(session, user_id=owner_a.id),
            "business_b": accounts.issue_api_token(session, user_id=owner_b.id),
            "attendee": accounts.issue_api_token(session, user_id=attendee.id),
        }
        return World(
            tokens=tokens,
            hq_user_id=hq.id,
            promoter_a_id=promoter_a.id,
            promoter_a_user_id=user_a.id,
            promoter_a_email=email_a,
            promoter_b_id=promoter_b.id,
            manager_user_id=manager.id,
            event_a_id=event_a.id,
            event_b_id=event_b.id,
            billing_a_id=bill.id,
            branch_id=branch.id,
            offer_id=offer.id,
            business_a_id=business_a.id,
            business_b_id=business_b.id,
            branch_b_id=branch_b.id,
            offer_b_id=offer_b.id,
            package_id=package.id,
            reward_id=reward.id,
            attendee_id=attendee.id,
            ticket_id=ticket.id,
            membership_id=membership.id,
            device_ids={
                "door": door_id,
                "branch": branch_id,
                "promoter_device": pdev_id,
                "revoked": revoked_id,
            },
            user_ids={
                "hq": hq.id,
                "promoter_a": user_a.id,
                "promoter_b": user_b.id,
                "manager": manager.id,
                "attendee": attendee.id,
                "business_a": owner_a.id,
                "business_b": owner_b.id,
            },
        )


# ----------------------------------------------------------------- fresh objects


def fresh_reward(session: Session, event_id: uuid.UUID) -> EventReward:
    """A DRAFT spend reward on the event."""
    return event_rewards.create(
        session,
        event_id=event_id,
        name=f"Spend 150 {tag()}",
        trigger_type="MINIMUM_SPEND",
        minimum_spend=Decimal("150.00"),
        reward_type="RECHARGE",
        reward_amount=Decimal("10.00"),
    )


def customer_with_full_card(session: Session, offer_id: uuid.UUID, stamps: int = 5) -> uuid.UUID:
    """A new customer with `stamps` stamps on the offer's card."""
    user = _user(session, UserRole.ATTENDEE)
    for minute in range(stamps):
        cards.add_stamp(
            session,
            offer_id=offer_id,
            user_id=user.id,
            occurred_at=datetime.now(UTC) - timedelta(hours=1, minutes=-minute),
        )
    return user.id
