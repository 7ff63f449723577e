"""A prize confirmed online and a tablet's offline claim are decided on one card ledger.

Over real HTTP on both engines: the branch manager's confirm-prize API and a
tablet's `pass.claim` for the same full card; whichever is later in the
contract's order loses, as a `conflict` HQ sees with both sides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from core.wire import Op
from server.db.models import SyncOp
from server.db.session import unit_of_work
from tests.server.sync.conftest import Site
from tests.server.sync.world import at, card_op


def fill_card(site: Site, now: datetime) -> None:
    """Three stamps (a full card) on user 0's card from tablet 0, just before `now`."""
    world, tablet, user = site.world, site.world.branches[0], site.world.users[0]
    stamps = [
        at(card_op(world, tablet, user, "stamp", 0), now - timedelta(minutes=10 - m))
        for m in range(3)
    ]
    response = site.push("branch0", stamps)
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 3


def confirm_online(site: Site) -> Any:
    world = site.world
    path = f"/api/branch-manager/confirm-prize/{world.users[0].id}/{world.offer.id}"
    return site.client.post(path, headers=site.auth("manager"))


def tablet_claim(site: Site, when: datetime) -> tuple[Op, dict[str, Any]]:
    world = site.world
    claim = at(card_op(world, world.branches[1], world.users[0], "claim", 0, "green"), when)
    response = site.push("branch1", [claim])
    assert response.status_code == 200, response.text
    return claim, response.json()["results"][0]


def card(site: Site) -> dict[str, Any]:
    world = site.world
    path = f"/api/v1/offers/{world.offer.id}/passes/{world.users[0].id}"
    response = site.client.get(path, headers=site.auth("hq"))
    assert response.status_code == 200, response.text
    return dict(response.json()["progress"])


def conflicts(site: Site) -> list[dict[str, Any]]:
    response = site.client.get("/api/v1/sync/conflicts", headers=site.auth("hq"))
    assert response.status_code == 200, response.text
    return list(response.json())


def test_an_online_prize_overtaken_by_an_earlier_offline_claim_is_a_conflict_for_hq(
    site: Site,
) -> None:
    now = datetime.now(UTC)
    fill_card(site, now)
    online = confirm_online(site)
    assert online.status_code == 200, online.text
    assert online.json()["progress"]["currentStamps"] == 0
    claim, result = tablet_claim(site, now - timedelta(minutes=1))
    assert result["status"] == "applied"  # it sorts first: the full card was its to take
    assert card(site)["rewardsClaimed"] == 1
    (listed,) = conflicts(site)
    assert listed["type"] == "pass.claim" and listed["reason"] == "not_enough_stamps"
    assert listed["device"] is None
    assert listed["user"]["name"] == "Maya Manager" and listed["who"] == "Maya Manager (online)"
    assert listed["won_by"]["op_id"] == str(claim.op_id)
    assert listed["won_by"]["device"]["id"] == str(site.world.branches[1].id)
    assert listed["won_by"]["occurred_at"] < listed["occurred_at"]
    page = site.client.get(f"/api/v1/sync/ops/{listed['op_id']}", headers=site.auth("hq"))
    assert page.json()["first_result"]["status"] == "applied"  # the manager was told yes


def test_a_tablet_claim_after_an_online_confirmation_is_the_conflict(site: Site) -> None:
    now = datetime.now(UTC)
    fill_card(site, now)
    assert confirm_online(site).status_code == 200
    claim, result = tablet_claim(site, now + timedelta(minutes=1))
    assert (result["status"], result["reason"]) == ("conflict", "not_enough_stamps")
    (listed,) = conflicts(site)
    assert listed["op_id"] == str(claim.op_id)
    assert listed["won_by"]["user"]["name"] == "Maya Manager"
    assert card(site)["rewardsClaimed"] == 1


def test_confirming_a_card_that_is_not_full_is_409_and_records_nothing(site: Site) -> None:
    with unit_of_work(site.factory) as session:
        before = session.scalar(select(func.count()).select_from(SyncOp))
    response = confirm_online(site)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_enough_stamps"
    with unit_of_work(site.factory) as session:
        assert session.scalar(select(func.count()).select_from(SyncOp)) == before
    assert card(site)["rewardsClaimed"] == 0
