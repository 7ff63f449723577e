"""Passport point tiers (seed 000): lookup, progress and validation."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import CoreError, TierConfigError
from core.tiers import (
    DEFAULT_POINT_TIERS,
    PointTier,
    point_tier_for,
    point_tier_progress,
    validate_point_tiers,
)


def reference_tier(points: int, tiers: list[PointTier]) -> PointTier:
    """Brute force: the tier with the largest threshold not above the points."""
    return max((tier for tier in tiers if tier.min_points <= points), key=lambda t: t.min_points)


@st.composite
def point_tier_sets(draw: st.DrawFn) -> list[PointTier]:
    """A valid tier set in random order: unique names, unique thresholds, one of them 0."""
    thresholds = sorted(draw(st.sets(st.integers(1, 20_000), max_size=6)))
    names = draw(
        st.lists(
            st.text(string.ascii_uppercase, min_size=1, max_size=8),
            min_size=len(thresholds) + 1,
            max_size=len(thresholds) + 1,
            unique=True,
        )
    )
    tiers = [
        PointTier(name, minimum) for name, minimum in zip(names, [0, *thresholds], strict=True)
    ]
    return draw(st.permutations(tiers))


def test_default_point_tiers_are_the_seed_thresholds() -> None:
    assert [(t.name, t.min_points) for t in DEFAULT_POINT_TIERS] == [
        ("BRONZE", 0),
        ("SILVER", 300),
        ("GOLD", 800),
        ("ELITE", 1500),
    ]


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (0, "BRONZE"),
        (299, "BRONZE"),
        (300, "SILVER"),
        (799, "SILVER"),
        (800, "GOLD"),
        (1499, "GOLD"),
        (1500, "ELITE"),
        (10**9, "ELITE"),
    ],
)
def test_points_exactly_at_threshold_reach_that_tier(points: int, expected: str) -> None:
    assert point_tier_for(points).name == expected


def test_tiers_given_in_any_order_give_the_same_tier() -> None:
    shuffled = [DEFAULT_POINT_TIERS[i] for i in (2, 0, 3, 1)]
    assert [point_tier_for(p, shuffled) for p in (0, 300, 800, 1500)] == list(DEFAULT_POINT_TIERS)


def test_a_new_passport_with_no_points_is_bronze() -> None:
    progress = point_tier_progress(0)
    assert progress.current.name == "BRONZE"
    assert progress.next_tier is not None
    assert progress.next_tier.name == "SILVER"
    assert progress.points_to_next == 300
    assert not progress.is_top_tier


def test_top_tier_has_no_next_tier_and_nothing_to_go() -> None:
    progress = point_tier_progress(2000)
    assert progress.current.name == "ELITE"
    assert progress.next_tier is None
    assert progress.points_to_next == 0
    assert progress.is_top_tier


def test_perks_travel_with_the_tier() -> None:
    tiers = [
        PointTier("BASIC", 0),
        PointTier("VIP", 100, {"vip_line": True, "discount_percent": 10}),
    ]
    assert point_tier_for(150, tiers).perks == {"vip_line": True, "discount_percent": 10}


def test_point_tiers_are_hashable_despite_their_perks_dict() -> None:
    same = [PointTier("VIP", 100, {"vip_line": True}), PointTier("VIP", 100, {"vip_line": True})]
    assert len(set(same)) == 1


@pytest.mark.parametrize("points", [-1, True, 1.5])
def test_points_that_are_not_a_count_are_refused(points: object) -> None:
    with pytest.raises(ValueError, match="points"):
        point_tier_for(points)  # type: ignore[arg-type]


def test_an_empty_tier_set_is_refused() -> None:
    with pytest.raises(TierConfigError, match="no point tiers"):
        validate_point_tiers([])


def test_a_tier_set_without_a_tier_at_zero_names_the_lowest_tier() -> None:
    with pytest.raises(TierConfigError, match=r"no point tier starts at 0.*'SILVER' \(300\)"):
        validate_point_tiers([PointTier("GOLD", 800), PointTier("SILVER", 300)])


def test_two_tiers_at_zero_are_refused_by_name() -> None:
    with pytest.raises(TierConfigError, match="'BRONZE' and 'BASIC' share the threshold 0"):
        validate_point_tiers([PointTier("BRONZE", 0), PointTier("BASIC", 0)])


def test_duplicate_thresholds_are_refused_by_name() -> None:
    tiers = [PointTier("BRONZE", 0), PointTier("SILVER", 300), PointTier("SILVER_PLUS", 300)]
    with pytest.raises(TierConfigError, match="'SILVER' and 'SILVER_PLUS' share the threshold 300"):
        point_tier_for(400, tiers)


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(TierConfigError, match="'GOLD' is used more than once"):
        validate_point_tiers([PointTier("BRONZE", 0), PointTier("GOLD", 5), PointTier("GOLD", 9)])


def test_every_problem_is_reported_at_once() -> None:
    tiers = [PointTier("A", 10), PointTier("B", 10), PointTier("B", 20)]
    with pytest.raises(TierConfigError) as caught:
        validate_point_tiers(tiers)
    message = str(caught.value)
    assert "'B' is used more than once" in message
    assert "no point tier starts at 0" in message
    assert "'A' and 'B' share the threshold 10" in message


def test_negative_and_unnamed_tiers_are_refused() -> None:
    with pytest.raises(TierConfigError, match=r"'MINUS' starts below 0 points \(-5\)"):
        validate_point_tiers([PointTier("BRONZE", 0), PointTier("MINUS", -5)])
    with pytest.raises(TierConfigError, match="has no name"):
        validate_point_tiers([PointTier(" ", 0)])


def test_tier_config_errors_are_core_errors_with_a_machine_code() -> None:
    with pytest.raises(CoreError) as caught:
        validate_point_tiers([])
    assert caught.value.code == "tier_config"


@settings(max_examples=150)
@given(tiers=point_tier_sets())
def test_lookup_at_every_boundary_matches_brute_force(tiers: list[PointTier]) -> None:
    for tier in tiers:
        for points in (tier.min_points - 1, tier.min_points, tier.min_points + 1):
            if points >= 0:
                assert point_tier_for(points, tiers) == reference_tier(points, tiers)


@settings(max_examples=150)
@given(tiers=point_tier_sets(), points=st.integers(0, 25_000))
def test_progress_numbers_are_consistent(tiers: list[PointTier], points: int) -> None:
    progress = point_tier_progress(points, tiers)
    assert progress.current == reference_tier(points, tiers)
    above = [t for t in tiers if t.min_points > points]
    if above:
        nearest = min(above, key=lambda t: t.min_points)
        assert progress.next_tier == nearest
        assert progress.points_to_next == nearest.min_points - points > 0
        assert not progress.is_top_tier
    else:
        assert progress.next_tier is None
        assert progress.points_to_next == 0
        assert progress.is_top_tier


@settings(max_examples=100)
@given(tiers=point_tier_sets(), data=st.data())
def test_validation_refuses_every_repeated_threshold(
    tiers: list[PointTier], data: st.DataObject
) -> None:
    copied = data.draw(st.sampled_from(tiers))
    clash = PointTier(copied.name + "_TWIN", copied.min_points)
    with pytest.raises(TierConfigError, match="share the threshold"):
        validate_point_tiers([*tiers, clash])


@settings(max_examples=100)
@given(tiers=point_tier_sets())
def test_validation_accepts_every_valid_set_and_sorts_it(tiers: list[PointTier]) -> None:
    ordered = validate_point_tiers(tiers)
    assert sorted(ordered, key=lambda t: t.min_points) == list(ordered)
    assert set(ordered) == set(tiers)
