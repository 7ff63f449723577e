"""Loyalty tiers: passport point tiers (seed 000) and stamp-card tiers by completions (seed 002).

Point tiers rank a passport by `total_points`: the tier is the highest one whose
`min_points` the points reach; exactly one tier starts at 0, so every passport
has a tier. Stamp-card tiers rank a customer's pass by completed cycles
(`rewards_claimed`): each tier covers a closed range `min_rewards..max_rewards`
(`None` = unbounded); the ranges are contiguous, start at 1 or more and end
unbounded, and a customer with fewer completions than the first tier has no tier.

Everything here is pure: tier sets are plain tuples of frozen dataclasses, the
`*_dict` helpers build exactly the seed's JSON shapes (camelCase keys), and a
tier set that cannot be used raises `TierConfigError` naming the tiers at fault.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal, TypeGuard

from core.errors import TierConfigError

Lang = Literal["en", "ar"]

# --------------------------------------------------------------------------- point tiers


@dataclass(frozen=True, slots=True)
class PointTier:
    """A passport tier reached at `min_points` (inclusive), with its perks (`perks_json`)."""

    name: str
    min_points: int
    perks: dict[str, Any] = field(default_factory=dict, hash=False)


DEFAULT_POINT_TIERS: tuple[PointTier, ...] = (
    PointTier("BRONZE", 0),
    PointTier("SILVER", 300),
    PointTier("GOLD", 800),
    PointTier("ELITE", 1500),
)


@dataclass(frozen=True, slots=True)
class PointTierProgress:
    """Where a passport stands: its tier, the next one, the points still needed (0 at the top)."""

    points: int
    current: PointTier
    next_tier: PointTier | None
    points_to_next: int
    is_top_tier: bool


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_count(value: object, what: str) -> int:
    if not _is_int(value):
        raise ValueError(f"{what} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return value


def validate_point_tiers(tiers: Iterable[PointTier]) -> tuple[PointTier, ...]:
    """Check a point tier set and return it sorted by threshold, or raise `TierConfigError`."""
    given = list(tiers)
    if not given:
        raise TierConfigError("no point tiers configured: one tier must start at 0 points")
    problems: list[str] = []
    seen_names: set[str] = set()
    for tier in given:
        if not isinstance(tier.name, str) or not tier.name.strip():
            problems.append(f"a point tier at {tier.min_points!r} points has no name")
        elif tier.name in seen_names:
            problems.append(f"point tier name {tier.name!r} is used more than once")
        seen_names.add(tier.name)
        if not _is_int(tier.min_points):
            problems.append(
                f"point tier {tier.name!r} has a non-integer threshold {tier.min_points!r}"
            )
        elif tier.min_points < 0:
            problems.append(f"point tier {tier.name!r} starts below 0 points ({tier.min_points})")
    if not all(_is_int(tier.min_points) for tier in given):
        raise TierConfigError("; ".join(problems))
    ordered = sorted(given, key=lambda tier: tier.min_points)
    if ordered[0].min_points > 0:
        lowest = ordered[0]
        problems.append(
            f"no point tier starts at 0 points: the lowest is {lowest.name!r} ({lowest.min_points})"
        )
    for lower, upper in pairwise(ordered):
        if lower.min_points == upper.min_points:
            problems.append(
                f"point tiers {lower.name!r} and {upper.name!r} "
                f"share the threshold {upper.min_points}"
            )
    if problems:
        raise TierConfigError("; ".join(problems))
    return tuple(ordered)


def point_tier_for(points: int, tiers: Iterable[PointTier] = DEFAULT_POINT_TIERS) -> PointTier:
    """The highest tier whose `min_points` is at or below `points`."""
    return point_tier_finder(tiers)(points)


def point_tier_finder(tiers: Iterable[PointTier]) -> Callable[[int], PointTier]:
    """`point_tier_for` over one tier set, checked once (a sync batch looks up hundreds)."""
    ordered = validate_point_tiers(tiers)

    def find(points: int) -> PointTier:
        count = _require_count(points, "points")
        current = ordered[0]
        for tier in ordered[1:]:
            if tier.min_points > count:
                break
            current = tier
        return current

    return find


def point_tier_progress(
    points: int, tiers: Iterable[PointTier] = DEFAULT_POINT_TIERS
) -> PointTierProgress:
    """The current tier, the next tier (or None) and the points still needed to reach it."""
    ordered = validate_point_tiers(tiers)
    current = point_tier_for(points, ordered)
    index = ordered.index(current)
    next_tier = ordered[index + 1] if index + 1 < len(ordered) else None
    return PointTierProgress(
        points=points,
        current=current,
        next_tier=next_tier,
        points_to_next=0 if next_tier is None else next_tier.min_points - points,
        is_top_tier=next_tier is None,
    )


# ----------------------------------------------------------------------- stamp-card tiers


@dataclass(frozen=True, slots=True)
class CardTier:
    """A stamp-card tier for `min_rewards..max_rewards` completions (`None`: no upper bound)."""

    id: str
    name: str
    name_ar: str
    min_rewards: int
    max_rewards: int | None
    icon: str
    color: str | None = None

    @property
    def range_label(self) -> str:
        """The range as people read it: "4-9" or "10-∞"."""
        upper = "∞" if self.max_rewards is None else str(self.max_rewards)
        return f"{self.min_rewards}-{upper}"

    def covers(self, rewards_claimed: int) -> bool:
        """True when this many completions fall in the tier's range."""
        if rewards_claimed < self.min_rewards:
            return False
        return self.max_rewards is None or rewards_claimed <= self.max_rewards

    def display_name(self, lang: Lang = "en") -> str:
        """The tier's name in English or Arabic."""
        return self.name_ar if lang == "ar" else self.name

    def label(self, lang: Lang = "en") -> str:
        """Icon and name, as a pass shows it: "🥇 Gold Member"."""
        name = self.display_name(lang)
        return f"{self.icon} {name}" if self.icon else name

    def to_seed_dict(self) -> dict[str, Any]:
        """This tier in the seed's `loyalty_tiers` JSON shape."""
        return {
            "id": self.id,
            "name": self.name,
            "nameAr": self.name_ar,
            "minRewards": self.min_rewards,
            "maxRewards": self.max_rewards,
            "icon": self.icon,
            "color": self.color,
        }


