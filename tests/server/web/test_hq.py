"""HQ pages: billing along the allowed path, fees, devices and conflicts, tiers and perks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import Device, EventPassportBilling, PassportTier
from server.db.models.enums import BillingStatus
from server.db.session import unit_of_work
from server.domain import tiers
from tests.server.web.conftest import login, post_form
from tests.server.web.world import WebWorld


def _bill(factory: sessionmaker[Session], world: WebWorld) -> EventPassportBilling:
    with unit_of_work(factory) as session:
        bill = session.get(EventPassportBilling, world.billing_a_id)
        assert bill is not None
        return bill


def test_billing_moves_only_along_the_allowed_path(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["hq"])
    page = client.get("/hq").text
    assert "Soca Sunrise" in page  # bills name their event
    status = f"/hq/billing/{world.billing_a_id}/status"
    refused = post_form(client, "/hq", status, {"status": "PAID"})
    assert refused.status_code == 409
    assert "DRAFT" in refused.text and "PAID" in refused.text
    assert _bill(factory, world).status == BillingStatus.DRAFT
    no_fee = post_form(client, "/hq", status, {"status": "PENDING_PAYMENT"})
    assert no_fee.status_code == 409  # a fee first
    bad_fee = post_form(client, "/hq", f"/hq/billing/{world.billing_a_id}/fee", {"fee": "lots"})
    assert bad_fee.status_code == 422
    fee = post_form(client, "/hq", f"/hq/billing/{world.billing_a_id}/fee", {"fee": "19.99"})
    assert fee.status_code == 303
    assert _bill(factory, world).fee_amount_cents == 1999
    assert post_form(client, "/hq", status, {"status": "PENDING_PAYMENT"}).status_code == 303
    assert post_form(client, "/hq", status, {"status": "PAID"}).status_code == 303
    assert _bill(factory, world).status == BillingStatus.PAID
    assert "19.99 USD" in client.get("/hq").text


def test_devices_page_lists_devices_and_revokes(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["hq"])
    page = client.get("/hq/devices")
    assert page.status_code == 200
    assert "Gate 1" in page.text
    assert "No conflicts." in page.text
    done = post_form(client, "/hq/devices", f"/hq/devices/{world.door_id}/revoke", {})
    assert done.status_code == 303
    with unit_of_work(factory) as session:
        device = session.get(Device, world.door_id)
        assert device is not None and device.revoked_at is not None
    assert "revoked" in client.get("/hq/devices").text


def _tier_fields(seeded: dict[str, tuple[int, dict[str, Any]]]) -> dict[str, str]:
    """The tiers form as the page fills it in: points, and each perk as a field."""
    fields = {}
    for name, (points, perks) in seeded.items():
        fields[f"min_{name}"] = str(points)
        for perk in tiers.PERK_FIELDS:
            value = perks.get(perk.key)
            if perk.is_flag and value:
                fields[f"{perk.key}_{name}"] = "on"
            elif not perk.is_flag:
                fields[f"{perk.key}_{name}"] = str(value or "")
    return fields


def test_tiers_are_edited_as_fields_together_and_checked(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:  # the seeded tiers are shared reference data
        seeded = {
            row.name: (row.min_points, dict(row.perks_json))
            for row in session.scalars(select(PassportTier))
        }
    login(client, world.emails["hq"])
    page = client.get("/hq/tiers")
    assert page.status_code == 200
    assert 'name="discount_percent_GOLD"' in page.text and "perks_GOLD" not in page.text
    assert 'id="vip_line_GOLD" name="vip_line_GOLD" value="on" checked' in page.text
    base = _tier_fields(seeded)
    clash = post_form(client, "/hq/tiers", "/hq/tiers", {**base, "min_GOLD": base["min_SILVER"]})
    assert clash.status_code == 422
    assert "share the threshold" in clash.text
    too_much = post_form(client, "/hq/tiers", "/hq/tiers", {**base, "discount_percent_GOLD": "150"})
    assert too_much.status_code == 422
    assert "GOLD, discount on merch: Type a whole number from 0 to 100." in too_much.text
    huge = post_form(client, "/hq/tiers", "/hq/tiers", {**base, "min_GOLD": "9" * 30})
    assert huge.status_code == 422
    try:
        gold_fields = {k: v for k, v in base.items() if not k.endswith("_GOLD")}
        gold_fields.update(
            {"min_GOLD": "750", "vip_line_GOLD": "on", "discount_percent_GOLD": "12"}
        )
        saved = post_form(client, "/hq/tiers", "/hq/tiers", gold_fields)
        assert saved.status_code == 303
        assert "Tiers saved" in client.get("/hq/tiers").text
        with unit_of_work(factory) as session:
            gold = session.scalars(select(PassportTier).where(PassportTier.name == "GOLD")).one()
            assert (gold.min_points, gold.perks_json) == (
                750,
                {"vip_line": True, "discount_percent": 12},
            )
            silver = session.scalars(
                select(PassportTier).where(PassportTier.name == "SILVER")
            ).one()
            assert silver.perks_json == seeded["SILVER"][1]  # untouched tiers keep their perks
    finally:
        with unit_of_work(factory) as session:
            for row in session.scalars(select(PassportTier)):
                row.min_points, row.perks_json = seeded[row.name]
