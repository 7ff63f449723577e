"""HQ ends access as a person does it, in Debian's Chromium against a real `soca-server serve`:
suspending a promoter and signing a user out everywhere, each confirmed first and reported after,
with the victims' open pages signed out; and no page trips the Content-Security-Policy.

Set SOCA_WEB_SCREENSHOTS=DIR to keep the pictures (phone and desktop width).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.server.web.browser import DESKTOP, PHONE, served_world
from tests.server.web.world import PASSWORD, WebWorld


@dataclass
class Site:
    """The running server, its world, where screenshots go, and CSP reports seen."""

    base: str
    world: WebWorld
    shots: Path
    violations: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web world in a SQLite file, served by a real server process."""
    with served_world(tmp_path_factory.mktemp("browser_access")) as served:
        yield Site(served.base, served.world, served.shots)


def _context(chromium: Browser, site: Site) -> BrowserContext:
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2)
    # Chromium reports each blocked script, style or frame on the console.
    context.on(
        "console",
        lambda message: (
            site.violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return context


@pytest.fixture
def contexts(chromium: Browser, site: Site) -> Iterator[list[BrowserContext]]:
    """Two browsers (HQ's and the person whose access ends), each with its own cookies."""
    made = [_context(chromium, site), _context(chromium, site)]
    yield made
    for context in made:
        context.close()


def _log_in(page: Page, site: Site, email: str, then: str) -> None:
    page.goto(f"{site.base}/login?next={then}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.base}{then}")


def _shoot(page: Page, site: Site, name: str) -> None:
    """Photograph the page at phone and at desktop width."""
    page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(site.shots / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)


def test_hq_suspends_a_promoter_after_confirming_then_reinstates_it(
    site: Site, contexts: list[BrowserContext]
) -> None:
    hq, promoter = (context.new_page() for context in contexts)
    _log_in(promoter, site, site.world.emails["promoter_a"], "/promoter")
    _log_in(hq, site, site.world.emails["hq"], "/hq")
    _shoot(hq, site, "hq-access")
    hq.locator("#decided tr", has_text="Island Vibes").get_by_role("link", name="Suspend…").click()
    confirm = hq.locator("section.confirm")
    expect(confirm.locator("h1")).to_have_text("Suspend Island Vibes?")
    expect(confirm).to_contain_text("1 web session revoked")
    expect(confirm).to_contain_text("1 device in its scopes will be revoked")
    _shoot(hq, site, "hq-suspend-confirm")
    hq.get_by_role("button", name="Suspend promoter").click()
    expect(hq.locator("#flash")).to_contain_text(
        "Island Vibes is suspended: 0 API tokens and 1 web session revoked, 1 device revoked."
    )
    _shoot(hq, site, "hq-suspend-done")

    promoter.reload()  # the promoter's open portal: signed out
    expect(promoter).to_have_url(f"{site.base}/login?next=/promoter")
    promoter.fill("#email", site.world.emails["promoter_a"])
    promoter.fill("#password", PASSWORD)
    promoter.click("main button[type=submit]")
    expect(promoter.locator("[role=alert]")).to_contain_text("suspended by Soca Passport HQ")

    hq.goto(f"{site.base}/hq")
    row = hq.locator("#decided tr", has_text="Island Vibes")
    expect(row).to_contain_text("Suspended")
    row.get_by_role("link", name="Reinstate…").click()
    hq.get_by_role("button", name="Reinstate promoter").click()
    expect(hq.locator("#flash")).to_contain_text("Island Vibes is reinstated")
    _log_in(promoter, site, site.world.emails["promoter_a"], "/promoter")
    expect(promoter.locator("h1").first).to_have_text("Your events")
    assert site.violations == []


def test_hq_signs_a_user_out_everywhere_after_confirming(
    site: Site, contexts: list[BrowserContext]
) -> None:
    hq, fan = (context.new_page() for context in contexts)
    _log_in(fan, site, site.world.emails["attendee"], "/passport")
    _log_in(hq, site, site.world.emails["hq"], "/hq")
    hq.fill("#who", "ROAD_RUNNER")
    hq.get_by_role("button", name="Find and confirm…").click()
    expect(hq.locator("section.confirm h1")).to_have_text("Sign road_runner out everywhere?")
    expect(hq.locator("section.confirm")).to_contain_text("0 API tokens and 1 web session revoked")
    _shoot(hq, site, "hq-sign-out-confirm")
    hq.get_by_role("button", name="Sign out everywhere").click()
    expect(hq.locator("#flash")).to_have_text(
        "Signed road_runner out everywhere: 0 API tokens and 1 web session revoked."
    )
    fan.reload()
    expect(fan).to_have_url(f"{site.base}/login?next=/passport")
    # The other pages, opened by the people they are for, trip no CSP rule either.
    _log_in(fan, site, site.world.emails["attendee"], "/passport")
    for path in ("/profile", "/socaport-app", f"/events/{site.world.event_a_id}", "/register"):
        fan.goto(f"{site.base}{path}")
    for path in ("/hq/devices", "/hq/tiers"):
        hq.goto(f"{site.base}{path}")
    assert site.violations == []
