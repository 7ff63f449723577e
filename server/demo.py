"""The demo world `soca-server seed-demo` writes.

A promoter, events in several countries and circuits, attendees with passports
and tickets, a business with a branch, its manager and a stamp-card offer (all
made through the domain services), a package, a reward, an HQ admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from server.db.models import Event, User
from server.db.models.enums import (
    BusinessStatus,
    PackageItemType,
    PackageStatus,
    RewardTriggerType,
    RewardType,
    StampSource,
    UserRole,
)
from server.domain import (
    accounts,
    branches,
    businesses,
    cards,
    event_rewards,
    events,
    integrations,
    invitations,
    keys,
    offers,
    packages,
    passport,
    promoters,
    purchases,
    tickets,
)
from server.domain.packages import ItemSpec


@dataclass(frozen=True)
class _DemoEvent:
    name: str
    venue: str
    city: str
    country: str
    circuit: str
    days_from_now: float
    points: int


DEMO_EVENTS = (
    _DemoEvent(
        "Soca Brainwash Tonight",
        "Queen's Park Savannah",
        "Port of Spain",
        "TT",
        "Trinidad Carnival",
        0,
        100,
    ),
    _DemoEvent(
        "Miami Carnival J'ouvert",
        "Miami-Dade Fair Grounds",
        "Miami",
        "US",
        "Miami Carnival",
        -40,
        150,
    ),
    _DemoEvent(
        "Caribana Boat Ride", "Toronto Harbourfront", "Toronto", "CA", "Toronto Caribana", -90, 200
    ),
    _DemoEvent(
        "Notting Hill Sunday Fête",
        "Ladbroke Grove",
        "London",
        "GB",
        "Notting Hill Carnival",
        -120,
        250,
    ),
    _DemoEvent(
        "Crop Over Breakfast Party", "Kensington Oval", "Bridgetown", "BB", "Crop Over", -200, 300
    ),
)

DEMO_ATTENDEES = (
    ("kes_fan", "Kesha Baptiste"),
    ("machel_army", "Marcus Charles"),
    ("bacchanal_bri", "Brianna Joseph"),
    ("wining_wendell", "Wendell Phillip"),
    ("jouvert_jo", "Joanne Ali"),
    ("sweet_soca_sam", "Samuel Greene"),
    ("mas_queen_mia", "Mia Ramdass"),
    ("riddim_rico", "Ricardo Lewis"),
    ("pan_man_paul", "Paul Emmanuel"),
    ("fete_finesse", "Danielle Pierre"),
    ("road_march_ray", "Raymond Noel"),
    ("carnival_kay", "Kayla Mohammed"),
)


DEMO_BUSINESS_EMAIL = "owner@rumshop.example"
DEMO_BUSINESS_PASSWORD = "demo-business"  # noqa: S105 (a published demo login)
DEMO_MANAGER_EMAIL = "manager@rumshop.example"
DEMO_MANAGER_PASSWORD = "demo-manager"  # noqa: S105 (a published demo login)
#: The demo's HQ login (published in the README and the seed-demo JSON).
HQ_EMAIL = "hq@socapassport.example"
HQ_PASSWORD = "demo-hq-admin"  # noqa: S105 (a published demo login)
#: Where the demo attendees' email addresses live (`<handle>@<domain>`).
ATTENDEE_EMAIL_DOMAIN = "fans.socapassport.example"


def build_demo_world(session: Session, *, now: datetime) -> dict[str, Any]:
    """Create the demo world and return the seed-demo JSON (QR fields hold the QR text)."""
    key = keys.current_signing_key(session)
    admin = accounts.create_user(
        session,
        username="hq_admin",
        display_name="HQ Admin",
        email=HQ_EMAIL,
        password=HQ_PASSWORD,
        role=UserRole.HQ,
    )
    admin_token = accounts.issue_api_token(session, user_id=admin.id, label="seed-demo")
    promoter_user = accounts.create_user(
        session,
        username="islandvibes",
        display_name="Island Vibes Fêtes",
        email="promoter@islandvibes.example",
        password="demo-promoter",  # noqa: S106 (a published demo login)
        role=UserRole.PROMOTER,
    )
    promoter = promoters.register(
        session,
        name="Island Vibes Fêtes",
        email="promoter@islandvibes.example",
        organization="Island Vibes Entertainment",
        location_city="Port of Spain",
        location_country="TT",
        website_or_social="@islandvibesfetes",
        event_types="fêtes, brunches, carnivals",
        user_id=promoter_user.id,
    )
    promoters.approve(session, promoter_id=promoter.id)
    promoter_token = accounts.issue_api_token(session, user_id=promoter_user.id, label="seed-demo")

    demo_events: list[Event] = []
    for spec in DEMO_EVENTS:
        event = events.create_event(
            session,
            name=spec.name,
            starts_at=now + timedelta(days=spec.days_from_now),
            ends_at=now + timedelta(days=spec.days_from_now, hours=8),
            promoter_id=promoter.id,
            venue=spec.venue,
            city=spec.city,
            country_code=spec.country,
            carnival_circuit=spec.circuit,
            stamp_points_default=spec.points,
        )
        events.enable_passport(session, event_id=event.id, fee_amount_cents=1999)
        demo_events.append(event)
    tonight = demo_events[0]

    attendees: list[User] = []
    for handle, name in DEMO_ATTENDEES:
        attendees.append(
            accounts.create_user(
                session,
                username=handle,
                display_name=name,
                email=f"{handle}@{ATTENDEE_EMAIL_DOMAIN}",
            )
        )
    # History: the first attendees have travelled, so tiers differ at the door.
    for index, user in enumerate(attendees):
        passport.get_or_create_profile(session, user_id=user.id)
        for past in demo_events[1 : 1 + max(0, 4 - index)]:
            passport.award_stamp_for_event_scan(
                session,
                user_id=user.id,
                event_id=past.id,
                source=StampSource.TICKET_SCAN,
                now=past.starts_at,
            )

    owner = accounts.create_user(
        session,
        username="rumshop_owner",
        display_name="Roadside Rum Shop Owner",
        email=DEMO_BUSINESS_EMAIL,
        password=DEMO_BUSINESS_PASSWORD,
    )
    business = businesses.create(
        session,
        name="Roadside Rum Shop",
        country_code="TT",
        owner_user_id=owner.id,
        status=BusinessStatus.APPROVED,
    )
    branch = branches.create(
        session,
        business_id=business.id,
        name="Roadside Rum Shop",
        city="Port of Spain",
        country_code="TT",
    )
    invitation = branches.invite_manager(
        session,
        branch_id=branch.id,
        email=DEMO_MANAGER_EMAIL,
        display_name="Roadside Rum Shop Manager",
    )
    assert invitation.token is not None
    manager = invitations.accept(session, token=invitation.token, password=DEMO_MANAGER_PASSWORD)
    offer = offers.create(
        session,
        branch_id=branch.id,
        name="Fifth rum punch free",
        prize="One rum punch",
        max_stamps=5,
    )
    for index, user in enumerate(attendees[:4]):
        for stamp in range(5 - index):
            cards.add_stamp(
                session,
                offer_id=offer.id,
                user_id=user.id,
                occurred_at=now - timedelta(days=3, minutes=-stamp),
            )

    package = packages.create(
        session,
        event_id=tonight.id,
        name="Early Bird VIP Package",
        description="Entry + 2 bracelets preloaded with 50 each",
        price=Decimal("80.00"),
        original_price=Decimal("100.00"),
        max_quantity=200,
        max_per_user=2,
        status=PackageStatus.ACTIVE,
        items=[
            ItemSpec("VIP entry", PackageItemType.ENTRY),
            ItemSpec(
                "Bar bracelet",
                PackageItemType.BRACELET,
                quantity=2,
                bracelet_amount=Decimal("50.00"),
            ),
        ],
    )
    bought = [
        purchases.purchase(
            session, package_id=package.id, user_id=user.id, now=now, signing_key=key
        )
        for user in attendees[:3]
    ]
    reward = event_rewards.create(
        session,
        event_id=tonight.id,
        name="Spend 150, get 10 free recharge",
        trigger_type=RewardTriggerType.MINIMUM_SPEND,
        minimum_spend=Decimal("150.00"),
        reward_type=RewardType.RECHARGE,
        reward_amount=Decimal("10.00"),
        status="ACTIVE",
    )
    bar = integrations.create(session, event_id=tonight.id, name="Demo bar POS")

    attendee_rows = []
    for user in attendees:
        profile = passport.get_or_create_profile(session, user_id=user.id)
        assert user.email is not None
        ticket = tickets.issue_to_email(  # as a promoter would: to the buyer's email
            session,
            event_id=tonight.id,
            email=user.email,
            holder_name=user.display_name,
            signing_key=key,
        )
        attendee_rows.append(
            {
                "user_id": str(user.id),
                "handle": profile.handle,
                "display_name": user.display_name,
                "email": user.email,
                "passport_qr": profile.qr_token,
                "total_points": profile.total_points,
                "current_tier": profile.current_tier,
                "tickets": [
                    {
                        "ticket_id": str(ticket.id),
                        "event_id": str(ticket.event_id),
                        "code": ticket.code,
                        "qr": ticket.qr_token,
                    }
                ],
            }
        )
    session.flush()
    return {
        "admin_token": admin_token,
        "hq": {"email": HQ_EMAIL, "password": HQ_PASSWORD},
        "promoter": {
            "id": str(promoter.id),
            "user_id": str(promoter_user.id),
            "token": promoter_token,
            "email": promoter_user.email,
            "password": "demo-promoter",
        },
        "events": [
            {
                "id": str(e.id),
                "name": e.name,
                "starts_at": e.starts_at.isoformat(),
                "country_code": e.country_code,
                "carnival_circuit": e.carnival_circuit,
                "stamp_points_default": e.stamp_points_default,
                "is_soca_passport_enabled": e.is_soca_passport_enabled,
            }
            for e in demo_events
        ],
        "attendees": attendee_rows,
        "business": {
            "id": str(business.id),
            "name": business.name,
            "email": DEMO_BUSINESS_EMAIL,
            "password": DEMO_BUSINESS_PASSWORD,
            "manager_email": DEMO_MANAGER_EMAIL,
            "manager_password": DEMO_MANAGER_PASSWORD,
        },
        "branches": [
            {"id": str(branch.id), "name": branch.name, "manager_user_id": str(manager.id)}
        ],
        "offers": [
            {
                "id": str(offer.id),
                "name": offer.name,
                "max_stamps": offer.max_stamps,
                "branch_id": str(branch.id),
            }
        ],
        "packages": [
            {
                "id": str(package.id),
                "name": package.name,
                "event_id": str(tonight.id),
                "price": str(package.price),
            }
        ],
        "purchases": [
            {
                "id": str(p.id),
                "user_id": str(p.user_id),
                "package_id": str(package.id),
                "qr": p.qr_token,
                "bracelet_ids": list(p.django_bracelet_ids),
            }
            for p in bought
        ],
        "rewards": [{"id": str(reward.id), "name": reward.name, "event_id": str(tonight.id)}],
        "integrations": [
            {
                "id": str(bar.credential.id),
                "event_id": str(tonight.id),
                "name": bar.credential.name,
                "token": bar.token,
            }
        ],
    }
