"""Seed 002's business side in Debian's Chromium against a real `soca-server serve`: an
owner sets the coffee shop's three tiers (sees the overlap, fixes it, watches the preview
change), and a branch manager pairs a prize tablet from the dashboard with the QR it shows.

One browser for the module. Screenshots at phone width (and the edit page at 1280 px) go
to SOCA_WEB_SCREENSHOTS when set (the README's come from tests/server/web/screenshots).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from kiosk.scanner.decoders import make_decoder, to_gray
from tests.server.web.browser import DESKTOP, PHONE, Served, served_world
from tests.server.web.world import PASSWORD

LAPTOP = DESKTOP
COFFEE = [
    ("Coffee Lover", "محب القهوة", "1", "3", "☕", "#6f4e37"),
    ("Coffee Expert", "خبير القهوة", "4", "9", "🏆", "#c0a062"),
    ("Coffee Master", "أستاذ القهوة", "8", "", "👑", "#ffd700"),  # overlaps Expert until fixed
]


Site = Served


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web world in a SQLite file, served by a real server process."""
    with served_world(tmp_path_factory.mktemp("business-browser")) as served:
        yield served


def _page(chromium: Browser, viewport: ViewportSize) -> Page:
    return chromium.new_context(viewport=viewport, device_scale_factor=2).new_page()


def _log_in(page: Page, site: Site, who: str) -> None:
    page.goto(f"{site.base}/login?next=/business")
    page.fill("#email", site.world.emails[who])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.base}/business")


def _fill_row(page: Page, index: int, row: tuple[str, str, str, str, str, str]) -> None:
    name, name_ar, low, high, icon, colour = row
    page.fill(f"#tier-color-{index}", colour)
    page.fill(f"#tier-name-{index}", name)
    page.fill(f"#tier-name-ar-{index}", name_ar)
    page.fill(f"#tier-min-{index}", low)
    page.fill(f"#tier-max-{index}", high)
    page.fill(f"#tier-icon-{index}", icon)


def test_owner_sets_three_custom_tiers_sees_the_overlap_fixes_it_and_the_preview(
    chromium: Browser, site: Site
) -> None:
    page = _page(chromium, PHONE)
    _log_in(page, site, "owner")
    page.screenshot(path=str(site.shots / "business-dashboard.png"), full_page=True)
    page.click("#nav-offers")
    page.click("#offers >> text=Edit")
    page.check("#tiers-enabled")
    _fill_row(page, 0, COFFEE[0])
    for _ in range(3):
        page.click("#add-tier")  # the script adds a row in place
    expect(page.locator(".tier-row")).to_have_count(4)
    page.locator(".tier-row").nth(3).locator(".remove-tier").click()  # and removes one
    expect(page.locator(".tier-row")).to_have_count(3)
    _fill_row(page, 1, COFFEE[1])
    _fill_row(page, 2, COFFEE[2])
    expect(page.locator("#preview-error")).to_contain_text("overlap")
    page.click("#save")
    expect(page.locator("#tiers-error")).to_be_visible()
    errors = page.locator(".tier-row .tier-error")
    expect(errors).to_have_count(2)
    expect(errors.first).to_contain_text("'coffee-expert' (4-9) and 'coffee-master' (8-∞) overlap")
    page.screenshot(path=str(site.shots / "offer-tiers-error.png"), full_page=True)
    page.fill("#tier-min-2", "10")
    page.fill("#sample", "7")
    expect(page.locator("#preview-en .pass-summary")).to_have_text(
        "4 of 5 • 🏆 Coffee Expert • 7× completed"
    )
    expect(page.locator("#preview-en .pass-next")).to_have_text("3 more for Coffee Master")
    expect(page.locator("#preview-ar .pass-next")).to_have_text("3 إضافية للوصول إلى أستاذ القهوة")
    page.fill("#sample", "12")
    expect(page.locator("#preview-en .pass-summary")).to_have_text(
        "4 of 5 • 👑 Coffee Master • 12× completed"
    )
    page.click("#save")
    expect(page.locator("#saved")).to_be_visible()
    page.screenshot(path=str(site.shots / "offer-tiers.png"), full_page=True)
    wide = page
    wide.set_viewport_size(LAPTOP)
    form, preview = wide.locator(".edit-main"), wide.locator(".edit-side")
    form_box, preview_box = form.bounding_box(), preview.bounding_box()
    assert form_box is not None and preview_box is not None
    assert preview_box["x"] > form_box["x"] + form_box["width"] - 1  # side by side
    expect(wide.locator("#preview-tiers tr")).to_have_count(3)
    wide.screenshot(path=str(site.shots / "offer-tiers-wide.png"))
    wide.context.close()


def test_branch_manager_pairs_a_tablet_with_the_dashboard_qr(chromium: Browser, site: Site) -> None:
    page = _page(chromium, LAPTOP)
    _log_in(page, site, "manager")
    page.click(".pair-tablet")
    expect(page.locator("#pairing-countdown")).to_contain_text("Expires in 9:")
    code = page.locator("#pairing-code").inner_text()
    page.screenshot(path=str(site.shots / "business-pairing-wide.png"), full_page=True)
    page.set_viewport_size(PHONE)  # the same code at phone width: the picture the test reads
    page.screenshot(path=str(site.shots / "business-pairing.png"), full_page=True)
    page.context.close()
    frame = cv2.imread(str(site.shots / "business-pairing.png"))
    assert frame is not None
    texts = [found.text for found in make_decoder().decode(to_gray(frame))]
    assert len(texts) == 1 and texts[0].endswith(f"code={code}"), texts
    paired = httpx.post(
        f"{site.base}/api/v1/devices/pair", json={"code": code, "name": "Bar tablet"}, timeout=10
    )
    assert paired.status_code == 201, paired.text
    assert paired.json()["role"] == "BRANCH"
    assert paired.json()["scope"]["branch_id"] == str(site.world.branch_id)
