"""The promoter's and HQ's journeys in a real headless Chromium (Debian's /usr/bin/chromium)
against a real `soca-server serve` process whose only HQ login was made by `create-admin`.

A promoter applies signed out → HQ logs in with create-admin's password and approves (after a
confirmation) → the promoter logs in, creates an event, enables the passport (after seeing the
fee), issues a ticket to an email and a CSV of them, revokes one, shows the pairing QR (decoded
from the screenshot by the kiosk's decoder, then paired with over HTTP) → HQ confirms a billing
status and a device revoke → Manage Event edits. The journeys run at phone width; every page on
the way is checked for horizontal overflow at 390 and at 1280 px and photographed at 390
(SOCA_WEB_SCREENSHOTS=DIR keeps the pictures).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect
from typer.testing import CliRunner

from kiosk.scanner.decoders import make_decoder
from server import cli
from server.devtools import ServerProcess
from tests.server.web.browser import DESKTOP, PHONE, shots_folder

HQ_EMAIL = "hq@soca.example"
HQ_PASSWORD = "steelpan-at-dawn"
PROMOTER_EMAIL = "crew@fresh.example"
PROMOTER_PASSWORD = "wine-n-grind"
SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")
# A Saturday a few weeks ahead, so the ticket stays upcoming whenever the suite runs.
_AHEAD = date.today() + timedelta(days=28)
FETE_DAY = _AHEAD + timedelta(days=(5 - _AHEAD.weekday()) % 7)
BUYER_PASSWORD = "jouvert-morning-mud"
CSV = b"email,name\nann@example.com,Ann\nnot-an-email,Bob\nchris@example.com,Chris\n"


@dataclass
class Site:
    """The running server, where screenshots go, and what the journey learned on the way."""

    base: str
    shots: Path
    contexts: dict[str, BrowserContext] = field(default_factory=dict)
    event_url: str = ""
    looked: int = 0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh server whose only account is the HQ admin that `create-admin` made (the command
    itself, run in this process with the password on standard input; `test_cli` runs it as a
    process of its own)."""
    folder = tmp_path_factory.mktemp("portal")
    url = f"sqlite:///{folder / 'portal.sqlite3'}"
    command = ["create-admin", "--email", HQ_EMAIL, "--database-url", url]
    made = CliRunner().invoke(cli.app, command, input=HQ_PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert f"HQ account {HQ_EMAIL}: created" in made.output
    shots = shots_folder(folder)
    server = ServerProcess(url)
    starting = threading.Thread(target=server.start)  # while Chromium starts
    starting.start()
    found = Site(server.base_url, shots)
    try:
        yield found
    finally:  # the browser's contexts close with the browser
        starting.join()
        server.stop()


@pytest.fixture(scope="module", autouse=True)
def _served(site: Site, chromium: Browser) -> None:
    """Wait for the server once Chromium is up (both start side by side)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{site.base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("soca-server did not answer /health in time")


def _page(chromium: Browser, site: Site, who: str) -> Page:
    """The phone-sized browser of `who` (kept across the module, cookies and all)."""
    if who not in site.contexts:
        site.contexts[who] = chromium.new_context(viewport=PHONE, device_scale_factor=2)
    return (
        site.contexts[who].pages[0] if site.contexts[who].pages else site.contexts[who].new_page()
    )


_FITS = """() => document.documentElement.scrollWidth <= window.innerWidth
  && [...document.querySelectorAll('.scroll, .card')].every(e => e.scrollWidth <= e.clientWidth + 1)"""


def _fits(page: Page) -> bool:
    """Nothing wider than the window, and no table or card scrolling part of itself away."""
    return bool(page.evaluate(_FITS))


def look(page: Page, site: Site, name: str | None = None) -> None:
    """Check the page fits a phone and a desktop (nothing wider than the window), photograph
    it at phone width."""
    page.wait_for_load_state()  # a click that navigates returns before the next page loads
    assert _fits(page), f"{page.url} overflows at 390 px"
    page.set_viewport_size(DESKTOP)
    try:
        assert _fits(page), f"{page.url} overflows at 1280 px"
    finally:
        page.set_viewport_size(PHONE)
    if name is not None:
        page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)
    site.looked += 1


def log_in(page: Page, site: Site, email: str, password: str, lands: str) -> None:
    page.goto(f"{site.base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.base}{lands}")


def confirm(page: Page, site: Site, shot: str | None = None) -> None:
    """Answer a confirmation page: it says what will happen; the button does it."""
    expect(page.locator("section.confirm h1")).to_contain_text("?")
    look(page, site, shot)
    page.click("#confirm")


def test_a_promoter_applies_signed_out_and_hq_approves_after_a_confirmation(
    chromium: Browser, site: Site
) -> None:
    page = _page(chromium, site, "promoter")
    page.goto(f"{site.base}/passport-promoters")
    page.fill("#name", "Fresh Crew")
    page.fill("#email", PROMOTER_EMAIL)
    page.fill("#location_country", "TT")
    page.fill("#password", PROMOTER_PASSWORD)
    page.fill("#password_confirmation", "not-the-same")
    page.click("#get-started button[type=submit]")
    expect(page.locator("#password_confirmation-error")).to_contain_text("differ")
    look(page, site, "passport-promoters-error")
    page.fill("#password", PROMOTER_PASSWORD)
    page.fill("#password_confirmation", PROMOTER_PASSWORD)
    page.click("#get-started button[type=submit]")
    page.wait_for_url(f"{site.base}/promoter")
    expect(page.locator("h1")).to_have_text("Your application is pending")
    expect(page.locator("#confirmation")).to_have_text(
        "Thanks! We’ll contact you shortly to activate Soca Passport for your events."
    )
    look(page, site, "promoter-pending")

    hq = _page(chromium, site, "hq")
    log_in(hq, site, HQ_EMAIL, HQ_PASSWORD, lands="/hq")
    row = hq.locator("#pending tr", has_text="Fresh Crew")
    look(hq, site, "hq")
    row.get_by_role("link", name="Approve").click()
    confirm(hq, site, "hq-approve-confirm")
    hq.wait_for_url(f"{site.base}/hq")
    expect(hq.locator("#flash")).to_contain_text("Approved Fresh Crew")
    expect(hq.locator("#decided tr", has_text="Fresh Crew")).to_contain_text("APPROVED")


def test_the_promoter_logs_in_creates_an_event_and_enables_the_passport(
    chromium: Browser, site: Site
) -> None:
    page = _page(chromium, site, "promoter")
    page.context.clear_cookies()
    log_in(page, site, PROMOTER_EMAIL, PROMOTER_PASSWORD, lands="/promoter")
    expect(page.locator("#no-events")).to_be_visible()
    look(page, site, "promoter-portal-empty")
    page.click("#new-event")
    page.fill("#name", "Sunrise Cooler Fête")
    page.select_option("#time_zone", "America/Port_of_Spain")
    page.fill("#starts_at", f"{FETE_DAY.isoformat()}T21:00")
    page.fill("#venue", "Queen's Park Savannah")
    page.fill("#city", "Port of Spain")
    page.fill("#carnival_circuit", "Trinidad Carnival")
    page.fill("#stamp_points_default", "120")
    look(page, site, "promoter-event-new")
    page.click("#save-event")
    expect(page.locator("#flash")).to_contain_text("Sunrise Cooler Fête is created")
    expect(page.locator("#event-when")).to_contain_text(f"Sat {FETE_DAY:%d %b %Y}, 21:00 AST")
    site.event_url = page.url
    page.click("#enable")
    expect(page.locator("section.confirm")).to_contain_text("billed per event")
    confirm(page, site, "promoter-enable-confirm")
    expect(page.locator("#passport-enabled")).to_be_visible()
    expect(page.locator("#billing-status")).to_have_text("DRAFT")
    look(page, site, "promoter-event-enabled")


def test_the_promoter_issues_tickets_by_email_and_csv_and_revokes_one(
    chromium: Browser, site: Site
) -> None:
    page = _page(chromium, site, "promoter")
    page.goto(site.event_url)
    page.click("#tickets")
    page.fill("#ticket-email", "buyer@example.com")
    page.fill("#ticket-holder", "Kesha B")
    page.click("#issue-ticket")
    expect(page.locator("#flash")).to_contain_text("issued to buyer@example.com (Kesha B)")
    upload: FilePayload = {"name": "buyers.csv", "mimeType": "text/csv", "buffer": CSV}
    page.set_input_files("#ticket-csv", files=[upload])
    page.click("#upload-csv")
    expect(page.locator("#csv-summary")).to_contain_text("2 of 3 rows got a ticket")
    expect(page.locator("#csv-rows")).to_contain_text("doesn't look like an email")
    expect(page.locator("#ticket-total")).to_have_text("3")
    look(page, site, "promoter-tickets")
    page.locator("#ticket-list tr", has_text="Ann").get_by_role("link", name="Revoke").click()
    confirm(page, site, "promoter-ticket-revoke")
    expect(page.locator("#flash")).to_contain_text("(Ann) is revoked")
    expect(page.locator("#ticket-list tr", has_text="Ann")).to_contain_text("Revoked")
    expect(page.locator("#ticket-list tr", has_text="Kesha B")).to_contain_text("Valid")


def test_the_pairing_qr_names_this_server_and_a_code_that_pairs(
    chromium: Browser, site: Site
) -> None:
    page = _page(chromium, site, "promoter")
    page.goto(site.event_url)
    page.click("#new-pairing-code")
    code = page.locator("#pairing-code").inner_text()
    box = page.locator("#pairing-code").bounding_box()
    size = page.locator("#pairing-code").evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert box is not None and box["height"] < 1.5 * size  # one line: never broken on a phone
    clock = page.locator("[data-countdown]")
    before = clock.inner_text()
    page.wait_for_timeout(1200)
    assert clock.inner_text() != before and clock.inner_text().startswith("9:5")
    look(page, site, "promoter-pairing")
    png = page.locator("#pairing-qr").screenshot()
    gray = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert gray is not None
    [read] = make_decoder().decode(gray.astype(np.uint8))
    link = urlparse(read.text)
    query = parse_qs(link.query)
    assert (link.scheme, link.netloc) == ("socapassport", "pair")
    assert query == {"server": [site.base], "code": [code]}
    paired = httpx.post(
        f"{site.base}/api/v1/devices/pair", json={"code": code, "name": "Gate from QR"}, timeout=10
    )
    assert paired.status_code == 201, paired.text
    assert paired.json()["role"] == "DOOR"
    page.goto(f"{site.base}/promoter/devices")
    expect(page.locator("#devices")).to_contain_text("Gate from QR")
    look(page, site, "promoter-devices")


def test_hq_confirms_a_billing_status_and_a_device_revoke(chromium: Browser, site: Site) -> None:
    hq = _page(chromium, site, "hq")
    hq.goto(f"{site.base}/hq")
    bill = hq.locator("#bills tr", has_text="Sunrise Cooler Fête")
    expect(bill).to_contain_text("Fresh Crew")
    bill.get_by_label("Fee for Sunrise Cooler Fête").fill("19.99")
    bill.get_by_role("button", name="Set fee").click()
    expect(hq.locator("#flash")).to_contain_text("is now 19.99 USD")
    hq.locator("#bills tr", has_text="Sunrise Cooler Fête").get_by_role(
        "link", name="Waived"
    ).click()
    expect(hq.locator("section.confirm")).to_contain_text("This is final.")
    confirm(hq, site, "hq-billing-confirm")
    expect(hq.locator("#flash")).to_contain_text("is Waived")
    hq.goto(f"{site.base}/hq/devices")
    device = hq.locator("#devices tr", has_text="Gate from QR")
    expect(device).to_contain_text("Event: Sunrise Cooler Fête")
    look(hq, site, "hq-devices")
    device.get_by_role("link", name="Revoke").click()
    confirm(hq, site, "hq-device-revoke")
    expect(hq.locator("#flash")).to_contain_text("Gate from QR is revoked")
    hq.goto(f"{site.base}/hq/tiers")
    look(hq, site, "hq-tiers")


def test_manage_event_creates_edits_and_deletes_packages_and_rewards(
    chromium: Browser, site: Site
) -> None:
    page = _page(chromium, site, "promoter")
    page.goto(site.event_url)
    page.click("#manage")
    expect(page.locator("h1")).to_have_text("Manage Event")
    look(page, site)
    page.click("#create-package")
    page.fill("#pkg-name", "Early Bird VIP")
    page.fill("#pkg-price", "80")
    page.fill("#pkg-original", "100")
    page.fill("#pkg-stock", "200")
    page.fill("#pkg-per-user", "2")
    page.fill("#pkg-end", "2026-02-14T18:00")
    page.fill("#item-name-0", "VIP entry")
    page.select_option("#item-type-1", "BRACELET")
    page.fill("#item-name-1", "Bar bracelet")
    page.fill("#item-quantity-1", "2")
    page.fill("#item-amount-1", "50")
    look(page, site, "promoter-package-form")
    page.click("#save-package")
    expect(page.locator("#flash")).to_contain_text("Package “Early Bird VIP” created.")
    package = page.locator("article.package", has_text="Early Bird VIP")
    expect(package).to_contain_text("2 × Bar bracelet, preloaded with 50.00 each")
    package.get_by_role("link", name="Edit").click()
    page.fill("#pkg-price", "75")
    page.click("#save-package")
    expect(page.locator("#flash")).to_contain_text("saved")
    page.locator("article.package").get_by_role("button", name="Put on sale").click()
    expect(page.locator("#flash")).to_contain_text("is on sale")
    expect(page.locator("article.package")).to_contain_text("On sale")
    look(page, site, "promoter-manage-packages")
    page.click("#tab-rewards")
    page.click("#create-reward")
    page.fill("#rw-name", "Spend 150, get 10")
    page.fill("#rw-spend", "150")
    page.fill("#rw-amount", "10")
    look(page, site, "promoter-reward-form")
    page.click("#save-reward")
    expect(page.locator("#flash")).to_contain_text("created")
    expect(page.locator("article.reward")).to_contain_text(
        "Spend 150.00 or more → 10.00 free recharge on the bracelet"
    )
    look(page, site, "promoter-manage-rewards")
    page.locator("article.reward").get_by_role("link", name="Delete").click()
    confirm(page, site)
    expect(page.locator("#flash")).to_contain_text("deleted")


def _kiosk(*args: str, stdin: str | None = None) -> str:
    """Run `soca-kiosk` as the door's operator would, as a process of its own."""
    done = subprocess.run(
        [SOCA_KIOSK, *args], input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_buyer_registers_sees_the_ticket_and_the_door_admits_it(
    chromium: Browser, site: Site, tmp_path: Path
) -> None:
    """The end of the journey: the email the promoter typed becomes an attendee whose ticket
    QR, read off the phone's screen, gets them in at a kiosk paired from the portal."""
    buyer = _page(chromium, site, "buyer")
    buyer.goto(f"{site.base}/register?next=/passport")
    buyer.fill("#username", "kesha_b")
    buyer.fill("#email", "buyer@example.com")
    buyer.fill("#password", BUYER_PASSWORD)
    buyer.click("main button[type=submit]")
    buyer.wait_for_url(f"{site.base}/passport")
    ticket = buyer.locator("#tickets .ticket", has_text="Sunrise Cooler Fête")
    expect(ticket.locator("figcaption")).to_have_text("Show this at the door")
    look(buyer, site, "journey-buyer-passport")
    shot = tmp_path / "ticket.png"
    ticket.locator(".ticket-qr svg").screenshot(path=str(shot))
    [line] = _kiosk("decode", str(shot)).splitlines()
    [qr] = json.loads(line)["codes"]

    promoter = _page(chromium, site, "promoter")
    promoter.goto(site.event_url)
    promoter.click("#new-pairing-code")
    code = promoter.locator("#pairing-code").inner_text()
    door = str(tmp_path / "door")
    _kiosk(
        "pair", "--server", site.base, "--code", code, "--name", "North gate", "--data-dir", door
    )
    verdicts = _kiosk(
        "run", "--headless", "--codes", "-", "--no-sync", "--data-dir", door, stdin=qr + "\n"
    )
    [verdict] = [json.loads(v) for v in verdicts.splitlines()]
    assert (verdict["verdict"], verdict["type"]) == ("green", "ticket.scan")
    synced = json.loads(_kiosk("sync", "--json", "--data-dir", door))
    assert synced["pending"] == 0, synced

    promoter.goto(site.event_url)
    expect(promoter.locator("#admitted")).to_have_text("1")
    expect(promoter.locator("#event-devices")).to_contain_text("North gate")
    look(promoter, site, "journey-promoter-arrival")
