"""Issue 18's forms on both engines: buy (and its refusals), mark paid, make and revoke a token."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import IntegrationCredential, PackagePurchase
from server.db.session import unit_of_work
from server.domain import packages
from tests.server.web.conftest import TestClient, login, post_form
from tests.server.web.world import WebWorld


def _package(factory: sessionmaker[Session], world: WebWorld, **fields: object) -> uuid.UUID:
    with unit_of_work(factory) as session:
        return packages.create(
            session,
            event_id=world.event_a_id,
            name="Early Bird",
            price=Decimal("20"),
            status="ACTIVE",
            **fields,  # type: ignore[arg-type]
        ).id


def _purchase(factory: sessionmaker[Session]) -> PackagePurchase:
    with unit_of_work(factory) as session:
        found = session.scalars(select(PackagePurchase)).one()
        session.expunge(found)
        return found


def test_buying_then_the_promoter_marks_it_paid(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    package_id = _package(factory, world, max_quantity=1)
    event_page = f"/events/{world.event_a_id}"
    login(client, world.emails["attendee"])
    bought = post_form(client, event_page, f"{event_page}/packages/{package_id}/buy", {})
    assert bought.status_code == 303 and bought.headers["location"].startswith(
        "/passport#purchase-"
    )
    assert (_purchase(factory).status, _purchase(factory).payment_method) == ("PENDING", "CASH")
    again = post_form(client, event_page, f"{event_page}/packages/{package_id}/buy", {})
    assert again.status_code == 409
    assert 'data-code="PACKAGE_SOLD_OUT"' in again.text
    assert "Sold out: every one has been bought." in again.text
    promoter = TestClient(client.app, follow_redirects=False)
    login(promoter, world.emails["promoter_b"])
    manage_b = f"/promoter/events/{world.event_b_id}/manage"
    hidden = post_form(promoter, manage_b, f"/promoter/purchases/{_purchase(factory).id}/paid", {})
    assert hidden.status_code == 404
    login(promoter, world.emails["promoter_a"])
    manage = f"/promoter/events/{world.event_a_id}/manage"
    assert "Mark paid" in promoter.get(manage).text
    paid = post_form(promoter, manage, f"/promoter/purchases/{_purchase(factory).id}/paid", {})
    assert paid.status_code == 303
    assert _purchase(factory).status == "PAID"


def test_a_token_is_shown_once_and_revoking_stops_it(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    login(client, world.emails["promoter_a"])
    manage = f"/promoter/events/{world.event_a_id}/manage?tab=rewards"
    made = post_form(
        client, manage, f"/promoter/events/{world.event_a_id}/integrations", {"name": "Bar 2"}
    )
    assert made.status_code == 201 and "soca_int_" in made.text
    assert "soca_int_" not in client.get(manage).text
    blank = post_form(client, manage, f"/promoter/events/{world.event_a_id}/integrations", {})
    assert blank.status_code == 303 and "Not made" in client.get(manage).text
    with unit_of_work(factory) as session:
        credential_id = session.scalars(select(IntegrationCredential.id)).one()
    revoked = post_form(client, manage, f"/promoter/integrations/{credential_id}/revoke", {})
    assert revoked.status_code == 303
    with unit_of_work(factory) as session:
        assert session.get_one(IntegrationCredential, credential_id).revoked_at is not None
