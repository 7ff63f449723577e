"""Every page declares one cookie policy, stays out of the OpenAPI document, and every form
refuses a post without the page's CSRF token."""

from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.api.auth import route_policies
from server.db.models import (
    AccountLink,
    ApiToken,
    Branch,
    Business,
    ConflictResolution,
    Device,
    Event,
    EventPassportBilling,
    EventReward,
    Offer,
    Package,
    PairingCode,
    PassportProfile,
    PassportReward,
    PassportTier,
    Promoter,
    Ticket,
    User,
)
from server.db.models.enums import LinkPurpose
from server.db.session import unit_of_work
from server.domain import (
    account_links,
    accounts,
    businesses,
    event_rewards,
    invitations,
    packages,
)
from server.web.auth import WebPolicy
from server.web.routing import web_pages
from tests.server.web.conftest import browser, login, register
from tests.server.web.world import WebWorld

#: Every form: its action (as routed), who posts it, and the data it would carry.
FORMS = {
    "/login": ("anonymous", {"email": "road_runner@example.com", "password": "x" * 9}),
    "/register": (
        "anonymous",
        {"username": "csrf_fan", "email": "c@example.com", "password": "wine-n-grind"},
    ),
    "/logout": ("attendee", {}),
    "/forgot-password": ("anonymous", {"email": "road_runner@example.com"}),
    "/reset/{token}": (
        "anonymous",
        {"password": "violet-steelpan-mango-47", "confirm": "violet-steelpan-mango-47"},
    ),
    "/socaport-app/start": ("fresh", {}),
    "/passport/rewards/{passport_reward_id}/use": ("attendee", {}),
    "/passport-promoters": ("anonymous", {"name": "Sneaky", "email": "s@example.com"}),
    "/promoter/events/{event_id}/enable": ("promoter_a", {}),
    "/promoter/events/{event_id}/disable": ("promoter_a", {}),
    "/promoter/events/{event_id}/pairing-code": ("promoter_a", {}),
    "/promoter/events": (
        "promoter_a",
        {"name": "Sneaky fête", "starts_at": "2026-03-01T21:00", "time_zone": "UTC"},
    ),
    "/promoter/events/{event_id}/edit": (
        "promoter_a",
        {"name": "Renamed", "starts_at": "2026-03-01T21:00", "stamp_points_default": "5"},
    ),
    "/promoter/events/{event_id}/tickets": ("promoter_a", {"email": "buyer@example.com"}),
    "/promoter/events/{event_id}/tickets/csv": ("promoter_a", {}),
    "/promoter/tickets/{ticket_id}/revoke": ("promoter_a", {}),
    "/promoter/devices/{device_id}/revoke": ("promoter_a", {}),
    "/hq/promoters/{promoter_id}/approve": ("hq", {}),
    "/hq/promoters/{promoter_id}/reject": ("hq", {}),
    "/promoter/events/{event_id}/packages": ("promoter_a", {"name": "VIP", "price": "25"}),
    "/promoter/events/{event_id}/rewards": (
        "promoter_a",
        {
            "name": "Spend",
            "trigger_type": "MINIMUM_SPEND",
            "minimum_spend": "100",
            "reward_type": "RECHARGE",
            "reward_amount": "10",
        },
    ),
    "/promoter/packages/{package_id}/status": ("promoter_a", {"status": "ACTIVE"}),
    "/promoter/packages/{package_id}/edit": ("promoter_a", {"name": "Renamed", "price": "1"}),
    "/promoter/packages/{package_id}/delete": ("promoter_a", {}),
    "/promoter/rewards/{reward_id}/status": ("promoter_a", {"status": "ACTIVE"}),
    "/promoter/rewards/{reward_id}/edit": ("promoter_a", {"name": "Renamed"}),
    "/promoter/rewards/{reward_id}/delete": ("promoter_a", {}),
    "/hq/billing/{billing_id}/status": ("hq", {"status": "WAIVED"}),
    "/hq/billing/{billing_id}/fee": ("hq", {"fee": "19.99"}),
    "/hq/devices/{device_id}/revoke": ("hq", {}),
    "/hq/conflicts/{op_id}/resolve": ("hq", {"note": "Checked at the door."}),
    "/hq/tiers": ("hq", {"min_BRONZE": "0", "min_SILVER": "1", "min_GOLD": "2", "min_ELITE": "3"}),
    "/business/apply": (
        "anonymous",
        {
            "name": "Sneaky Cafe",
            "country_code": "TT",
            "email": "sn@example.com",
            "password": "x" * 9,
        },
    ),
    "/welcome/{token}": ("anonymous", {"password": "wine-n-grind"}),
    "/business/branches": ("owner", {"name": "Sneaky branch"}),
    "/business/branches/{branch_id}/manager": ("owner", {"email": "sneaky@example.com"}),
    "/business/branches/{branch_id}/pairing-code": ("manager", {}),
    "/business/offers": ("owner", {"name": "Sneaky", "prize": "X", "max_stamps": "5"}),
    "/business/offers/{offer_id}": ("owner", {"name": "Renamed", "prize": "X", "max_stamps": "3"}),
    "/business/offers/{offer_id}/preview": ("owner", {}),
    "/hq/businesses/{business_id}/{action}": ("hq", {}),
    "/hq/promoters/{promoter_id}/suspend": ("hq", {}),
    "/hq/promoters/{promoter_id}/reinstate": ("hq", {}),
    "/hq/users/{user_id}/sign-out": ("hq", {}),
    "/events/{event_id}/packages/{package_id}/buy": ("attendee", {"payment": "cash"}),
    "/promoter/purchases/{purchase_id}/paid": ("promoter_a", {}),
    "/promoter/events/{event_id}/integrations": ("promoter_a", {"name": "Sneaky bar"}),
    "/promoter/integrations/{integration_id}/revoke": ("promoter_a", {}),
}