DEFAULT_CARD_TIERS: tuple[CardTier, ...] = (
    CardTier("bronze", "Bronze Member", "عضو برونزي", 1, 2, "🥉", "#CD7F32"),
    CardTier("silver", "Silver Member", "عضو فضي", 3, 5, "🥈", "#C0C0C0"),
    CardTier("gold", "Gold Member", "عضو ذهبي", 6, None, "🥇", "#FFD700"),
)


@dataclass(frozen=True, slots=True)
class CardTierProgress:
    """A customer's tier standing on one offer, as the seed's `tier` object carries it."""

    rewards_claimed: int
    current: CardTier | None
    next_tier: CardTier | None
    rewards_to_next_tier: int
    is_top_tier: bool

    def to_seed_dict(self) -> dict[str, Any]:
        """The seed's `tier` object (currentTier, rewardsToNextTier, nextTier, isTopTier...)."""
        current = self.current
        next_tier = self.next_tier
        return {
            "currentTier": None
            if current is None
            else {"id": current.id, "name": current.name, "icon": current.icon},
            "rewardsClaimed": self.rewards_claimed,
            "rewardsToNextTier": self.rewards_to_next_tier,
            "nextTier": None
            if next_tier is None
            else {"name": next_tier.name, "icon": next_tier.icon},
            "isTopTier": self.is_top_tier,
        }


def _tier_ref(tier: CardTier) -> str:
    return f"{tier.id!r} ({tier.range_label})"


def _tier_problems(tier: CardTier) -> list[str]:
    problems: list[str] = []
    if not isinstance(tier.id, str) or not tier.id.strip():
        problems.append(f"a tier named {tier.name!r} has no id")
    if not isinstance(tier.name, str) or not tier.name.strip():
        problems.append(f"tier {tier.id!r} has no name")
    if not _is_int(tier.min_rewards) or not (tier.max_rewards is None or _is_int(tier.max_rewards)):
        problems.append(f"tier {tier.id!r} has non-integer bounds")
        return problems
    if tier.min_rewards < 1:
        problems.append(
            f"tier {_tier_ref(tier)} starts at {tier.min_rewards}: the minimum must be at least "
            "1 completion (customers with no completions have no tier)"
        )
    if tier.max_rewards is not None and tier.min_rewards > tier.max_rewards:
        problems.append(
            f"tier {tier.id!r} has minRewards {tier.min_rewards} "
            f"above maxRewards {tier.max_rewards}"
        )
    return problems


