"""What an attendee sees, on both engines: tickets split at the event's end, check-ins and
revocations; stamp cards with their offer's own tiers, prize ready and recent history; rewards
in words (used ones stay a while); upcoming passport events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.orm import Session

from core.tiers import CardTier, card_tiers_to_config
from server.db.models import PassportReward, User
from server.db.models.enums import PassportRewardStatus
from server.domain import attendee, cards, passport, qr_codes, tickets
from tests.server.factories import T0, make_event, make_offer, make_user

COFFEE = (
    CardTier("lover", "Coffee Lover", "محب القهوة", 1, 2, "☕", "#6F4E37"),
    CardTier("expert", "Coffee Expert", "خبير القهوة", 3, 5, "🏆", "#C0A062"),
    CardTier("master", "Coffee Master", "أستاذ القهوة", 6, None, "👑", "#FFD700"),
)


def test_tickets_split_at_the_events_end(session: Session) -> None:
    user = make_user(session)
    ended = make_event(session, name="Last Year", starts_at=T0 - timedelta(days=30))
    running = make_event(
        session, name="On Now", starts_at=T0 - timedelta(hours=3), ends_at=T0 + timedelta(hours=1)
    )
    no_end = make_event(session, name="Started Tonight", starts_at=T0 - timedelta(hours=11))
    soon = make_event(session, name="Next Week", starts_at=T0 + timedelta(days=7), venue="Mas Camp")
    later = make_event(session, name="Next Month", starts_at=T0 + timedelta(days=30))
    for event in (later, ended, soon, running, no_end):
        tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    someone_else = make_user(session)
    tickets.issue_ticket(session, event_id=soon.id, user_id=someone_else.id)
    found = attendee.tickets_of(session, user_id=user.id, now=T0)
    assert [t.event_name for t in found.upcoming] == [
        "Started Tonight",
        "On Now",
        "Next Week",
        "Next Month",
    ]
    assert [t.event_name for t in found.past] == ["Last Year"]
    shown = found.upcoming[2]
    assert (shown.venue, shown.country_code, shown.starts_at) == ("Mas Camp", "TT", soon.starts_at)
    assert shown.starts_at.tzname() == "UTC"  # no venue zone yet: read as UTC
    assert shown.drawing == qr_codes.qr_svg(shown.qr_token)  # kept at issue, read with the row
    assert attendee.tickets_of(session, user_id=user.id, now=T0 + timedelta(days=8)).past[
        0
    ].event_name == ("Next Week")


def test_a_ticket_shows_its_first_admission_and_its_revocation(session: Session) -> None:
    user, event = make_user(session), make_event(session, starts_at=T0)
    admitted = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    revoked = tickets.issue_ticket(session, event_id=event.id, user_id=user.id)
    for minutes in (5, 40):  # a re-entry does not move the check-in time
        tickets.record_scan(
            session,
            ticket_id=admitted.id,
            event_id=event.id,
            gate="Main",
            scanned_at=T0 + timedelta(minutes=minutes),
        )
    tickets.revoke_ticket(session, ticket_id=revoked.id, now=T0)
    found = {t.id: t for t in attendee.tickets_of(session, user_id=user.id, now=T0).upcoming}
    assert found[admitted.id].checked_in_at == T0 + timedelta(minutes=5)
    assert not found[admitted.id].revoked and found[admitted.id].qr_token == admitted.qr_token
    assert found[revoked.id].revoked and found[revoked.id].checked_in_at is None


def _visit(session: Session, offer_id: UUID, user_id: UUID, stamps: int, at: list[int]) -> None:
    for _ in range(stamps):
        at[0] += 1
        when = T0 + timedelta(minutes=at[0])
        cards.add_stamp(session, offer_id=offer_id, user_id=user_id, occurred_at=when)


def _claim(session: Session, offer_id: UUID, user_id: UUID, at: list[int]) -> None:
    at[0] += 1
    when = T0 + timedelta(minutes=at[0])
    cards.confirm_prize(session, offer_id=offer_id, user_id=user_id, occurred_at=when)


def test_a_card_with_custom_tiers_shows_tier_next_tier_prize_and_history(
    session: Session,
) -> None:
    user = make_user(session)
    offer = make_offer(session, max_stamps=2, loyalty_tiers=card_tiers_to_config(COFFEE))
    offer.prize = "A free flat white"
    clock = [0]
    for _ in range(4):
        _visit(session, offer.id, user.id, 2, clock)
        _claim(session, offer.id, user.id, clock)
    _visit(session, offer.id, user.id, 2, clock)
    [card] = attendee.cards_of(session, user_id=user.id)
    assert (card.current, card.max, card.completions) == (2, 2, 4)
    assert card.tier is not None and card.tier.name == "Coffee Expert" and card.tier.icon == "🏆"
    assert card.next_tier == "2 more for Coffee Master"
    assert card.prize_ready and card.prize == "A free flat white" and not card.expired
    assert len(card.history) == attendee.HISTORY
    assert [entry.kind for entry in card.history] == ["STAMP", "STAMP", "CLAIM", "STAMP", "STAMP"]
    assert card.history[0].occurred_at == T0 + timedelta(minutes=clock[0])


def test_a_new_card_has_no_tier_and_the_top_tier_has_no_next(session: Session) -> None:
    user = make_user(session)
    fresh = make_offer(session, max_stamps=5)
    top = make_offer(session, max_stamps=1, loyalty_tiers=card_tiers_to_config(COFFEE))
    _visit(session, fresh.id, user.id, 1, clock := [0])
    for _ in range(6):
        _visit(session, top.id, user.id, 1, clock)
        _claim(session, top.id, user.id, clock)
    found = {card.offer_id: card for card in attendee.cards_of(session, user_id=user.id)}
    assert found[fresh.id].tier is None and found[fresh.id].next_tier == "1 more for Bronze Member"
    assert not found[fresh.id].prize_ready
    top_tier = found[top.id].tier
    assert top_tier is not None and top_tier.id == "master" and found[top.id].next_tier is None


def test_rewards_read_in_words_and_a_used_one_stays_a_while(session: Session) -> None:
    user, other = make_user(session), make_user(session)

    def reward(owner: User, kind: str, meta: dict[str, object], **fields: Any) -> PassportReward:
        row = PassportReward(user_id=owner.id, reward_type=kind, metadata_json=meta, **fields)
        session.add(row)
        session.flush()
        return row

    discount = reward(user, "MERCH_DISCOUNT", {"perk": "discount_percent", "value": 15})
    vip = reward(user, "VIP_LINE", {"perk": "vip_line"}, source_tier="GOLD")
    reward(user, "FREE_DRINK", {}, expires_at=T0 - timedelta(days=1))  # expired: not shown
    reward(other, "FREE_DRINK", {})
    passport.redeem_reward(session, reward_id=vip.id, user_id=user.id, now=T0)
    shown = attendee.rewards_of(session, user_id=user.id, now=T0 + timedelta(hours=1))
    assert [(r.id, r.title) for r in shown] == [
        (discount.id, "15 % off merch"),
        (vip.id, "VIP line at the door"),
    ]
    assert "merch stand" in shown[0].how and shown[0].used_at is None
    assert shown[1].used_at == T0 and shown[1].source_tier == "GOLD"
    later = attendee.rewards_of(session, user_id=user.id, now=T0 + attendee.RECENTLY_USED)
    assert [r.id for r in later] == [discount.id]
    assert vip.status == PassportRewardStatus.REDEEMED


def test_upcoming_passport_events_are_listed_soonest_first(session: Session) -> None:
    later = make_event(session, name="Later", starts_at=T0 + timedelta(days=9))
    soon = make_event(session, name="Soon", starts_at=T0 + timedelta(days=2))
    running = make_event(
        session, name="Running", starts_at=T0 - timedelta(days=1), ends_at=T0 + timedelta(hours=2)
    )
    make_event(session, name="Off", starts_at=T0 + timedelta(days=1), enabled=False)
    make_event(session, name="Over", starts_at=T0 - timedelta(days=2))
    found = attendee.upcoming_passport_events(session, now=T0)
    names = [event.name for event in found]
    assert [n for n in names if n in {"Later", "Soon", "Running", "Off", "Over"}] == [
        "Running",
        "Soon",
        "Later",
    ]
    assert {later.id, soon.id, running.id} <= {event.id for event in found}


def test_holdings_say_which_passport_sections_have_rows(session: Session) -> None:
    """One query brings /passport the passport and which sections to read; another user's
    rows count for nothing."""
    user, other = make_user(session), make_user(session)
    assert attendee.holdings_of(session, user_id=user.id) == attendee.Holdings(
        None, cards=False, rewards=False, purchases=False, redemptions=False
    )
    profile = passport.get_or_create_profile(session, user_id=user.id)
    offer = make_offer(session, max_stamps=5)
    _visit(session, offer.id, user.id, 1, [0])
    session.add(PassportReward(user_id=user.id, reward_type="VIP_LINE", metadata_json={}))
    session.flush()
    assert profile.qr_token is not None
    assert attendee.holdings_of(session, user_id=user.id) == attendee.Holdings(
        profile,
        cards=True,
        rewards=True,
        purchases=False,
        redemptions=False,
        drawing=qr_codes.qr_svg(profile.qr_token),  # kept when the passport was made
    )
    assert not any(vars(attendee.holdings_of(session, user_id=other.id)).values())
    assert not any(vars(attendee.holdings_of(session, user_id=uuid4())).values())