def test_every_page_declares_exactly_one_cookie_policy(app: FastAPI) -> None:
    pages = web_pages(app)
    assert len(pages) >= 15
    for page in pages:
        found = route_policies(page.route)
        assert len(found) == 1, f"{page.methods} {page.path}: {len(found)} policies"
        assert isinstance(found[0], WebPolicy), f"{page.path} uses a bearer-token policy"


def test_pages_stay_out_of_the_openapi_document(app: FastAPI) -> None:
    documented = set(app.openapi()["paths"])
    assert not documented & {page.path for page in web_pages(app)}


def test_the_form_table_covers_every_posted_page(app: FastAPI) -> None:
    posted = {page.path for page in web_pages(app) if "POST" in page.methods}
    assert posted == set(FORMS)


def _counts(factory: sessionmaker[Session]) -> tuple[object, ...]:
    """Row counts and the states the forms would change."""
    with unit_of_work(factory) as session:
        counts: list[object] = [
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                AccountLink,
                User,
                ApiToken,
                PassportProfile,
                Promoter,
                EventPassportBilling,
                PairingCode,
                Business,
                Branch,
                Offer,
                Event,
                Ticket,
                Package,
                EventReward,
                ConflictResolution,
            )
        ]
        counts.append(sorted(session.scalars(select(Business.status))))
        counts.append(sorted(session.scalars(select(Offer.name))))
        counts.append(sorted(str(b) for b in session.scalars(select(Branch.manager_user_id))))
        counts.append(sorted(session.scalars(select(EventPassportBilling.status))))
        counts.append(
            sorted(str(f) for f in session.scalars(select(EventPassportBilling.fee_amount_cents)))
        )
        counts.append(session.scalar(select(func.count()).where(Device.revoked_at.is_not(None))))
        counts.append(session.scalar(select(func.count()).where(ApiToken.revoked_at.is_not(None))))
        counts.append(
            session.scalar(select(func.count()).where(Promoter.suspended_at.is_not(None)))
        )
        counts.append(session.scalar(select(func.count()).where(AccountLink.used_at.is_not(None))))
        counts.append(sorted(session.scalars(select(PassportTier.min_points))))
        counts.append(sorted(session.scalars(select(Promoter.status))))
        counts.append(sorted(session.scalars(select(Event.is_soca_passport_enabled))))
        counts.append(sorted(session.scalars(select(Package.status))))
        counts.append(sorted(session.scalars(select(EventReward.status))))
        counts.append(sorted(session.scalars(select(PassportReward.status))))
        counts.append(sorted(session.scalars(select(Ticket.status))))
        counts.append(sorted(session.scalars(select(Event.name))))
        counts.append(sorted(session.scalars(select(Package.name))))
        counts.append(sorted(session.scalars(select(EventReward.name))))
        return tuple(counts)


