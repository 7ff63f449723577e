"""Stamp-card tiers by completions (seed 002): defaults, custom JSON, validation, seed shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.errors import TierConfigError
from core.tiers import (
    DEFAULT_CARD_TIERS,
    CardTier,
    card_progress_dict,
    card_summary,
    card_tier_for,
    card_tier_progress,
    card_tiers_to_config,
    confirm_prize_response,
    parse_card_tier_config,
    validate_card_tiers,
)

COFFEE_SHOP: dict[str, Any] = {
    "enabled": True,
    "tiers": [
        {
            "id": "lover",
            "name": "Coffee Lover",
            "nameAr": "محب القهوة",
            "minRewards": 1,
            "maxRewards": 3,
            "icon": "☕",
            "color": "#6F4E37",
        },
        {
            "id": "expert",
            "name": "Coffee Expert",
            "nameAr": "خبير القهوة",
            "minRewards": 4,
            "maxRewards": 9,
            "icon": "🏆",
            "color": "#C0A062",
        },
        {
            "id": "master",
            "name": "Coffee Master",
            "nameAr": "أستاذ القهوة",
            "minRewards": 10,
            "maxRewards": None,
            "icon": "👑",
            "color": "#FFD700",
        },
    ],
}


def tier(tier_id: str, low: int, high: int | None) -> CardTier:
    """A tier with filler names, for validation tests."""
    return CardTier(tier_id, tier_id.title(), tier_id, low, high, "⭐")


def reference_tier(claimed: int, tiers: list[CardTier]) -> CardTier | None:
    """Brute force: the one tier whose range holds the count."""
    matches = [
        t
        for t in tiers
        if t.min_rewards <= claimed and (t.max_rewards is None or claimed <= t.max_rewards)
    ]
    assert len(matches) <= 1
    return matches[0] if matches else None


@st.composite
def card_tier_sets(draw: st.DrawFn) -> list[CardTier]:
    """A valid partition: contiguous ranges from some start >= 1, the last one unbounded."""
    start = draw(st.integers(1, 5))
    widths = draw(st.lists(st.integers(1, 8), max_size=5))
    tiers = []
    low = start
    for index, width in enumerate(widths):
        tiers.append(tier(f"t{index}", low, low + width - 1))
        low += width
    tiers.append(tier(f"t{len(widths)}", low, None))
    return draw(st.permutations(tiers))


def boundaries(tiers: list[CardTier]) -> set[int]:
    """Every count at or next to a tier edge."""
    edges = set()
    for t in tiers:
        for edge in (t.min_rewards, t.max_rewards):
            if edge is not None:
                edges.update({edge - 1, edge, edge + 1})
    return {e for e in edges if e >= 0}


# ------------------------------------------------------------------------ default tiers


@pytest.mark.parametrize(
    ("claimed", "expected"),
    [(1, "bronze"), (2, "bronze"), (3, "silver"), (5, "silver"), (6, "gold"), (500, "gold")],
)
def test_default_tiers_follow_the_seed_ranges(claimed: int, expected: str) -> None:
    found = card_tier_for(claimed)
    assert found is not None
    assert found.id == expected


def test_a_customer_with_no_completions_has_no_tier() -> None:
    progress = card_tier_progress(0)
    assert progress.current is None
    assert progress.next_tier == DEFAULT_CARD_TIERS[0]
    assert progress.rewards_to_next_tier == 1
    assert not progress.is_top_tier


def test_third_completion_upgrades_bronze_to_silver() -> None:
    before, after = card_tier_for(2), card_tier_for(3)
    assert before is not None
    assert after is not None
    assert (before.label(), after.label()) == ("🥉 Bronze Member", "🥈 Silver Member")


def test_sixth_completion_upgrades_silver_to_gold_the_top_tier() -> None:
    progress = card_tier_progress(6)
    assert progress.current is not None
    assert progress.current.name == "Gold Member"
    assert progress.next_tier is None
    assert progress.rewards_to_next_tier == 0
    assert progress.is_top_tier


def test_default_tiers_have_arabic_names() -> None:
    assert all(t.name_ar and t.name_ar != t.name for t in DEFAULT_CARD_TIERS)
    assert validate_card_tiers(DEFAULT_CARD_TIERS) == DEFAULT_CARD_TIERS


# ------------------------------------------------------------------------- seed shapes


def test_confirm_prize_response_is_exactly_the_seed_example() -> None:
    assert confirm_prize_response(0, 5, 3) == {
        "success": True,
        "progress": {
            "currentStamps": 0,
            "maxStamps": 5,
            "rewardsClaimed": 3,
            "stampsEarned": 0,
            "stampsRequired": 5,
        },
        "tier": {
            "currentTier": {"id": "silver", "name": "Silver Member", "icon": "🥈"},
            "rewardsClaimed": 3,
            "rewardsToNextTier": 3,
            "nextTier": {"name": "Gold Member", "icon": "🥇"},
            "isTopTier": False,
        },
        "newCycleStarted": True,
        "totalCompletions": 3,
    }


def test_tier_dict_has_nulls_below_the_first_tier_and_at_the_top() -> None:
    assert card_tier_progress(0).to_seed_dict()["currentTier"] is None
    assert card_tier_progress(9).to_seed_dict() == {
        "currentTier": {"id": "gold", "name": "Gold Member", "icon": "🥇"},
        "rewardsClaimed": 9,
        "rewardsToNextTier": 0,
        "nextTier": None,
        "isTopTier": True,
    }


def test_seed_dicts_are_json_serialisable() -> None:
    text = json.dumps(confirm_prize_response(2, 5, 0), ensure_ascii=False)
    assert json.loads(text)["tier"]["currentTier"] is None


def test_card_progress_mid_cycle() -> None:
    assert card_progress_dict(4, 5, 7) == {
        "currentStamps": 4,
        "maxStamps": 5,
        "rewardsClaimed": 7,
        "stampsEarned": 4,
        "stampsRequired": 5,
    }


@pytest.mark.parametrize(("current", "maximum", "claimed"), [(6, 5, 0), (0, 0, 0), (-1, 5, 0)])
def test_impossible_card_figures_are_refused(current: int, maximum: int, claimed: int) -> None:
    with pytest.raises(ValueError):
        card_progress_dict(current, maximum, claimed)


# ------------------------------------------------------------------------ display line


def test_summary_reads_like_the_seed_pass() -> None:
    gold = card_tier_for(7)
    assert card_summary(4, 5, gold, 7) == "4 of 5 • 🥇 Gold Member • 7× completed"


def test_summary_in_arabic_uses_the_arabic_tier_name() -> None:
    gold = card_tier_for(7)
    line = card_summary(0, 5, gold, 7, lang="ar")
    assert "🥇 عضو ذهبي" in line
    assert "Gold" not in line


def test_summary_without_tier_or_completions_shows_only_the_card() -> None:
    assert card_summary(1, 5, None, 0) == "1 of 5"


def test_summary_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="lang"):
        card_summary(1, 5, None, 0, lang="fr")  # type: ignore[arg-type]


# ------------------------------------------------------------------------- custom JSON


def test_seed_coffee_shop_tiers_parse() -> None:
    tiers = parse_card_tier_config(COFFEE_SHOP)
    assert [t.id for t in tiers] == ["lover", "expert", "master"]
    assert tiers[2] == CardTier(
        "master", "Coffee Master", "أستاذ القهوة", 10, None, "👑", "#FFD700"
    )
    assert card_summary(2, 8, card_tier_for(12, tiers), 12, lang="ar").count("أستاذ القهوة") == 1


@pytest.mark.parametrize(
    "value", [None, "null", {"enabled": False, "tiers": "anything"}, {"enabled": False}]
)
def test_null_or_disabled_config_gives_the_default_tiers(value: object) -> None:
    assert parse_card_tier_config(value) == DEFAULT_CARD_TIERS


def test_config_may_arrive_as_json_text() -> None:
    text = json.dumps(COFFEE_SHOP, ensure_ascii=False)
    assert parse_card_tier_config(text) == parse_card_tier_config(COFFEE_SHOP)


def test_config_round_trips_through_the_seed_shape() -> None:
    tiers = parse_card_tier_config(COFFEE_SHOP)
    assert card_tiers_to_config(tiers) == COFFEE_SHOP
    assert parse_card_tier_config(card_tiers_to_config(DEFAULT_CARD_TIERS)) == DEFAULT_CARD_TIERS


def test_missing_optional_fields_fall_back() -> None:
    config = {"enabled": True, "tiers": [{"id": "all", "name": "Regular", "minRewards": 1}]}
    (only,) = parse_card_tier_config(config)
    assert (only.name_ar, only.max_rewards, only.icon, only.color) == ("Regular", None, "", None)
    assert only.label() == "Regular"


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ("{not json", "not valid JSON"),
        ([], "must be a JSON object"),
        ({"enabled": "yes", "tiers": []}, "'enabled' must be true or false"),
        ({"enabled": True}, "'tiers' is not a list"),
        ({"enabled": True, "tiers": []}, "at least one tier"),
        ({"enabled": True, "tiers": ["gold"]}, "tier #1 must be an object"),
        ({"enabled": True, "tiers": [{"name": "X", "minRewards": 1}]}, "tier #1 has no 'id'"),
        ({"enabled": True, "tiers": [{"id": "x", "minRewards": 1}]}, "tier #1 has no 'name'"),
        (
            {"enabled": True, "tiers": [{"id": "x", "name": "X", "minRewards": "1"}]},
            "tier 'x': 'minRewards' must be a whole number",
        ),
        (
            {"enabled": True, "tiers": [{"id": "x", "name": "X", "minRewards": True}]},
            "'minRewards' must be a whole number",
        ),
        (
            {
                "enabled": True,
                "tiers": [{"id": "x", "name": "X", "minRewards": 1, "maxRewards": 2.5}],
            },
            "'maxRewards' must be a whole number or null",
        ),
        (
            {"enabled": True, "tiers": [{"id": "x", "name": "X", "minRewards": 1, "icon": 7}]},
            "'icon' must be text",
        ),
    ],
)
def test_malformed_config_is_refused_with_a_reason(config: object, complaint: str) -> None:
    with pytest.raises(TierConfigError) as caught:
        parse_card_tier_config(config)
    assert complaint in str(caught.value)


def test_seed_overlap_example_names_both_tiers() -> None:
    config = json.loads(json.dumps(COFFEE_SHOP))
    config["tiers"][2]["minRewards"] = 8
    with pytest.raises(TierConfigError) as caught:
        parse_card_tier_config(config)
    assert str(caught.value) == "tiers 'expert' (4-9) and 'master' (8-∞) overlap"


# -------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("tiers", "complaint"),
    [
        ([], "a tier set needs at least one tier"),
        ([tier("a", 1, 4), tier("b", 3, None)], "tiers 'a' (1-4) and 'b' (3-∞) overlap"),
        ([tier("a", 1, None), tier("b", 3, None)], "tiers 'a' (1-∞) and 'b' (3-∞) overlap"),
        (
            [tier("a", 1, 2), tier("b", 5, None)],
            "gap between tiers 'a' (1-2) and 'b' (5-∞): 3-4 completions match no tier",
        ),
        ([tier("a", 1, 2), tier("b", 3, 9)], "top tier 'b' (3-9) is bounded"),
        ([tier("a", 3, 2), tier("b", 3, None)], "tier 'a' has minRewards 3 above maxRewards 2"),
        ([tier("zero", 0, None)], "tier 'zero' (0-∞) starts at 0"),
        ([tier("neg", -2, None)], "tier 'neg' (-2-∞) starts at -2"),
        ([tier("a", 1, 2), tier("a", 3, None)], "tier id 'a' is used more than once"),
    ],
)
def test_invalid_tier_sets_are_refused_naming_the_tiers(
    tiers: list[CardTier], complaint: str
) -> None:
    with pytest.raises(TierConfigError) as caught:
        validate_card_tiers(tiers)
    assert complaint in str(caught.value)
    assert caught.value.code == "tier_config"


def test_first_tier_may_start_above_one() -> None:
    tiers = [tier("regular", 2, None)]
    assert card_tier_for(1, tiers) is None
    assert card_tier_progress(1, tiers).rewards_to_next_tier == 1


def test_negative_completions_are_refused() -> None:
    with pytest.raises(ValueError, match="rewards_claimed"):
        card_tier_for(-1)


# ---------------------------------------------------------------------------- properties


@settings(max_examples=150)
@given(tiers=card_tier_sets())
def test_validation_accepts_every_valid_partition(tiers: list[CardTier]) -> None:
    ordered = validate_card_tiers(tiers)
    assert [t.min_rewards for t in ordered] == sorted(t.min_rewards for t in tiers)
    assert ordered[-1].max_rewards is None


@settings(max_examples=150)
@given(tiers=card_tier_sets())
def test_lookup_at_every_boundary_matches_brute_force(tiers: list[CardTier]) -> None:
    for claimed in boundaries(tiers):
        assert card_tier_for(claimed, tiers) == reference_tier(claimed, tiers)


@settings(max_examples=150)
@given(tiers=card_tier_sets(), claimed=st.integers(0, 60))
def test_progress_numbers_are_consistent(tiers: list[CardTier], claimed: int) -> None:
    progress = card_tier_progress(claimed, tiers)
    assert progress.current == reference_tier(claimed, tiers)
    assert progress.rewards_claimed == claimed
    if progress.next_tier is None:
        assert progress.is_top_tier
        assert progress.rewards_to_next_tier == 0
        assert progress.current is not None
        assert progress.current.max_rewards is None
    else:
        assert not progress.is_top_tier
        assert progress.rewards_to_next_tier == progress.next_tier.min_rewards - claimed > 0
        assert reference_tier(progress.next_tier.min_rewards, tiers) == progress.next_tier
    seed = progress.to_seed_dict()
    assert seed["rewardsToNextTier"] == progress.rewards_to_next_tier
    assert seed["isTopTier"] == progress.is_top_tier


@settings(max_examples=200)
@given(tiers=card_tier_sets(), data=st.data())
def test_validation_catches_every_gap_and_overlap(
    tiers: list[CardTier], data: st.DataObject
) -> None:
    ordered = sorted(tiers, key=lambda t: t.min_rewards)
    assume(len(ordered) >= 2)
    index = data.draw(st.integers(1, len(ordered) - 1))
    moved = ordered[index]
    shift = data.draw(st.integers(-6, 6).filter(bool))
    new_min = moved.min_rewards + shift
    assume(new_min >= 1 and (moved.max_rewards is None or new_min <= moved.max_rewards))
    broken = [*ordered[:index], tier(moved.id, new_min, moved.max_rewards), *ordered[index + 1 :]]
    with pytest.raises(TierConfigError) as caught:
        validate_card_tiers(broken)
    expected = "gap between tiers" if shift > 0 else "overlap"
    assert expected in str(caught.value)
    assert repr(moved.id) in str(caught.value)


@settings(max_examples=100)
@given(tiers=card_tier_sets(), extra=st.integers(0, 10))
def test_validation_catches_every_bounded_top_tier(tiers: list[CardTier], extra: int) -> None:
    ordered = sorted(tiers, key=lambda t: t.min_rewards)
    top = ordered[-1]
    bounded = [*ordered[:-1], tier(top.id, top.min_rewards, top.min_rewards + extra)]
    with pytest.raises(TierConfigError, match="is bounded"):
        validate_card_tiers(bounded)


@settings(max_examples=100)
@given(tiers=card_tier_sets())
def test_every_valid_partition_round_trips_through_json(tiers: list[CardTier]) -> None:
    text = json.dumps(card_tiers_to_config(tiers), ensure_ascii=False)
    assert parse_card_tier_config(text) == validate_card_tiers(tiers)


# ------------------------------------------------------------- colours, icons, problem ids


@pytest.mark.parametrize("colour", ["red", "#FFF", "#GGGGGG", "6F4E37", "#6F4E37 "])
def test_a_bad_colour_is_refused_naming_the_tier(colour: str) -> None:
    config = json.loads(json.dumps(COFFEE_SHOP))
    config["tiers"][1]["color"] = colour
    with pytest.raises(TierConfigError) as caught:
        parse_card_tier_config(config)
    assert "tier 'expert': colour" in str(caught.value)
    assert caught.value.problems == ((("expert",), str(caught.value)),)


def test_overlap_and_gap_problems_carry_the_ids_of_both_tiers() -> None:
    with pytest.raises(TierConfigError) as caught:
        validate_card_tiers([tier("a", 1, 4), tier("b", 3, 5), tier("c", 8, None)])
    ids = [ids for ids, _text in caught.value.problems]
    assert ids == [("a", "b"), ("b", "c")]


def test_an_icon_is_an_emoji_or_an_uploaded_image() -> None:
    image = "/media/tier-icons/" + "ab" * 32 + ".png"
    ok = CardTier("vip", "VIP", "مميز", 1, None, image)
    assert validate_card_tiers([ok]) == (ok,)
    assert ok.label() == "VIP"  # text places cannot show an image
    for bad in ("<script>", "a long text icon", "/etc/passwd"):
        with pytest.raises(TierConfigError, match="the icon must be an emoji"):
            validate_card_tiers([CardTier("vip", "VIP", "مميز", 1, None, bad)])


def test_names_over_the_limit_and_too_many_tiers_are_refused() -> None:
    with pytest.raises(TierConfigError, match="tier 'a': name is longer than 60"):
        validate_card_tiers([CardTier("a", "x" * 61, "س", 1, None, "⭐")])
    many = [tier(f"t{n}", n, n) for n in range(1, 13)] + [tier("top", 13, None)]
    with pytest.raises(TierConfigError, match="13 tiers is too many"):
        validate_card_tiers(many)


def test_next_tier_line_says_what_the_next_tier_needs_in_both_languages() -> None:
    from core.tiers import next_tier_line

    platinum = [tier("gold", 1, 6), CardTier("platinum", "Platinum", "بلاتيني", 7, None, "💎")]
    progress = card_tier_progress(5, platinum)
    assert next_tier_line(progress) == "2 more for Platinum"
    assert next_tier_line(progress, "ar") == "2 إضافية للوصول إلى بلاتيني"
    assert next_tier_line(card_tier_progress(9, platinum)) == "Top tier"