def validate_card_tiers(tiers: Iterable[CardTier]) -> tuple[CardTier, ...]:
    """Check a stamp-card tier set and return it sorted, or raise `TierConfigError`."""
    given = list(tiers)
    if not given:
        raise TierConfigError("a tier set needs at least one tier")
    problems: list[str] = []
    seen_ids: set[str] = set()
    for tier in given:
        if tier.id in seen_ids:
            problems.append(f"tier id {tier.id!r} is used more than once")
        seen_ids.add(tier.id)
        problems.extend(_tier_problems(tier))
    if problems:
        raise TierConfigError("; ".join(problems))
    ordered = sorted(given, key=lambda t: (t.min_rewards, _upper(t)))
    for lower, upper in pairwise(ordered):
        if lower.max_rewards is None or upper.min_rewards <= lower.max_rewards:
            problems.append(f"tiers {_tier_ref(lower)} and {_tier_ref(upper)} overlap")
        elif upper.min_rewards > lower.max_rewards + 1:
            missing = f"{lower.max_rewards + 1}-{upper.min_rewards - 1}"
            problems.append(
                f"gap between tiers {_tier_ref(lower)} and {_tier_ref(upper)}: "
                f"{missing} completions match no tier"
            )
    top = ordered[-1]
    if top.max_rewards is not None:
        problems.append(
            f"top tier {_tier_ref(top)} is bounded: its maxRewards must be null so that every "
            f"count above {top.max_rewards} still has a tier"
        )
    if problems:
        raise TierConfigError("; ".join(problems))
    return tuple(ordered)


def _upper(tier: CardTier) -> float:
    return float("inf") if tier.max_rewards is None else tier.max_rewards


def card_tier_for(
    rewards_claimed: int, tiers: Iterable[CardTier] = DEFAULT_CARD_TIERS
) -> CardTier | None:
    """The tier covering this many completions, or None below the first tier."""
    count = _require_count(rewards_claimed, "rewards_claimed")
    for tier in validate_card_tiers(tiers):
        if tier.covers(count):
            return tier
    return None


def card_tier_progress(
    rewards_claimed: int, tiers: Iterable[CardTier] = DEFAULT_CARD_TIERS
) -> CardTierProgress:
    """Current tier (or None), next tier (or None), completions still needed (0 at the top)."""
    count = _require_count(rewards_claimed, "rewards_claimed")
    ordered = validate_card_tiers(tiers)
    current = card_tier_for(count, ordered)
    if current is None:
        next_tier: CardTier | None = ordered[0]
    else:
        index = ordered.index(current)
        next_tier = ordered[index + 1] if index + 1 < len(ordered) else None
    return CardTierProgress(
        rewards_claimed=count,
        current=current,
        next_tier=next_tier,
        rewards_to_next_tier=0 if next_tier is None else next_tier.min_rewards - count,
        is_top_tier=current is not None and next_tier is None,
    )


# ------------------------------------------------------------------ configuration JSON


def _field(entry: Mapping[str, Any], key: str, index: int) -> Any:
    if key not in entry:
        raise TierConfigError(f"tier #{index + 1} has no {key!r}")
    return entry[key]


