"""The totals arithmetic of awarding stamps: points, events, countries, tier; never overflowing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core import limits
from core.passport import NewStamp, Totals, add_points, after_stamps
from core.tiers import DEFAULT_POINT_TIERS, point_tier_finder

TIER_FOR = point_tier_finder(DEFAULT_POINT_TIERS)
CAP = limits.PASSPORT_POINTS.maximum


def test_each_stamp_adds_its_points_and_one_event() -> None:
    after = after_stamps(
        Totals(100, 1, 1, "BRONZE"),
        [NewStamp(150, "TT"), NewStamp(100, "TT")],
        countries_held={"TT"},
        tier_for=TIER_FOR,
    )
    assert after == Totals(350, 3, 1, "SILVER")


def test_a_country_counts_once_whether_held_before_or_new_twice() -> None:
    after = after_stamps(
        Totals(0, 1, 1, "BRONZE"),
        [NewStamp(10, "BB"), NewStamp(10, "BB"), NewStamp(10, "TT"), NewStamp(10, "GD")],
        countries_held={"TT"},
        tier_for=TIER_FOR,
    )
    assert (after.events, after.countries) == (5, 3)


def test_no_stamps_leaves_the_totals_and_recomputes_the_tier() -> None:
    after = after_stamps(Totals(900, 4, 2, "stale"), [], countries_held=(), tier_for=TIER_FOR)
    assert after == Totals(900, 4, 2, "GOLD")


def test_points_saturate_at_the_cap_instead_of_overflowing() -> None:
    huge = NewStamp(2_147_483_647, "TT")
    after = after_stamps(Totals(CAP - 5), [huge, huge], countries_held=(), tier_for=TIER_FOR)
    assert after.points == CAP
    assert after.tier == "ELITE"
    assert add_points(CAP, 1) == CAP


@given(
    start=st.integers(0, CAP),
    points=st.lists(st.integers(0, 2**31 - 1), max_size=20),
)
def test_the_total_stays_in_its_declared_range_and_never_falls(
    start: int, points: list[int]
) -> None:
    after = after_stamps(
        Totals(start),
        [NewStamp(p, "TT") for p in points],
        countries_held=(),
        tier_for=TIER_FOR,
    )
    assert limits.PASSPORT_POINTS.contains(after.points)
    assert after.points == min(CAP, start + sum(points))
    assert after.events == len(points)
