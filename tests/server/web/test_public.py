"""Public pages: /socaport-app and its three CTA paths, /passport-promoters, event pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import PassportProfile, Promoter, User
from server.db.models.enums import PromoterStatus
from server.db.session import unit_of_work
from server.domain import accounts
from tests.server.factories import make_event
from tests.server.web.conftest import post_form, register

HERO = "Your Caribbean Carnival Journey in One Digital Passport."
CONFIRMATION = "Thanks! We’ll contact you shortly to activate Soca Passport for your events."


def test_landing_page_has_the_seed_copy_and_live_figures(client: TestClient) -> None:
    register(client, "first_fan")
    client.cookies.clear()
    page = client.get("/socaport-app")
    assert page.status_code == 200
    for copy in (
        "Soca Passport",
        HERO,
        "Create Your Free Passport",
        "Track your events across multiple carnivals.",
        "Earn Fête Credits and unlock perks.",
        "Keep a digital record of your Caribbean journey.",
        "Create your free passport.",
        "Attend passport-enabled events and get scanned.",
        "Collect stamps, earn rewards, and upgrade your status.",
        'href="/passport-promoters"',
    ):
        assert copy in page.text, copy
    assert '<strong id="total-passports">1</strong>' in page.text


def test_cta_signed_out_goes_through_sign_up_then_to_passport(client: TestClient) -> None:
    page = client.get("/socaport-app")
    assert 'href="/register?next=/passport&amp;create=1"' in page.text
    done = register(client, "new_fan")
    assert done.headers["location"] == "/passport"
    assert '@<span id="handle">new_fan</span>' in client.get("/passport").text


def test_cta_signed_out_login_creates_the_missing_passport(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        accounts.create_user(
            session,
            username="old_fan",
            display_name="Old",
            email="old@example.com",
            password="wine-n-grind",
        )
    done = post_form(
        client,
        "/login?next=/passport&create=1",
        "/login",
        {
            "email": "old@example.com",
            "password": "wine-n-grind",
            "next": "/passport",
            "create": "1",
        },
    )
    assert done.headers["location"] == "/passport"
    assert 'id="handle">old_fan<' in client.get("/passport").text


def test_cta_signed_in_without_passport_creates_one(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        accounts.create_user(
            session,
            username="no_pass",
            display_name="No",
            email="np@example.com",
            password="wine-n-grind",
        )
    post_form(client, "/login", "/login", {"email": "np@example.com", "password": "wine-n-grind"})
    assert "No passport yet" in client.get("/passport").text
    page = client.get("/socaport-app")
    assert 'action="/socaport-app/start"' in page.text
    created = post_form(client, "/socaport-app", "/socaport-app/start", {})
    assert created.status_code == 303
    assert created.headers["location"] == "/passport"
    with unit_of_work(factory) as session:
        user = session.scalars(select(User).where(User.username == "no_pass")).one()
        assert session.scalar(select(PassportProfile).where(PassportProfile.user_id == user.id))


def test_cta_with_a_passport_links_straight_to_it(client: TestClient) -> None:
    register(client, "has_pass")
    page = client.get("/socaport-app")
    assert '<a class="button" id="cta" href="/passport">' in page.text


def test_promoters_page_has_the_seed_copy(client: TestClient) -> None:
    page = client.get("/passport-promoters")
    for copy in (
        "Soca Passport for Promoters",
        "Reward your fête fans, track loyalty across events, and see who keeps coming back.",
        "Get Started as a Promoter",
        "Know Your Superfans",
        "Reward Loyalty Easily",
        "Multi-Event Insights",
        "Create a promoter account.",
        "Add your event and enable Soca Passport.",
        "Scan attendees at the door and issue stamps.",
        "Per-event pricing coming soon. During beta, you can request access to try Soca "
        "Passport at your event.",
    ):
        assert copy in page.text, copy


def test_promoter_sign_up_shows_field_errors_then_succeeds(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    bad = post_form(
        client,
        "/passport-promoters",
        "/passport-promoters",
        {"name": "", "email": "not-an-email", "location_country": "Trinidad"},
    )
    assert bad.status_code == 422
    assert 'id="name-error"' in bad.text
    assert 'id="email-error"' in bad.text
    assert 'id="location_country-error"' in bad.text
    assert 'value="Trinidad"' in bad.text  # what they typed is kept
    good = post_form(
        client,
        "/passport-promoters",
        "/passport-promoters",
        {
            "name": "Island Vibes",
            "email": "hello@islandvibes.example",
            "organization": "Island Vibes Ent.",
            "location_city": "Port of Spain",
            "location_country": "tt",
            "website_or_social": "@islandvibes",
            "event_types": "fêtes, brunches",
            "password": "wine-n-grind",
            "password_confirmation": "wine-n-grind",
        },
    )
    assert (good.status_code, good.headers["location"]) == (303, "/promoter")
    assert CONFIRMATION in client.get("/promoter").text  # signed in, and told it is pending
    with unit_of_work(factory) as session:
        promoter = session.scalars(select(Promoter)).one()
        assert promoter.status == PromoterStatus.PENDING
        assert promoter.location_country == "TT"
        assert promoter.user_id is not None  # the account was made with the application


def test_promoter_sign_up_links_the_signed_in_user(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    register(client, "promo_user")
    post_form(
        client,
        "/passport-promoters",
        "/passport-promoters",
        {"name": "Promo", "email": "promo@example.com"},
    )
    again = post_form(
        client,
        "/passport-promoters",
        "/passport-promoters",
        {"name": "Promo", "email": "promo@example.com"},
    )
    assert again.status_code == 409
    assert "We already have an application from this email" in again.text
    with unit_of_work(factory) as session:
        user = session.scalars(select(User).where(User.username == "promo_user")).one()
        assert session.scalars(select(Promoter)).one().user_id == user.id


def test_event_page_shows_the_badge_only_when_enabled(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        on = make_event(session, name="Soca Brainwash", points=75).id
        off = make_event(session, name="Quiet Lime", enabled=False).id
    enabled = client.get(f"/events/{on}")
    assert "Soca Passport Enabled" in enabled.text
    assert "Earn 75 points" in enabled.text
    disabled = client.get(f"/events/{off}")
    assert disabled.status_code == 200
    assert "Quiet Lime" in disabled.text
    assert "Soca Passport" not in disabled.text.split("</header>", 1)[1]
    assert "points" not in disabled.text.split("</header>", 1)[1]


def test_unknown_pages_are_html_and_the_api_keeps_json(client: TestClient) -> None:
    page = client.get("/events/not-a-uuid")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "find that event" in page.text
    nowhere = client.get("/nowhere")
    assert nowhere.status_code == 404 and "<html" in nowhere.text
    api = client.get("/api/v1/nowhere")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


def test_api_paths_outside_api_keep_json_errors(client: TestClient) -> None:
    response = client.get("/health", headers={"Authorization": "Bearer dead-token"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