def _text(value: object, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise TierConfigError(f"{where}: {key!r} must be text, got {value!r}")
    return value


def _optional_text(value: object, key: str, where: str) -> str | None:
    return None if value is None else _text(value, key, where)


def _parse_tier(entry: object, index: int) -> CardTier:
    if not isinstance(entry, Mapping):
        raise TierConfigError(f"tier #{index + 1} must be an object, got {entry!r}")
    tier_id = _text(_field(entry, "id", index), "id", f"tier #{index + 1}")
    where = f"tier {tier_id!r}"
    name = _text(_field(entry, "name", index), "name", where)
    name_ar = _optional_text(entry.get("nameAr"), "nameAr", where) or name
    min_rewards = _field(entry, "minRewards", index)
    if not _is_int(min_rewards):
        raise TierConfigError(f"{where}: 'minRewards' must be a whole number, got {min_rewards!r}")
    max_rewards = entry.get("maxRewards")
    if max_rewards is not None and not _is_int(max_rewards):
        raise TierConfigError(
            f"{where}: 'maxRewards' must be a whole number or null, got {max_rewards!r}"
        )
    icon = _optional_text(entry.get("icon"), "icon", where) or ""
    color = _optional_text(entry.get("color"), "color", where)
    return CardTier(tier_id, name, name_ar, min_rewards, max_rewards, icon, color)


def parse_card_tier_config(value: object) -> tuple[CardTier, ...]:
    """Read an offer's `loyalty_tiers` JSON (object or text); disabled or null: the defaults."""
    if value is None:
        return DEFAULT_CARD_TIERS
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise TierConfigError(f"loyalty tiers are not valid JSON: {exc}") from exc
        if value is None:
            return DEFAULT_CARD_TIERS
    if not isinstance(value, Mapping):
        raise TierConfigError(f"loyalty tiers must be a JSON object, got {type(value).__name__}")
    enabled = value.get("enabled", False)
    if not isinstance(enabled, bool):
        raise TierConfigError(f"loyalty tiers 'enabled' must be true or false, got {enabled!r}")
    if not enabled:
        return DEFAULT_CARD_TIERS
    entries = value.get("tiers")
    if not isinstance(entries, list):
        raise TierConfigError("custom loyalty tiers are enabled but 'tiers' is not a list")
    return validate_card_tiers(_parse_tier(entry, index) for index, entry in enumerate(entries))


def card_tiers_to_config(tiers: Iterable[CardTier], *, enabled: bool = True) -> dict[str, Any]:
    """A tier set as the seed's `loyalty_tiers` JSON object."""
    return {"enabled": enabled, "tiers": [tier.to_seed_dict() for tier in tiers]}


# ------------------------------------------------------------------- seed response shapes


def _check_card(current_stamps: int, max_stamps: int, rewards_claimed: int) -> None:
    _require_count(current_stamps, "current_stamps")
    _require_count(rewards_claimed, "rewards_claimed")
    if _require_count(max_stamps, "max_stamps") < 1:
        raise ValueError("max_stamps must be at least 1")
    if current_stamps > max_stamps:
        raise ValueError(f"current_stamps {current_stamps} exceeds max_stamps {max_stamps}")


def card_progress_dict(
    current_stamps: int, max_stamps: int, rewards_claimed: int
) -> dict[str, int]:
    """The seed's `progress` object for one customer's card on one offer."""
    _check_card(current_stamps, max_stamps, rewards_claimed)
    return {
        "currentStamps": current_stamps,
        "maxStamps": max_stamps,
        "rewardsClaimed": rewards_claimed,
        "stampsEarned": current_stamps,
        "stampsRequired": max_stamps,
    }


def confirm_prize_response(
    current_stamps: int,
    max_stamps: int,
    rewards_claimed: int,
    tiers: Iterable[CardTier] = DEFAULT_CARD_TIERS,
    *,
    new_cycle_started: bool = True,
) -> dict[str, Any]:
    """The seed's confirm-prize response body, from the card's state after the claim."""
    return {
        "success": True,
        "progress": card_progress_dict(current_stamps, max_stamps, rewards_claimed),
        "tier": card_tier_progress(rewards_claimed, tiers).to_seed_dict(),
        "newCycleStarted": new_cycle_started,
        "totalCompletions": rewards_claimed,
    }


def card_summary(
    current_stamps: int,
    max_stamps: int,
    tier: CardTier | None,
    completions: int,
    lang: Lang = "en",
) -> str:
    """One line for a pass or a screen: "4 of 5 • 🥇 Gold Member • 7× completed"."""
    if lang not in ("en", "ar"):
        raise ValueError(f"lang must be 'en' or 'ar', got {lang!r}")
    _check_card(current_stamps, max_stamps, completions)
    if lang == "ar":
        parts = [f"{current_stamps} من {max_stamps}"]
    else:
        parts = [f"{current_stamps} of {max_stamps}"]
    if tier is not None:
        parts.append(tier.label(lang))
    if completions:
        parts.append(f"{completions}× مكتملة" if lang == "ar" else f"{completions}× completed")
    return " • ".join(parts)


def next_tier_line(progress: CardTierProgress, lang: Lang = "en") -> str:
    """What the next tier needs, as a pass says it: "2 more for Platinum" (or the top tier)."""
    if lang not in ("en", "ar"):
        raise ValueError(f"lang must be 'en' or 'ar', got {lang!r}")
    upcoming = progress.next_tier
    if upcoming is None:
        return "أعلى مستوى" if lang == "ar" else "Top tier"
    count = progress.rewards_to_next_tier
    name = upcoming.display_name(lang)
    return f"{count} إضافية للوصول إلى {name}" if lang == "ar" else f"{count} more for {name}"
