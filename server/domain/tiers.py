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

from core.errors import TierConfigError
from core.tiers import PointTier, validate_point_tiers
from server.db.models import PassportTier
from server.domain.passport import forget_point_tiers, load_point_tiers
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
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) > perk.maximum:
            errors[f"{perk.key}_{tier}"] = (
                f"{tier}: {perk.label.lower()} takes a whole number from 0 to {perk.maximum}."
            )
            continue
        perks[perk.key] = int(raw)
    if errors:
        raise FieldErrors(errors)
    return perks


def list_tiers(session: Session) -> list[PointTier]:
    """The tiers in force, lowest first."""
    return sorted(load_point_tiers(session), key=lambda tier: tier.min_points)


def replace_tiers(session: Session, *, tiers: Iterable[PointTier]) -> list[PointTier]:
    """Validate and store a whole new tier set; InvalidInput names the tiers at fault."""
    try:
        ordered = validate_point_tiers(tiers)
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
    return list(ordered)
