"""Perks in words: seed 000's perk keys, unknown keys, settings that are not perks, rewards."""

from __future__ import annotations

import pytest

from core.perks import PERK_REWARD_TYPES, perk_sentence, perk_sentences, reward_words


def test_a_tiers_perks_read_as_sentences_in_order() -> None:
    perks = {
        "discount_percent": 15,
        "vip_line": True,
        "reward_valid_days": 30,
        "free_drink": 2,
        "early_access": True,
        "backstage_tour": True,
        "guest_passes": 3,
    }
    assert perk_sentences(perks) == [
        "15 % off merch",
        "VIP line at the door",
        "2 free drinks at the bar",
        "Early access to tickets",
        "Backstage tour",
        "Guest passes: 3",
    ]


@pytest.mark.parametrize("value", [False, None, 0, ""])
def test_a_perk_that_is_off_is_not_listed(value: object) -> None:
    assert perk_sentence("vip_line", value) is None
    assert perk_sentences({"vip_line": value}) == []


def test_numbers_read_without_noise() -> None:
    assert perk_sentence("discount_percent", 12.5) == "12.5 % off merch"
    assert perk_sentence("discount_percent", 10.0) == "10 % off merch"
    assert perk_sentence("free_drink", True) == "A free drink at the bar"
    assert perk_sentence("free_drink", 1) == "A free drink at the bar"


def test_every_reward_type_says_what_it_is_and_how_to_redeem_it() -> None:
    for perk, reward_type in PERK_REWARD_TYPES.items():
        words = reward_words(reward_type, {"perk": perk, "tier": "GOLD"})
        assert words.title and "{" not in words.title and "_" not in words.title
        assert "Use now" in words.how and words.how.endswith(".")
    discount = reward_words("MERCH_DISCOUNT", {"perk": "discount_percent", "value": 15})
    assert discount.title == "15 % off merch" and "merch stand" in discount.how


def test_rewards_without_metadata_still_read_as_words() -> None:
    assert reward_words("MERCH_DISCOUNT", {}).title == "A discount on merch"
    assert reward_words("VIP_LINE", {"tier": "GOLD"}).title == "VIP line at the door"
    other = reward_words("HQ_GIFT_BAG", {})
    assert other.title == "Hq gift bag" and "Use now" in other.how
