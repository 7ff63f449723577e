"""Seed 002 §5's checklist through the services, on both engines: default tiers, custom tiers
saved and shown, Arabic names, emoji icons, overlap and gap refused naming the tiers, every
tier transition, re-tiering at once, and expiry of inactive passes only (with history)."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.tiers import card_summary
from server.db.models import LoyaltyPass, Offer, PassExpiry, SyncChange
from server.db.models.enums import BusinessStatus, PassStatus
from server.db.session import unit_of_work
from server.domain import branches, businesses, card_reports, cards, offers
from server.domain.offers import TierErrors
from tests.server.factories import T0, make_user

COFFEE: dict[str, Any] = {
    "enabled": True,
    "tiers": [
        {"id": "lover", "name": "Coffee Lover", "nameAr": "محب القهوة", "minRewards": 1,
         "maxRewards": 3, "icon": "☕", "color": "#6F4E37"},
        {"id": "expert", "name": "Coffee Expert", "nameAr": "خبير القهوة", "minRewards": 4,
         "maxRewards": 9, "icon": "🏆", "color": "#C0A062"},
        {"id": "master", "name": "Coffee Master", "nameAr": "أستاذ القهوة", "minRewards": 10,
         "maxRewards": None, "icon": "👑", "color": "#FFD700"},
    ],
}  # fmt: skip
DAYS = 90


def _offer(session: Session, *, tiers: Any = None, max_stamps: int = 2) -> Offer:
    owner = make_user(session)
    business = businesses.create(
        session,
        name="Bean There",
        country_code="TT",
        owner_user_id=owner.id,
        status=BusinessStatus.APPROVED,
    )
    branch = branches.create(session, business_id=business.id, name="Ariapita Ave")
    return offers.create(
        session,
        branch_id=branch.id,
        name="Fifth coffee free",
        prize="A coffee",
        max_stamps=max_stamps,
        loyalty_tiers=tiers,
    )


def _cycles(session: Session, offer: Offer, user_id: uuid.UUID, count: int, start: int = 0) -> None:
    """`count` full cards, each confirmed, one minute apart."""
    minute = start
    for _ in range(count):
        for _stamp in range(offer.max_stamps):
            cards.add_stamp(
                session,
                offer_id=offer.id,
                user_id=user_id,
                occurred_at=T0 + timedelta(minutes=minute),
            )
            minute += 1
        cards.confirm_prize(
            session, offer_id=offer.id, user_id=user_id, occurred_at=T0 + timedelta(minutes=minute)
        )
        minute += 1


def _tier(session: Session, offer: Offer, user_id: uuid.UUID) -> dict[str, Any]:
    tier: dict[str, Any] = cards.pass_view(session, offer_id=offer.id, user_id=user_id)["tier"]
    return tier


def test_an_offer_without_custom_tiers_uses_bronze_silver_gold(session: Session) -> None:
    offer, user = _offer(session), make_user(session)
    assert offer.loyalty_tiers is None
    _cycles(session, offer, user.id, 3)
    assert _tier(session, offer, user.id)["currentTier"] == {
        "id": "silver",
        "name": "Silver Member",
        "icon": "🥈",
    }


def test_custom_tiers_are_stored_in_the_seed_shape_and_shown_on_the_pass(session: Session) -> None:
    shuffled = copy.deepcopy(COFFEE)
    shuffled["tiers"].reverse()
    offer, user = _offer(session, tiers=shuffled), make_user(session)
    session.expire_all()
    stored = session.get(Offer, offer.id)
    assert stored is not None and stored.loyalty_tiers == COFFEE  # normalised: sorted, every key
    _cycles(session, offer, user.id, 4)
    tier = _tier(session, offer, user.id)
    assert tier["currentTier"] == {"id": "expert", "name": "Coffee Expert", "icon": "🏆"}
    assert tier["nextTier"] == {"name": "Coffee Master", "icon": "👑"}
    assert tier["rewardsToNextTier"] == 6


def test_arabic_names_and_emoji_icons_reach_the_card_line(session: Session) -> None:
    offer, user = _offer(session, tiers=COFFEE), make_user(session)
    _cycles(session, offer, user.id, 10)
    card = cards.get_pass(session, offer_id=offer.id, user_id=user.id)
    assert card is not None
    tier = cards.offer_tiers(offer)[2]
    assert card_summary(0, 2, tier, 10, "ar") == "0 من 2 • 👑 أستاذ القهوة • 10× مكتملة"
    assert card_summary(0, 2, tier, 10) == "0 of 2 • 👑 Coffee Master • 10× completed"


@pytest.mark.parametrize(
    ("change", "message", "fields"),
    [
        ({2: {"minRewards": 8}}, "tiers 'expert' (4-9) and 'master' (8-∞) overlap",
         {"loyalty_tiers.expert", "loyalty_tiers.master"}),
        ({1: {"minRewards": 5}}, "gap between tiers 'lover' (1-3) and 'expert' (5-9)",
         {"loyalty_tiers.lover", "loyalty_tiers.expert"}),
        ({2: {"maxRewards": 20}}, "top tier 'master' (10-20) is bounded", {"loyalty_tiers.master"}),
        ({0: {"color": "brown"}}, "tier 'lover': colour 'brown'", {"loyalty_tiers.lover"}),
    ],
)  # fmt: skip
def test_a_bad_tier_set_is_refused_naming_the_tiers_and_changes_nothing(
    session: Session, change: dict[int, dict[str, Any]], message: str, fields: set[str]
) -> None:
    offer = _offer(session, tiers=COFFEE)
    bad = copy.deepcopy(COFFEE)
    for index, values in change.items():
        bad["tiers"][index].update(values)
    with pytest.raises(TierErrors) as refused:
        offers.update(session, offer_id=offer.id, now=T0, inactivity_days=DAYS, loyalty_tiers=bad)
    assert message in refused.value.message
    assert set(refused.value.fields) == fields
    assert refused.value.code == "tier_config" and refused.value.status == 422
    session.refresh(offer)
    assert offer.loyalty_tiers == COFFEE


def test_an_enabled_empty_tier_set_is_refused(session: Session) -> None:
    with pytest.raises(TierErrors, match="at least one tier"):
        _offer(session, tiers={"enabled": True, "tiers": []})


def test_disabled_custom_tiers_mean_the_defaults_and_are_kept_for_later(session: Session) -> None:
    off = {**copy.deepcopy(COFFEE), "enabled": False}
    offer, user = _offer(session, tiers=off), make_user(session)
    _cycles(session, offer, user.id, 1)
    assert _tier(session, offer, user.id)["currentTier"]["name"] == "Bronze Member"
    assert offer.loyalty_tiers is not None and len(offer.loyalty_tiers["tiers"]) == 3


@pytest.mark.parametrize(
    ("tiers", "expected"),
    [
        (None, [None, "bronze", "bronze", "silver", "silver", "silver", "gold", "gold"]),
        (COFFEE, [None, "lover", "lover", "lover", "expert", "expert", "expert", "expert",
                  "expert", "expert", "master", "master"]),
    ],
)  # fmt: skip
def test_every_tier_transition_happens_at_its_threshold(
    session: Session, tiers: Any, expected: list[str | None]
) -> None:
    offer, user = _offer(session, tiers=tiers, max_stamps=1), make_user(session)
    seen: list[str | None] = [None]
    for cycle in range(1, len(expected)):
        cards.add_stamp(
            session,
            offer_id=offer.id,
            user_id=user.id,
            occurred_at=T0 + timedelta(minutes=2 * cycle),
        )
        result = cards.confirm_prize(
            session,
            offer_id=offer.id,
            user_id=user.id,
            occurred_at=T0 + timedelta(minutes=2 * cycle + 1),
        )
        seen.append(result.tier.id if result.tier else None)
        assert result.tier_changed == (expected[cycle] != expected[cycle - 1])
    assert seen == expected


def test_changing_tiers_re_tiers_existing_passes_at_once(session: Session) -> None:
    offer, user, other = _offer(session), make_user(session), make_user(session)
    _cycles(session, offer, user.id, 4)
    _cycles(session, offer, other.id, 1, start=100)
    assert _tier(session, offer, user.id)["currentTier"]["name"] == "Silver Member"
    card = cards.get_pass(session, offer_id=offer.id, user_id=user.id)
    assert card is not None
    later = card.updated_at + timedelta(minutes=1)
    offers.update(
        session,
        offer_id=offer.id,
        now=later,
        inactivity_days=DAYS,
        loyalty_tiers=COFFEE,
    )
    assert _tier(session, offer, user.id)["currentTier"]["name"] == "Coffee Expert"
    session.refresh(card)
    assert card.updated_at == later  # rendered passes (wallet) are told to refresh
    rows = card_reports.passes(session, offer=offer)
    assert {row.user_id: row.tier.name for row in rows if row.tier} == {
        user.id: "Coffee Expert",
        other.id: "Coffee Lover",
    }


def test_a_smaller_card_re_derives_every_pass_from_its_ledger(session: Session) -> None:
    offer, user = _offer(session, max_stamps=5), make_user(session)
    for minute in range(4):
        cards.add_stamp(
            session, offer_id=offer.id, user_id=user.id, occurred_at=T0 + timedelta(minutes=minute)
        )
    offers.update(session, offer_id=offer.id, now=T0, inactivity_days=DAYS, max_stamps=3)
    view = cards.pass_view(session, offer_id=offer.id, user_id=user.id)
    assert view["progress"]["currentStamps"] == 3 and view["progress"]["maxStamps"] == 3


def test_only_inactive_passes_expire_and_the_history_shows_it(session: Session) -> None:
    offer = _offer(session, max_stamps=2)
    idle, regular, loyal = make_user(session), make_user(session), make_user(session)
    now = T0 + timedelta(days=200)
    cards.add_stamp(session, offer_id=offer.id, user_id=idle.id, occurred_at=T0)
    cards.add_stamp(
        session, offer_id=offer.id, user_id=regular.id, occurred_at=now - timedelta(days=3)
    )
    _cycles(session, offer, loyal.id, 8, start=int((now - T0).total_seconds() // 60) - 100)
    assert cards.expire_inactive_passes(session, now=now, inactivity_days=DAYS) == 1
    status = dict(session.execute(select(LoyaltyPass.user_id, LoyaltyPass.status)).all())
    assert status[idle.id] == PassStatus.EXPIRED
    assert status[regular.id] == status[loyal.id] == PassStatus.ACTIVE
    assert cards.expire_inactive_passes(session, now=now, inactivity_days=DAYS) == 0  # once
    card = cards.get_pass(session, offer_id=offer.id, user_id=idle.id)
    assert card is not None
    expiry = session.scalars(select(PassExpiry).where(PassExpiry.pass_id == card.id)).one()
    assert expiry.last_activity_at == T0
    cards.add_stamp(
        session, offer_id=offer.id, user_id=idle.id, occurred_at=now + timedelta(hours=1)
    )
    history = card_reports.history(session, card=card, offer=offer, inactivity_days=DAYS)
    assert [item.what for item in history] == ["Stamp after expiry", "Expired", "Stamp"]
    assert "welcomed back" in history[0].detail
    assert card.status == PassStatus.ACTIVE


def test_expiry_notes_the_card_for_devices(committed_factory: sessionmaker[Session]) -> None:
    with unit_of_work(committed_factory) as session:
        offer, user = _offer(session), make_user(session)
        card_id = cards.add_stamp(
            session, offer_id=offer.id, user_id=user.id, occurred_at=T0
        ).card.id
        branch_id = offer.branch_id
    with unit_of_work(committed_factory) as session:
        before = session.scalar(select(func.max(SyncChange.change_no)))
        later = T0 + timedelta(days=DAYS + 1)
        assert cards.expire_inactive_passes(session, now=later, inactivity_days=DAYS) == 1
    with unit_of_work(committed_factory) as session:
        noted = session.execute(
            select(SyncChange.branch_id, SyncChange.change_no).where(
                SyncChange.entity == "cards", SyncChange.entity_id == str(card_id)
            )
        ).one()
    assert noted.branch_id == branch_id and noted.change_no > before
