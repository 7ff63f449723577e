"""Issue 18 in Debian's Chromium against a real `soca-server serve`, at 390 px and 1280 px: the
event page's packages, an attendee buying one (pay at the door), every refusal in words, the
purchase's QR on /passport (read back by `soca-kiosk decode`), earned rewards, and the promoter's
Manage Event with purchases, live redemptions and a bar-system token shown once.

Set SOCA_WEB_SCREENSHOTS=DIR to keep the pictures.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from core.wire import DeviceRole, DeviceScope
from server.db import migrate
from server.db.models import PackagePurchase
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.devtools import ServerProcess
from server.domain import accounts, devices, event_rewards, events, packages, spend
from server.domain.packages import ItemSpec

# Through the attendee journeys' module: it imports the browser settings wherever they live.
from tests.server.web.test_browser_attendee import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    SOCA_KIOSK,
    decode,
)
from tests.server.web.world import PASSWORD, WebWorld, build_web_world

PORT = 18141
SECOND_FAN = "second_fan@example.com"


@dataclass
class Shop:
    """The running server, its database, the fête and its packages, and the browser."""

    base: str
    url: str
    world: WebWorld
    event_id: str
    vip_id: str
    shots: Path
    browser: Browser


def _arrange(url: str) -> tuple[WebWorld, str, str]:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        world = build_web_world(factory)
        now = datetime.now(UTC)
        with unit_of_work(factory) as session:
            fete = events.create_event(
                session,
                name="Jouvert Morning",
                starts_at=now + timedelta(days=5),
                venue="Adam Smith Square",
                city="Port of Spain",
                country_code="TT",
                promoter_id=world.promoter_a_id,
                time_zone="America/Port_of_Spain",
            )
            vip = packages.create(
                session,
                event_id=fete.id,
                name="Early Bird VIP",
                description="Entry, two preloaded bar bracelets and the crew T-shirt",
                price=Decimal("95.00"),
                original_price=Decimal("120.00"),
                max_quantity=6,
                max_per_user=1,
                status="ACTIVE",
                sale_end_date=now + timedelta(days=4),
                items=[
                    ItemSpec("Entry", "ENTRY"),
                    ItemSpec("Bar bracelet", "BRACELET", 2, Decimal("50.00")),
                    ItemSpec("Crew T-shirt", "MERCHANDISE"),
                ],
            )
            packages.create(
                session,
                event_id=fete.id,
                name="Last Lap",
                price=Decimal("40.00"),
                status="ACTIVE",
                sale_start_date=now + timedelta(days=2),
                items=[ItemSpec("Entry", "ENTRY")],
            )
            packages.create(session, event_id=fete.id, name="Hidden draft", price=Decimal("1"))
            event_rewards.create(
                session,
                event_id=fete.id,
                name="Spend 150, get 10",
                trigger_type="MINIMUM_SPEND",
                minimum_spend=Decimal("150.00"),
                reward_type="RECHARGE",
                reward_amount=Decimal("10.00"),
                status="ACTIVE",
            )
            spend.record_spend(
                session,
                event_id=fete.id,
                user_id=world.attendee_id,
                amount=Decimal("160.00"),
                occurred_at=now - timedelta(hours=1),
                external_id="bar-1",
            )
            fan = accounts.create_user(
                session, username="second_fan", display_name="Second Fan", email=SECOND_FAN
            )
            fan.password_hash = accounts.hash_password(PASSWORD)
            return world, str(fete.id), str(vip.id)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """A migrated SQLite file served by a real server process, and Debian's Chromium."""
    folder = tmp_path_factory.mktemp("packages")
    url = f"sqlite:///{folder / 'site.sqlite3'}"
    world, event_id, vip_id = _arrange(url)
    shots = Path(os.environ.get("SOCA_WEB_SCREENSHOTS") or folder / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as pool, sync_playwright() as playwright:
        server = ServerProcess(url, port=PORT)
        booted = pool.submit(server.start)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            booted.result()
            yield Shop(server.base_url, url, world, event_id, vip_id, shots, browser)
        finally:
            browser.close()
            server.stop()


@pytest.fixture
def page(shop: Shop) -> Iterator[Page]:
    """A fresh phone-sized browser context (no cookies)."""
    context = shop.browser.new_context(viewport=PHONE, device_scale_factor=2)
    yield context.new_page()
    context.close()


def shoot(page: Page, shop: Shop, name: str) -> None:
    """Photograph the whole page, and check nothing is wider than the screen."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shop.shots / f"{name}.png"), full_page=True)


def log_in(page: Page, shop: Shop, who: str, then: str) -> None:
    page.goto(f"{shop.base}/login?next={then}")
    page.fill("#email", shop.world.emails.get(who, who))
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{shop.base}{then}")


def _purchase_qr(shop: Shop, email: str) -> str:
    engine = make_engine(shop.url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            buyer = accounts.get_by_email(session, email)
            assert buyer is not None
            query = select(PackagePurchase).where(PackagePurchase.user_id == buyer.id)
            found = session.scalars(query).all()
            assert len(found) == 1 and found[0].qr_token
            return found[0].qr_token
    finally:
        engine.dispose()


def _pairing_code(shop: Shop) -> str:
    engine = make_engine(shop.url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return devices.create_pairing_code(
                session,
                role=DeviceRole.DOOR,
                scope=DeviceScope(event_id=uuid.UUID(shop.event_id)),
                now=datetime.now(UTC),
            ).code
    finally:
        engine.dispose()


def kiosk(*args: str, stdin: str | None = None) -> str:
    """Run `soca-kiosk` and return what it printed."""
    done = subprocess.run(
        [SOCA_KIOSK, *args], input=stdin, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


def test_an_attendee_buys_a_package_and_finds_it_on_the_passport(
    page: Page, shop: Shop, tmp_path: Path
) -> None:
    event_path = f"/events/{shop.event_id}"
    page.goto(shop.base + event_path)
    vip = page.locator(f"#package-{shop.vip_id}")
    expect(vip.locator(".price")).to_contain_text("95.00")
    expect(vip.locator(".saving")).to_have_text("Save 25.00")
    expect(vip.locator(".left")).to_have_text("Only 6 left")
    expect(vip).to_contain_text("2 × Bar bracelet, preloaded with 50.00 each")
    expect(vip.locator(".window")).to_contain_text("AST")
    later = page.locator(".package", has_text="Last Lap")
    expect(later.locator(".refusal")).to_contain_text("Not on sale yet: sales open")
    expect(later.locator(".refusal")).to_have_attribute("data-code", "PACKAGE_EXPIRED")
    expect(page.locator(".package", has_text="Hidden draft")).to_have_count(0)
    expect(vip.get_by_role("link", name="Log in to buy")).to_be_visible()
    shoot(page, shop, "event-packages")

    log_in(page, shop, "attendee", event_path)
    page.locator(f"#package-{shop.vip_id} button.buy").click()
    page.wait_for_url(f"{shop.base}/passport#purchase-*")
    expect(page.locator("#flash")).to_contain_text("Pay 95.00 at the door")
    bought = page.locator("#purchases .purchase").first
    expect(bought.locator("h3")).to_have_text("Early Bird VIP")
    expect(bought.locator(".purchase-state")).to_have_text("To pay at the door: 95.00 in cash")
    expect(bought.locator("figcaption")).to_contain_text("hand over the bracelets")
    earned = page.locator("#earned .earned").first
    expect(earned).to_contain_text("10.00 free recharge on the bracelet")
    expect(earned.locator(".pending")).to_contain_text("the bar adds it to your bracelet")
    shoot(page, shop, "passport-purchase")
    picture = tmp_path / "purchase-qr.png"
    bought.locator(".ticket-qr svg").screenshot(path=str(picture))
    assert decode(picture) == [[_purchase_qr(shop, shop.world.emails["attendee"])]]
    page.set_viewport_size(DESKTOP)
    shoot(page, shop, "passport-purchase-wide")

    page.goto(shop.base + event_path)
    page.locator(f"#package-{shop.vip_id} button.buy").click()
    refusal = page.locator("#buy-error")
    expect(refusal).to_have_text("You already have this package: the limit is 1 per person.")
    expect(refusal).to_have_attribute("data-code", "PACKAGE_MAX_PER_USER_EXCEEDED")
    expect(page.locator(f"#package-{shop.vip_id} .left")).to_have_text("Only 5 left")
    shoot(page, shop, "event-packages-refused-wide")


def test_the_promoter_sees_purchases_redemptions_and_makes_a_bar_token(
    page: Page, shop: Shop
) -> None:
    manage = f"/promoter/events/{shop.event_id}/manage?tab=packages"
    log_in(page, shop, "promoter_a", manage)
    expect(page.locator("#purchases h2")).to_contain_text("Purchases (")
    shoot(page, shop, "promoter-manage-purchases")
    page.goto(f"{shop.base}/promoter/events/{shop.event_id}/manage?tab=rewards")
    tally = page.locator(".tally").first
    expect(tally.locator(".given")).to_have_text("1 earned")
    expect(tally.locator(".applied-count")).to_have_text("0 applied to bracelets")
    page.fill("#integration-name", "Main bar POS")
    page.click("#create-integration")
    token = page.locator("#integration-token")
    expect(token).to_contain_text("soca_int_")
    shoot(page, shop, "promoter-integration-token")
    page.goto(f"{shop.base}/promoter/events/{shop.event_id}/manage?tab=rewards")
    expect(page.locator("#integrations")).to_contain_text("Main bar POS")
    expect(page.locator("#integrations")).not_to_contain_text("soca_int_")
    page.set_viewport_size(DESKTOP)
    shoot(page, shop, "promoter-manage-rewards-wide")


def test_the_door_takes_the_cash_and_activates_a_bought_package(
    page: Page, shop: Shop, tmp_path: Path
) -> None:
    event_path = f"/events/{shop.event_id}"
    log_in(page, shop, SECOND_FAN, event_path)
    page.locator(f"#package-{shop.vip_id} button.buy").click()
    page.wait_for_url(f"{shop.base}/passport#purchase-*")
    qr = _purchase_qr(shop, SECOND_FAN)
    data = str(tmp_path / "door")
    kiosk("pair", "--server", shop.base, "--code", _pairing_code(shop), "--data-dir", data)
    kiosk("sync", "--data-dir", data)
    printed = kiosk(
        "run", "--headless", "--codes", "-", "--no-sync", "--data-dir", data, stdin=qr + "\n"
    )
    (line,) = [json.loads(text) for text in printed.splitlines()]
    assert (line["type"], line["verdict"], line["reason"]) == ("package.activate", "green", None)
    kiosk("sync", "--data-dir", data)
    page.reload()
    bought = page.locator("#purchases .purchase").first
    expect(bought.locator(".purchase-state")).to_have_text("Activated: bracelets handed over")
    expect(bought.locator(".ticket-qr")).to_have_count(0)
    shoot(page, shop, "passport-purchase-activated")
    again = kiosk(
        "run", "--headless", "--codes", "-", "--no-sync", "--data-dir", data, stdin=qr + "\n"
    )
    assert json.loads(again)["reason"] == "already_activated"
