"""HQ pages: billing along the allowed path, fees, devices and conflicts, tiers and perks."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.db.models import Device, EventPassportBilling, PassportTier
from server.db.models.enums import BillingStatus
from server.db.session import unit_of_work
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


def test_tiers_are_edited_together_and_checked(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:  # the seeded tiers are shared reference data
        seeded = {
            row.name: (row.min_points, dict(row.perks_json))
            for row in session.scalars(select(PassportTier))
        }
    login(client, world.emails["hq"])
    page = client.get("/hq/tiers")
    assert page.status_code == 200 and 'name="perks_GOLD"' in page.text
    base = {f"min_{name}": str(points) for name, (points, _perks) in seeded.items()}
    base.update({f"perks_{name}": json.dumps(perks) for name, (_p, perks) in seeded.items()})
    clash = post_form(client, "/hq/tiers", "/hq/tiers", {**base, "min_GOLD": base["min_SILVER"]})
    assert clash.status_code == 422
    assert "share the threshold" in clash.text
    bad_json = post_form(client, "/hq/tiers", "/hq/tiers", {**base, "perks_GOLD": "{oops"})
    assert bad_json.status_code == 422
    try:
        saved = post_form(
            client,
            "/hq/tiers",
            "/hq/tiers",
            {**base, "min_GOLD": "750", "perks_GOLD": '{"vip_line": true}'},
        )
        assert saved.status_code == 303
        with unit_of_work(factory) as session:
            gold = session.scalars(select(PassportTier).where(PassportTier.name == "GOLD")).one()
            assert (gold.min_points, gold.perks_json) == (750, {"vip_line": True})
            silver = session.scalars(
                select(PassportTier).where(PassportTier.name == "SILVER")
            ).one()
            assert silver.perks_json == seeded["SILVER"][1]  # untouched tiers keep their perks
    finally:
        with unit_of_work(factory) as session:
            for row in session.scalars(select(PassportTier)):
                row.min_points, row.perks_json = seeded[row.name]
