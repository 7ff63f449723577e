"""What a promoter learns about a fan: only its own events' stamps, and the passport's public
figures (handle, points, tier), never what the fan did at other promoters' events."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from server.db.session import unit_of_work
from server.domain import accounts, passport
from tests.server.api.conftest import TestClient
from tests.server.api.world import NOW, World


def test_a_promoter_sees_only_its_own_events_stamps(
    client: TestClient, world: World, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:  # the world's fan also went to promoter B's fête
        passport.award_stamp_for_event_scan(
            session, user_id=world.attendee_id, event_id=world.event_b_id, now=NOW
        )
        own = accounts.issue_api_token(session, user_id=world.attendee_id)
    path = f"/api/v1/passports/{world.attendee_id}"
    whole = client.get(path, headers=world.auth("hq")).json()
    assert {stamp["event_id"] for stamp in whole["stamps"]} == {
        str(world.event_a_id),
        str(world.event_b_id),
    }
    assert (whole["total_events"], whole["total_countries"]) == (2, 2)
    assert client.get(path, headers={"Authorization": f"Bearer {own}"}).json() == whole

    seen_by_a = client.get(path, headers=world.auth("promoter_a")).json()
    assert [stamp["event_id"] for stamp in seen_by_a["stamps"]] == [str(world.event_a_id)]
    assert (seen_by_a["total_events"], seen_by_a["total_countries"]) == (1, 1)
    public = ("user_id", "handle", "total_points", "current_tier")
    assert {key: seen_by_a[key] for key in public} == {key: whole[key] for key in public}
    assert "Fête B" not in str(seen_by_a) and "BB" not in str(seen_by_a)

    seen_by_b = client.get(path, headers=world.auth("promoter_b")).json()
    assert [stamp["event_id"] for stamp in seen_by_b["stamps"]] == [str(world.event_b_id)]
    assert "Fête A" not in str(seen_by_b)
