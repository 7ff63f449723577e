"""End to end in a real headless Chromium (Debian's /usr/bin/chromium) against a real
`soca-server serve` process: the CTA paths, a stamp after a kiosk sync, a promoter enabling the
passport and reading attendance. The promoter's and HQ's own journeys (applying, approval,
events, tickets, pairing, Manage Event) are in `test_portal_browser.py`.

Each page is photographed at phone width; set SOCA_WEB_SCREENSHOTS=DIR to keep the pictures
(the README's come from `SOCA_WEB_SCREENSHOTS=tests/server/web/screenshots`).
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import unit_of_work
from server.domain import accounts
from tests.server.web.browser import PHONE, Served, served_world
from tests.server.web.world import PASSWORD, WebWorld

_SEQ = itertools.count(1)
Site = Served


def _no_passport_account(factory: sessionmaker[Session], _world: WebWorld) -> None:
    with unit_of_work(factory) as session:
        accounts.create_user(
            session,
            username="no_passport",
            display_name="No Passport",
            email="no_passport@example.com",
            password=PASSWORD,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web world and an account without a passport, served by a real server process."""
    with served_world(tmp_path_factory.mktemp("browser"), _no_passport_account) as served:
        yield served


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh phone-sized browser context (no cookies)."""
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2)
    yield context.new_page()
    context.close()


def shoot(page: Page, site: Site, name: str) -> None:
    """Photograph the whole page at phone width."""
    page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)


def log_in(page: Page, site: Site, email: str, then: str = "/passport") -> None:
    page.goto(f"{site.base}/login?next={then}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.base}{then}")


def test_cta_signed_out_registers_then_lands_on_passport(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/socaport-app")
    expect(page.locator("h1")).to_have_text("Soca Passport")
    shoot(page, site, "socaport-app")
    page.click("#cta")
    expect(page).to_have_url(re.compile(r"/register\?next=/passport"))
    shoot(page, site, "register")
    page.fill("#username", "browser_fan")
    page.fill("#email", "browser_fan@example.com")
    page.fill("#password", "wine-n-grind")
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.base}/passport")
    expect(page.locator("#handle")).to_have_text("browser_fan")


def test_cta_signed_in_without_passport_creates_it(page: Page, site: Site) -> None:
    log_in(page, site, "no_passport@example.com", then="/socaport-app")
    page.click("#cta")
    page.wait_for_url(f"{site.base}/passport")
    expect(page.locator("#handle")).to_have_text("no_passport")


def test_cta_with_a_passport_goes_straight_to_it(page: Page, site: Site) -> None:
    log_in(page, site, site.world.emails["attendee"], then="/socaport-app")
    expect(page.locator("#cta")).to_have_attribute("href", "/passport")
    page.click("#cta")
    page.wait_for_url(f"{site.base}/passport")


def _door_scan(site: Site) -> None:
    at = datetime.now(UTC).isoformat()
    op = {
        "op_id": str(uuid.uuid4()),
        "seq": next(_SEQ),
        "type": "ticket.scan",
        "occurred_at": at,
        "device_clock": at,
        "payload": {
            "qr": site.world.ticket_qr,
            "event_id": str(site.world.event_a_id),
            "gate": "Main",
        },
    }
    response = httpx.post(
        f"{site.base}/api/v1/sync/push",
        json={"device_time": at, "ops": [op]},
        headers={"Authorization": f"Bearer {site.world.door_token}"},
        timeout=10,
    )
    response.raise_for_status()
    result = response.json()["results"][0]
    assert result["status"] in ("applied", "duplicate"), result


def test_passport_shows_a_stamp_after_a_kiosk_sync(page: Page, site: Site) -> None:
    log_in(page, site, site.world.emails["attendee"])
    _door_scan(site)
    page.reload()
    stamp = page.locator("#stamps .stamp").first
    expect(stamp).to_contain_text("Soca Sunrise")
    expect(stamp).to_contain_text("TT")
    expect(page.locator("#points")).to_have_text("50")
    box = page.locator(".qr svg").bounding_box()
    assert box is not None and box["width"] >= 250  # big enough to scan off the phone
    shoot(page, site, "passport")
    page.goto(f"{site.base}/events/{site.world.event_a_id}")
    expect(page.locator("#passport-badge")).to_have_text("Soca Passport Enabled")
    shoot(page, site, "event")


def test_promoter_enables_the_passport_and_sees_attendance(page: Page, site: Site) -> None:
    _door_scan(site)
    log_in(page, site, site.world.emails["promoter_a"], then="/promoter")
    shoot(page, site, "promoter-portal")
    page.click("text=Miami Lime")
    page.click("#enable")
    page.click("#confirm")  # after the page that shows the fee
    expect(page.locator("#passport-enabled")).to_be_visible()
    expect(page.locator("#billing-status")).to_have_text("DRAFT")
    page.goto(f"{site.base}/promoter/events/{site.world.event_a_id}")
    expect(page.locator("#admitted")).to_have_text("1")
    expect(page.locator("#arrivals-chart rect")).to_have_count(1)
    shoot(page, site, "promoter-event")
