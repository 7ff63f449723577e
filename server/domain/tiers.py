"""HQ's configuration of the passport's point tiers and their perks (`passport_tiers`).

A new tier set is validated as a whole by core's rules before anything is
written, and replaces the old one in the caller's transaction. Existing
passports keep their stored tier until they next earn a stamp or `recompute`
runs, which reports the difference as drift and, with --fix, applies it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.errors import TierConfigError
from core.tiers import PointTier, validate_point_tiers
from server.db.models import PassportTier
from server.domain.passport import forget_point_tiers, load_point_tiers
from server.errors import InvalidInput


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
