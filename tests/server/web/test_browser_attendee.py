"""The attendee's journeys in Debian's Chromium against a real `soca-server serve`, at 390 px and
1280 px: tickets on /passport whose QR, photographed off the page, `soca-kiosk decode` reads back
as the ticket's token; a stamp card with custom tiers; the events page; and forgot password →
a mail through a real local SMTP server → a new password → signed in.

Set SOCA_WEB_SCREENSHOTS=DIR to keep the phone-width pictures (the README's come from
`SOCA_WEB_SCREENSHOTS=tests/server/web/screenshots`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from core.tiers import CardTier, card_tiers_to_config
from server.db import migrate
from server.db.models import PassportProfile, PassportReward
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.devtools import ServerProcess
from server.domain import cards, events, passport, tickets
from tests.server.factories import make_offer
from tests.server.mailbox import Mailbox, local_smtp, reset_link
from tests.server.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, shots_folder
from tests.server.web.world import PASSWORD, WebWorld, build_web_world

WIDTHS = (PHONE, DESKTOP)
SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")
TIERS = (
    CardTier("regular", "Regular", "منتظم", 1, 1, "⭐", "#3366FF"),
    CardTier("vip", "VIP", "مميز", 2, 3, "🥂", "#C0A062"),
    CardTier("platinum", "Platinum", "بلاتيني", 4, None, "👑", "#E5E4E2"),
)


@dataclass
class Site:
    """The running server, its world and mailbox, where screenshots go, and the browser."""

    base: str
    world: WebWorld
    mailbox: Mailbox
    shots: Path
    ticket_qr: str
    passport_qr: str
    offer_id: str
    browser: Browser


def _arrange(url: str) -> tuple[WebWorld, str, str, str]:
    """The web world, plus an upcoming ticket and a full stamp card with custom tiers."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        world = build_web_world(factory)
        with unit_of_work(factory) as session:
            fete = events.create_event(
                session,
                name="Road March Fête",
                starts_at=datetime.now(UTC) + timedelta(days=3),
                venue="Queen's Park Savannah",
                city="Port of Spain",
                country_code="TT",
                carnival_circuit="Trinidad Carnival",
            )
            events.enable_passport(session, event_id=fete.id)
            ticket_qr = tickets.issue_ticket(
                session, event_id=fete.id, user_id=world.attendee_id
            ).qr_token
            offer = make_offer(session, max_stamps=3, loyalty_tiers=card_tiers_to_config(TIERS))
            offer.prize = "Free rum punch"
            at = datetime.now(UTC) - timedelta(days=1)
            for kind in ["stamp"] * 3 + ["claim"] + ["stamp"] * 3 + ["claim"] + ["stamp"] * 3:
                at += timedelta(minutes=7)
                apply = cards.add_stamp if kind == "stamp" else cards.confirm_prize
                apply(session, offer_id=offer.id, user_id=world.attendee_id, occurred_at=at)
            session.add(
                PassportReward(
                    user_id=world.attendee_id,
                    reward_type="MERCH_DISCOUNT",
                    metadata_json={"perk": "discount_percent", "value": 15, "tier": "SILVER"},
                    source_tier="SILVER",
                )
            )
            profile = passport.get_profile(session, user_id=world.attendee_id)
            assert isinstance(profile, PassportProfile) and profile.qr_token
            return world, ticket_qr, profile.qr_token, str(offer.id)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A migrated SQLite file served by a real server process that mails a local SMTP server,
    and Debian's Chromium (headless, one for the module), launched while the server boots."""
    folder = tmp_path_factory.mktemp("attendee")
    url = f"sqlite:///{folder / 'site.sqlite3'}"
    world, ticket_qr, passport_qr, offer_id = _arrange(url)
    shots = shots_folder(folder)
    with (
        local_smtp() as mailbox,
        pytest.MonkeyPatch.context() as patch,
        ThreadPoolExecutor(max_workers=1) as pool,
        sync_playwright() as playwright,
    ):
        for name, value in mailbox.environment().items():
            patch.setenv(name, value)
        server = ServerProcess(url)
        booted = pool.submit(server.start)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            booted.result()
            yield Site(
                server.base_url, world, mailbox, shots, ticket_qr, passport_qr, offer_id, browser
            )
        finally:
            browser.close()
            server.stop()


@pytest.fixture
def page(site: Site) -> Iterator[Page]:
    """A fresh phone-sized browser context (no cookies)."""
    context = site.browser.new_context(viewport=PHONE, device_scale_factor=2)
    yield context.new_page()
    context.close()


def shoot(page: Page, site: Site, name: str) -> None:
    """Photograph the whole page."""
    page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)