def test_every_form_refuses_a_missing_or_wrong_csrf_token(
    app: FastAPI, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        pending = Promoter(name="Waiting", email="w@example.com")
        session.add(pending)
        session.flush()
        pending_id = pending.id
        package_id = packages.create(
            session, event_id=world.event_c_id, name="Early bird", price=Decimal("20")
        ).id
        reward_id = event_rewards.create(
            session,
            event_id=world.event_c_id,
            name="Big spender",
            trigger_type="MINIMUM_SPEND",
            minimum_spend=Decimal("100"),
            reward_type="RECHARGE",
            reward_amount=Decimal("10"),
        ).id
        owner = accounts.create_user(session, username="pending_owner", display_name="P")
        business_id = businesses.create(
            session, name="Pending Cafe", country_code="TT", owner_user_id=owner.id
        ).id
        invited = accounts.create_user(session, username="invited", display_name="I")
        token = invitations.issue(session, user=invited)
        attendee = session.get(User, world.attendee_id)
        assert attendee is not None
        reset_token = account_links.issue(session, user=attendee, purpose=LinkPurpose.RESET)
        perk = PassportReward(user_id=attendee.id, reward_type="VIP_LINE")
        session.add(perk)
        session.flush()
        passport_reward_id = perk.id
    for action, (who, data) in FORMS.items():
        path = action.format(
            branch_id=world.branch_id,
            offer_id=world.offer_id,
            business_id=business_id,
            action="approve",
            token=reset_token if action.startswith("/reset/") else token,
            event_id=world.event_c_id,
            promoter_id=pending_id,
            billing_id=world.billing_a_id,
            device_id=world.door_id,
            package_id=package_id,
            reward_id=reward_id,
            user_id=world.attendee_id,
            passport_reward_id=passport_reward_id,
            ticket_id=world.ticket_id,
            op_id=uuid.uuid4(),
            purchase_id=uuid.uuid4(),
            integration_id=uuid.uuid4(),
        )
        with browser(app) as client:
            if who == "fresh":
                register(client, "fresh_fan")
            elif who != "anonymous":
                login(client, world.emails[who])
            client.get("/socaport-app")  # any page: the visitor now has cookies
            before = _counts(factory)
            for token in (None, "forged", "0" * 64):
                body = dict(data) if token is None else {**data, "csrf_token": token}
                response = client.post(path, data=body)
                assert response.status_code == 403, (action, token, response.status_code)
                assert "form has expired" in response.text
            assert _counts(factory) == before, action
            assert client.get("/passport").status_code in (200, 303)  # still signed in or not


def test_a_token_from_another_browser_is_refused(app: FastAPI, world: WebWorld) -> None:
    with browser(app) as mine, browser(app) as theirs:
        login(mine, world.emails["attendee"])
        page = theirs.get("/passport-promoters").text
        foreign = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = mine.post(
            "/passport-promoters",
            data={"csrf_token": foreign, "name": "X", "email": "x@example.com"},
        )
        assert response.status_code == 403


def test_logout_revokes_the_session_row(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["attendee"])
    cookie = client.cookies["soca_session"]
    page = client.get("/passport").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    client.cookies.set("soca_session", cookie)  # a stolen copy of the old cookie
    assert client.get("/passport").status_code == 303
