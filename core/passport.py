"""A passport's running totals after new stamps: pure arithmetic, no database.

Each stamp adds its points, one event, and one country when the passport held
no stamp from that country before. The points saturate at
`limits.PASSPORT_POINTS.maximum`, so a total can never overflow its column,
whatever points an event row holds or a total already reached. The tier is
the point tier of the new total. The server's awarding and its recompute use
this one copy.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from core import limits
from core.tiers import PointTier


@dataclass(frozen=True, slots=True)
class Totals:
    """A passport's derived figures."""

    points: int = 0
    events: int = 0
    countries: int = 0
    tier: str = ""


@dataclass(frozen=True, slots=True)
class NewStamp:
    """What one new stamp brings: its points and the event's country."""

    points: int
    country: str


def add_points(total: int, points: int) -> int:
    """`total + points`, held inside `limits.PASSPORT_POINTS` (saturating, never overflowing)."""
    bounds = limits.PASSPORT_POINTS
    return max(bounds.minimum, min(bounds.maximum, total + points))


def after_stamps(
    before: Totals,
    stamps: Iterable[NewStamp],
    *,
    countries_held: Collection[str],
    tier_for: Callable[[int], PointTier],
) -> Totals:
    """The totals once `stamps` (new, one per event) are added to a passport holding `before`."""
    points, events, countries = before.points, before.events, before.countries
    new_countries: set[str] = set()
    for stamp in stamps:
        points = add_points(points, stamp.points)
        events += 1
        if stamp.country not in countries_held and stamp.country not in new_countries:
            new_countries.add(stamp.country)
            countries += 1
    return Totals(points, events, countries, tier_for(points).name)