def fits(page: Page) -> None:
    """Nothing is wider than the screen (no sideways scrolling, nothing clipped)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in(page: Page, site: Site, email: str, then: str = "/passport") -> None:
    page.goto(f"{site.base}/login?next={then}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.base}{then}")


def decode(*images: Path) -> list[list[str]]:
    """What `soca-kiosk decode` reads in each image."""
    done = subprocess.run(
        [SOCA_KIOSK, "decode", *map(str, images)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line)["codes"] for line in done.stdout.splitlines()]


def test_tickets_on_the_passport_and_their_qr_decodes_to_the_token(
    page: Page, site: Site, tmp_path: Path
) -> None:
    log_in(page, site, site.world.emails["attendee"])
    ticket = page.locator("#tickets .ticket").first
    expect(ticket.locator(".ticket-event")).to_have_text("Road March Fête")
    expect(ticket).to_contain_text("Queen's Park Savannah · Port of Spain · TT")
    expect(ticket.locator("figcaption")).to_have_text("Show this at the door")
    expect(page.locator("#passport-qr .qr-caption")).to_have_text("Show this at the bar for stamps")
    past = page.locator("#past-tickets")
    expect(past.locator("li").first).to_be_hidden()  # folded away until opened
    fits(page)
    shoot(page, site, "passport-tickets")
    ticket_shot, passport_shot = tmp_path / "ticket-qr.png", tmp_path / "passport-qr.png"
    ticket.locator(".ticket-qr svg").screenshot(path=str(ticket_shot))
    page.locator("#passport-qr svg").screenshot(path=str(passport_shot))
    assert decode(ticket_shot, passport_shot) == [[site.ticket_qr], [site.passport_qr]]
    past.locator("summary").click()
    expect(past.locator("li").first).to_contain_text("Soca Sunrise")
    reward = page.locator(".reward", has_text="15 % off merch")
    expect(reward.locator(".how")).to_contain_text("merch stand")
    reward.locator("summary").click()
    reward.get_by_role("button", name="Yes, use it now").click()
    expect(page.locator(".reward", has_text="15 % off merch").locator(".used")).to_contain_text(
        "Used"
    )
    page.set_viewport_size(DESKTOP)
    box = ticket.locator(".ticket-qr svg").bounding_box()
    assert box is not None and 250 <= box["width"] <= 400  # big, not a wall of QR on a laptop
    fits(page)


def test_a_stamp_card_shows_its_tier_prize_and_history(page: Page, site: Site) -> None:
    log_in(page, site, site.world.emails["attendee"])
    for width in WIDTHS:
        page.set_viewport_size(width)
        card = page.locator(f"#card-{site.offer_id}")
        expect(card.locator(".card-tier")).to_have_text("🥂 VIP")
        expect(card.locator(".completions")).to_have_text("2× completed")
        expect(card.locator(".next-tier")).to_have_text("2 more for Platinum")
        expect(card.locator(".prize-ready")).to_contain_text("Prize ready: Free rum punch")
        expect(card.locator(".history li")).to_have_count(5)
        expect(card.locator(".history")).to_contain_text("Prize claimed")
        fits(page)
    page.set_viewport_size(PHONE)
    card.screenshot(path=str(site.shots / "passport-card.png"))


def test_the_events_page_lists_upcoming_passport_events(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/socaport-app")
    page.click("header >> text=Events")
    page.wait_for_url(f"{site.base}/events")
    item = page.locator("#events .event-item", has_text="Road March Fête")
    expect(item).to_contain_text("+50 points")
    fits(page)
    shoot(page, site, "events")
    page.set_viewport_size(DESKTOP)
    fits(page)
    item.locator("a").click()
    expect(page.locator("#passport-badge")).to_have_text("Soca Passport Enabled")


@pytest.mark.parametrize(
    ("width", "who", "home"),
    [(PHONE, "attendee", "/passport"), (DESKTOP, "promoter_a", "/promoter")],
)
def test_forgot_password_mail_reset_signed_in(
    page: Page, site: Site, width: ViewportSize, who: str, home: str
) -> None:
    phone = width == PHONE
    page.set_viewport_size(width)
    sent = len(site.mailbox.messages)
    page.goto(f"{site.base}/login")
    page.click("#forgot")
    page.fill("#email", site.world.emails[who])
    page.click("button[type=submit]")
    expect(page.locator("#reset-sent")).to_contain_text("If an account exists for")
    fits(page)
    if phone:
        shoot(page, site, "forgot-password-sent")
    link = reset_link(site.mailbox.wait_for(sent + 1)[-1])
    page.goto(link)
    expect(page.locator("#reset-account")).to_have_text(site.world.emails[who])
    if phone:
        page.fill("#password", "violet-steelpan-mango-47")
        page.fill("#confirm", "not-the-same")
        page.click("button[type=submit]")
        expect(page.locator("#confirm-error")).to_have_text("The two passwords differ.")
        shoot(page, site, "reset-password")
    fits(page)
    page.fill("#password", "violet-steelpan-mango-47")
    page.fill("#confirm", "violet-steelpan-mango-47")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.base}{home}")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This link was already used")
    if phone:
        shoot(page, site, "reset-link-used")
    page.click("#new-link")
    page.wait_for_url(f"{site.base}/forgot-password")
