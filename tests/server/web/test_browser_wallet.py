"""The wallet buttons on /passport in Debian's Chromium against a real `soca-server serve` with
Apple and Google Wallet configured (a test CA standing in for Apple's WWDR, a local stand-in for
Google), at 390 px and 1280 px: the card's and the ticket's .pkpass download, unzip and verify,
and the Google button leads to a save link holding the card's object id.

Set SOCA_WEB_SCREENSHOTS=DIR to keep the pictures.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from server.db import migrate
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.devtools import ServerProcess
from server.domain import cards, events, tickets
from server.wallet.google import jwt
from server.wallet.google.client import SAVE_URL
from tests.server.factories import make_offer
from tests.server.wallet.certs import PASS_TYPE_ID, TEAM_ID, CertFiles, make_cert_files
from tests.server.wallet.google_standin import GoogleStandIn
from tests.server.wallet.test_pkpass import openssl_verify
from tests.server.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE
from tests.server.web.test_browser_attendee import fits
from tests.server.web.world import PASSWORD, WebWorld, build_web_world

ISSUER = "3388000000033333333"


@dataclass
class Site:
    base: str
    world: WebWorld
    certs: CertFiles
    google: GoogleStandIn
    ticket_qr: str
    offer_id: str
    shots: Path
    browser: Browser


def _arrange(url: str) -> tuple[WebWorld, str, str]:
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
            )
            ticket_qr = tickets.issue_ticket(
                session, event_id=fete.id, user_id=world.attendee_id
            ).qr_token
            offer = make_offer(session, max_stamps=5)
            offer.name, offer.prize = "Rum Punch Club", "Free rum punch"
            at = datetime.now(UTC) - timedelta(days=1)
            for kind in ["stamp"] * 5 + ["claim"] + ["stamp"] * 4:
                at += timedelta(minutes=7)
                apply = cards.add_stamp if kind == "stamp" else cards.confirm_prize
                apply(session, offer_id=offer.id, user_id=world.attendee_id, occurred_at=at)
            return world, ticket_qr, str(offer.id)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("wallet-site")
    url = f"sqlite:///{folder / 'site.sqlite3'}"
    world, ticket_qr, offer_id = _arrange(url)
    certs = make_cert_files(folder)
    shots = Path(os.environ.get("SOCA_WEB_SCREENSHOTS") or folder / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    google = GoogleStandIn().start()
    env = {
        "SOCA_APPLE_PASS_TYPE_ID": PASS_TYPE_ID,
        "SOCA_APPLE_TEAM_ID": TEAM_ID,
        "SOCA_APPLE_CERT_FILE": str(certs.cert),
        "SOCA_APPLE_KEY_FILE": str(certs.key),
        "SOCA_APPLE_WWDR_FILE": str(certs.wwdr),
        "SOCA_APNS_URL": "https://127.0.0.1:9",
        "SOCA_GOOGLE_ISSUER_ID": ISSUER,
        "SOCA_GOOGLE_SERVICE_ACCOUNT_FILE": str(google.service_account_file(folder)),
        "SOCA_GOOGLE_WALLET_URL": google.api_url,
    }
    server = ServerProcess(url, env=env)
    with ThreadPoolExecutor(max_workers=1) as pool, sync_playwright() as playwright:
        booted = pool.submit(server.start)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            booted.result()
            yield Site(server.base_url, world, certs, google, ticket_qr, offer_id, shots, browser)
        finally:
            browser.close()
            server.stop()
            google.stop()


@pytest.fixture
def page(site: Site) -> Iterator[Page]:
    context = site.browser.new_context(viewport=PHONE, device_scale_factor=2, accept_downloads=True)
    yield context.new_page()
    context.close()


def log_in(page: Page, site: Site) -> None:
    page.goto(f"{site.base}/login?next=/passport")
    page.fill("#email", site.world.emails["attendee"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.base}/passport")


def download(page: Page, button: str) -> dict[str, bytes]:
    with page.expect_download() as started:
        page.locator(button).click()
    data = Path(started.value.path()).read_bytes()
    assert started.value.suggested_filename.endswith(".pkpass")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_apple_buttons_download_signed_passes(page: Page, site: Site, tmp_path: Path) -> None:
    log_in(page, site)
    card = page.locator(f"#card-{site.offer_id}")
    expect(card.locator("a.wallet.apple")).to_have_text("Add to Apple Wallet")
    expect(card.locator("a.wallet.google")).to_have_text("Save to Google Wallet")
    expect(page.locator("#passport-qr a.wallet.apple")).to_be_visible()
    fits(page)
    page.screenshot(path=str(site.shots / "passport-wallet-390.png"), full_page=True)
    files = download(page, f"#card-{site.offer_id} a.wallet.apple")
    body = json.loads(files["pass.json"])
    assert body["passTypeIdentifier"] == PASS_TYPE_ID and "storeCard" in body
    strings = files["en.lproj/pass.strings"].decode("utf-16")
    assert '"progress.value" = "4 of 5";' in strings and '"completed.value" = "1x";' in strings
    assert openssl_verify(tmp_path, files, site.certs.ca).returncode == 0
    ticket = download(page, "#tickets .ticket a.wallet.apple")
    ticket_body = json.loads(ticket["pass.json"])
    assert "eventTicket" in ticket_body and ticket_body["barcodes"][0]["message"] == site.ticket_qr
    page.set_viewport_size(DESKTOP)
    fits(page)
    page.screenshot(path=str(site.shots / "passport-wallet-1280.png"), full_page=True)


def test_google_button_leads_to_a_save_link_for_the_card(page: Page, site: Site) -> None:
    log_in(page, site)
    page.route(
        "https://pay.google.com/**",
        lambda route: route.fulfill(status=200, body="saved", content_type="text/plain"),
    )
    page.locator(f"#card-{site.offer_id} a.wallet.google").click()
    page.wait_for_url("https://pay.google.com/**")
    token = page.url.removeprefix(SAVE_URL)
    claims = jwt.decode(token, site.google.key.public_key())
    [held] = claims["payload"]["loyaltyObjects"]
    assert f"loyaltyObject/{held['id']}" in site.google.stored
    assert claims["origins"] == [site.base]
