"""The attendee's pages: /passport shows upcoming tickets with the QR the door admits and folds
past ones away, says what each QR is for, shows stamp cards with their own tiers, and lets a
reward be used once; /events lists upcoming passport events. (The services under them are
tested on both engines in tests/server/domain/test_attendee.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from core.tiers import CardTier, card_tiers_to_config
from server.db.models import PassportReward, utcnow
from server.db.session import unit_of_work
from server.domain import accounts, cards, events, tickets
from server.domain.qr_codes import qr_svg
from tests.server.api.world import password_hash
from tests.server.factories import make_event, make_offer
from tests.server.web.conftest import login, post_form, token_of
from tests.server.web.world import WebWorld

TIERS = (
    CardTier("regular", "Regular", "منتظم", 1, 1, "⭐", "#3366FF"),
    CardTier("vip", "VIP", "مميز", 2, 3, "🥂", "#C0A062"),
    CardTier("platinum", "Platinum", "بلاتيني", 4, None, "👑", "#E5E4E2"),
)


@pytest.fixture
def web_engine(sqlite_engine: Engine) -> Engine:
    """Pages on SQLite only."""
    return sqlite_engine


def _section(page: str, element_id: str, end: str) -> str:
    return page.split(f'id="{element_id}"', 1)[1].split(end, 1)[0]


def test_upcoming_tickets_show_the_door_qr_and_past_ones_fold_away(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        soon = events.create_event(
            session,
            name="Road March Fête",
            starts_at=utcnow() + timedelta(days=3),
            venue="Queen's Park Savannah",
            city="Port of Spain",
            country_code="TT",
        )
        ticket = tickets.issue_ticket(session, event_id=soon.id, user_id=world.attendee_id)
        token, code = ticket.qr_token, ticket.code
    login(client, world.emails["attendee"])
    page = client.get("/passport").text
    upcoming = _section(page, "tickets", "</section>")
    assert "Road March Fête" in upcoming and "Soca Sunrise" not in upcoming
    assert "Queen's Park Savannah · Port of Spain · TT" in upcoming.replace("&#39;", "'")
    assert qr_svg(token) in upcoming  # the ticket's own token, the one the door admits
    assert "Show this at the door" in upcoming and f"Ticket {code}" in upcoming
    assert re.search(r"\w{3} \d\d \w{3} \d{4} · \d\d:\d\d UTC", upcoming)
    past = _section(page, "past-tickets", "</details>")
    assert "Past tickets (1)" in past and "Soca Sunrise" in past and "<svg" not in past
    assert 'id="passport-qr"' in page and "Show this at the bar for stamps" in page
    assert page.index('id="tickets"') < page.index('id="passport-qr"')  # tickets first
    assert 'href="/events"' in page


def test_a_revoked_ticket_says_so_and_shows_no_qr(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        event = make_event(session, name="Cancelled Lime", starts_at=utcnow() + timedelta(days=1))
        ticket = tickets.issue_ticket(session, event_id=event.id, user_id=world.attendee_id)
        tickets.revoke_ticket(session, ticket_id=ticket.id, now=utcnow())
        token = ticket.qr_token
    login(client, world.emails["attendee"])
    upcoming = _section(client.get("/passport").text, "tickets", "</section>")
    assert "was revoked" in upcoming and qr_svg(token) not in upcoming and "<svg" not in upcoming


def test_tickets_show_even_without_a_passport(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        buyer = accounts.create_user(
            session, username="buyer", display_name="Buyer", email="b@x.example"
        )
        buyer.password_hash = password_hash()  # the hash of PASSWORD, computed once per run
        event = make_event(session, name="First Fête", starts_at=utcnow() + timedelta(days=1))
        token = tickets.issue_ticket(session, event_id=event.id, user_id=buyer.id).qr_token
    login(client, "b@x.example")
    page = client.get("/passport").text
    assert qr_svg(token) in page and "No passport yet" in page


def test_a_card_with_custom_tiers_shows_tier_prize_ready_and_history(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        offer = make_offer(session, max_stamps=2, loyalty_tiers=card_tiers_to_config(TIERS))
        offer.prize = "Free rum punch"
        at = utcnow() - timedelta(hours=2)
        for _cycle in range(2):
            for _stamp in range(2):
                at += timedelta(minutes=1)
                cards.add_stamp(
                    session, offer_id=offer.id, user_id=world.attendee_id, occurred_at=at
                )
            at += timedelta(minutes=1)
            cards.confirm_prize(
                session, offer_id=offer.id, user_id=world.attendee_id, occurred_at=at
            )
        for _stamp in range(2):
            at += timedelta(minutes=1)
            cards.add_stamp(session, offer_id=offer.id, user_id=world.attendee_id, occurred_at=at)
        offer_id = offer.id
    login(client, world.emails["attendee"])
    card = _section(client.get("/passport").text, f"card-{offer_id}", "</article>")
    assert 'style="background:#C0A062"' in card and "🥂 VIP</span>" in card
    assert "2× completed" in card and "2 of 2</strong>" in card
    assert "2 more for Platinum" in card
    assert "Prize ready: Free rum punch" in card
    history = card.split('class="history"', 1)[1]
    assert history.count("<li>") == 5 and "Prize claimed" in history and "Stamp" in history
    assert card.count('class="dot on"') == 2


def test_a_reward_reads_in_words_and_is_used_once(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        mine = PassportReward(
            user_id=world.attendee_id,
            reward_type="MERCH_DISCOUNT",
            metadata_json={"perk": "discount_percent", "value": 15, "tier": "ELITE"},
            source_tier="ELITE",
        )
        other = accounts.create_user(session, username="other_fan", display_name="Other")
        theirs = PassportReward(user_id=other.id, reward_type="FREE_DRINK")
        session.add_all([mine, theirs])
        session.flush()
        mine_id, theirs_id = mine.id, theirs.id
    login(client, world.emails["attendee"])
    page = client.get("/passport").text
    reward = _section(page, f"reward-{mine_id}", "</li>")
    assert "15 % off merch" in reward and "Elite perk" in reward and "merch stand" in reward
    assert "discount_percent" not in page and "{" not in reward
    used = post_form(client, "/passport", f"/passport/rewards/{mine_id}/use", {})
    assert used.status_code == 303 and used.headers["location"] == f"/passport#reward-{mine_id}"
    after = _section(client.get("/passport").text, f"reward-{mine_id}", "</li>")
    assert "Used " in after and "Use now" not in after
    again = post_form(client, "/passport", f"/passport/rewards/{mine_id}/use", {})
    assert again.status_code == 409
    token = token_of(client.get("/passport").text)
    for foreign in (theirs_id, "not-a-uuid"):
        response = client.post(f"/passport/rewards/{foreign}/use", data={"csrf_token": token})
        assert response.status_code == 404


def test_the_events_page_lists_upcoming_passport_events(
    client: TestClient, world: WebWorld, factory: sessionmaker[Session]
) -> None:
    with unit_of_work(factory) as session:
        soon = make_event(
            session,
            name="J'Ouvert Warm-up",
            starts_at=utcnow() + timedelta(days=2),
            venue="Mas Camp",
            city="Port of Spain",
        )
        make_event(
            session, name="Private Lime", starts_at=utcnow() + timedelta(days=1), enabled=False
        )
        soon_id = soon.id
    page = client.get("/events")  # no sign-in needed
    assert page.status_code == 200
    listed = _section(page.text, "events", "</ul>")
    assert f'href="/events/{soon_id}"' in listed and "J&#39;Ouvert Warm-up" in listed
    assert "Mas Camp · Port of Spain · TT" in listed and "+50 points" in listed
    assert "Private Lime" not in listed and "Soca Sunrise" not in listed  # off, and over
    assert client.get(f"/events/{soon_id}").status_code == 200


def test_the_events_page_says_when_nothing_is_coming(client: TestClient) -> None:
    assert 'id="no-events"' in client.get("/events").text
