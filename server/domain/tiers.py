"""HQ's configuration of the passport's point tiers and their perks (`passport_tiers`).

A new tier set is validated as a whole by core's rules before anything is
written, and replaces the old one in the caller's transaction. Existing
passports keep their stored tier until they next earn a stamp or `recompute`
runs, which reports the difference as drift and, with --fix, applies it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import limits
from core.errors import TierConfigError
from core.perks import PERK_VALIDITY_KEY
from core.tiers import PointTier, validate_point_tiers
from server.db.models import PassportTier
from server.domain.passport import forget_point_tiers, load_point_tiers
from server.domain.recent import Recent
from server.errors import FieldErrors, InvalidInput


@dataclass(frozen=True)
class PerkField:
    """A perk HQ edits as a field: a yes/no flag, or a whole number up to `maximum`."""

    key: str
    label: str
    maximum: int = 0  # 0: a flag
    unit: str = ""

    @property
    def is_flag(self) -> bool:
        """True for a yes/no perk."""
        return self.maximum == 0


#: The perks HQ edits (the keys `passport.PERK_REWARD_TYPES` turns into rewards).
PERK_FIELDS: Final = (
    PerkField("discount_percent", "Discount on merch", 100, "%"),
    PerkField("vip_line", "VIP line"),
    PerkField("free_drink", "Free drink"),
    PerkField("early_access", "Early access"),
    PerkField("reward_valid_days", "Perk rewards stay valid for", 3650, "days"),
)


def perks_from_fields(
    tier: str, values: Mapping[str, str], *, keep: Mapping[str, Any]
) -> dict[str, Any]:
    """A tier's perks from its fields (flags "on", numbers as typed; blank or 0 is off).

    Keys HQ cannot edit here (set through the API) are kept from `keep`.
    FieldErrors names each field at fault as `<perk>_<tier>`.
    """
    known = {perk.key for perk in PERK_FIELDS}
    perks: dict[str, Any] = {key: value for key, value in keep.items() if key not in known}
    errors = {}
    for perk in PERK_FIELDS:
        raw = values.get(perk.key, "").strip()
        if perk.is_flag:
            if raw:
                perks[perk.key] = True
            continue
        if not raw or raw == "0":
            continue
        try:
            perks[perk.key] = limits.parse_whole(raw, limits.Whole(0, perk.maximum))
        except ValueError as exc:
            errors[f"{perk.key}_{tier}"] = f"{tier}, {perk.label.lower()}: {exc}"
    if errors:
        raise FieldErrors(errors)
    return perks


def list_tiers(session: Session) -> list[PointTier]:
    """The tiers in force, lowest first."""
    return sorted(load_point_tiers(session), key=lambda tier: tier.min_points)


def _limit_problems(tiers: list[PointTier]) -> list[str]:
    """Each tier's name, threshold and perks against their declared limits, in words."""
    problems = []
    if len(tiers) > limits.TIER_COUNT:
        problems.append(f"at most {limits.TIER_COUNT} tiers")
    for tier in tiers:
        name = tier.name if isinstance(tier.name, str) else ""
        problem = limits.text_problem(name, limits.TIER_NAME)
        if problem is not None:
            problems.append(f"point tier {tier.name!r}: {problem}")
        if not limits.TIER_MIN_POINTS.contains(tier.min_points):
            problems.append(
                f"point tier {tier.name!r} starts at {tier.min_points!r} points; "
                f"use {limits.TIER_MIN_POINTS.words()}"
            )
        problem = limits.json_problem(tier.perks, limits.PERKS)
        if problem is not None:
            problems.append(f"point tier {tier.name!r}: perks {problem}")
        elif PERK_VALIDITY_KEY in tier.perks:
            days = tier.perks[PERK_VALIDITY_KEY]
            if not limits.REWARD_VALID_DAYS.contains(days):
                problems.append(
                    f"point tier {tier.name!r}: {PERK_VALIDITY_KEY} must be "
                    f"{limits.REWARD_VALID_DAYS.words()}"
                )
    return problems


def replace_tiers(
    session: Session,
    *,
    tiers: Iterable[PointTier],
    shown: Recent[tuple[PointTier, ...]] | None = None,
) -> list[PointTier]:
    """Validate and store a whole new tier set; InvalidInput names the tiers at fault. `shown`,
    the app's reading for its pages (`shown_point_tiers`), is forgotten: they show the new set."""
    given = list(tiers)
    problems = _limit_problems(given)
    if problems:
        raise InvalidInput("; ".join(problems), code="tier_config")
    try:
        ordered = validate_point_tiers(given)
    except TierConfigError as exc:
        raise InvalidInput(exc.message, code="tier_config") from exc
    existing = {row.name: row for row in session.scalars(select(PassportTier))}
    keep = {tier.name for tier in ordered}
    session.execute(delete(PassportTier).where(PassportTier.name.not_in(keep)))
    for tier in ordered:
        row = existing.get(tier.name) or PassportTier(name=tier.name)
        row.min_points = tier.min_points
        row.perks_json = dict(tier.perks)
        session.add(row)
    session.flush()
    forget_point_tiers(session)
    if shown is not None:
        shown.forget()
    return list(ordered)
