"""Rebuild every derived figure from its ledger and report where the stored value drifted.

Passport totals and tier come from `passport_stamps`; stamp-card progress from
`pass_entries` (through the one replay rule in core); package stock from its
purchases; reward counters from their redemptions. With `fix=True` the stored
values are corrected in the same transaction (the caller commits).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.cards import EntryKind, replay
from core.passport import add_points
from core.tiers import point_tier_for
from server.db.models import (
    EventReward,
    LoyaltyPass,
    Offer,
    Package,
    PackagePurchase,
    PassEntry,
    PassportProfile,
    PassportStamp,
    RewardRedemption,
)
from server.db.models.enums import PurchaseStatus
from server.domain.passport import load_point_tiers

#: Purchases that hold a unit of stock.
STOCK_HOLDING = (PurchaseStatus.PENDING, PurchaseStatus.PAID)


@dataclass(frozen=True)
class Drift:
    """One stored figure that differs from what its ledger says."""

    table: str
    row_id: uuid.UUID
    column: str
    stored: object
    expected: object


@dataclass
class RecomputeReport:
    """How many rows were checked, and every drift found."""

    checked: dict[str, int] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)


def recompute(session: Session, *, inactivity_days: int, fix: bool = False) -> RecomputeReport:
    """Check (and with `fix`, correct) every derived figure against its ledger."""
    report = RecomputeReport()
    _passports(session, report, fix)
    _passes(session, report, fix, inactivity_days)
    _packages(session, report, fix)
    _rewards(session, report, fix)
    if fix:
        session.flush()
    return report


def _compare(
    report: RecomputeReport,
    row: object,
    table: str,
    row_id: uuid.UUID,
    expected: dict[str, object],
    fix: bool,
) -> None:
    for column, value in expected.items():
        stored = getattr(row, column)
        if stored != value:
            report.drift.append(Drift(table, row_id, column, stored, value))
            if fix:
                setattr(row, column, value)


def _passports(session: Session, report: RecomputeReport, fix: bool) -> None:
    tiers = load_point_tiers(session)
    totals = {
        user_id: (add_points(0, int(points)), int(events), int(countries))
        for user_id, points, events, countries in session.execute(
            select(
                PassportStamp.user_id,
                func.sum(PassportStamp.points_earned),
                func.count(),
                func.count(func.distinct(PassportStamp.country_code)),
            ).group_by(PassportStamp.user_id)
        )
    }
    profiles = session.scalars(select(PassportProfile)).all()
    for profile in profiles:
        points, events, countries = totals.get(profile.user_id, (0, 0, 0))
        expected: dict[str, object] = {
            "total_points": points,
            "total_events": events,
            "total_countries": countries,
            "current_tier": point_tier_for(points, tiers).name,
        }
        _compare(report, profile, "passport_profiles", profile.id, expected, fix)
    report.checked["passport_profiles"] = len(profiles)


def _passes(session: Session, report: RecomputeReport, fix: bool, inactivity_days: int) -> None:
    entries: dict[uuid.UUID, list[tuple[EntryKind, datetime]]] = defaultdict(list)
    for pass_id, kind, occurred_at in session.execute(
        select(PassEntry.pass_id, PassEntry.kind, PassEntry.occurred_at).order_by(
            PassEntry.pass_id, PassEntry.occurred_at, PassEntry.id
        )
    ):
        entries[pass_id].append((EntryKind(kind), occurred_at))
    max_stamps = dict(session.execute(select(Offer.id, Offer.max_stamps)).all())
    cards = session.scalars(select(LoyaltyPass)).all()
    for card in cards:
        state = replay(
            entries.get(card.id, []),
            max_stamps=max_stamps[card.offer_id],
            inactivity_days=inactivity_days,
        )
        expected: dict[str, object] = {
            "current_stamps": state.current_stamps,
            "rewards_claimed": state.rewards_claimed,
            "last_activity_at": state.last_activity_at,
        }
        _compare(report, card, "loyalty_passes", card.id, expected, fix)
    report.checked["loyalty_passes"] = len(cards)


def _packages(session: Session, report: RecomputeReport, fix: bool) -> None:
    sold = dict(
        session.execute(
            select(PackagePurchase.package_id, func.count())
            .where(PackagePurchase.status.in_(STOCK_HOLDING))
            .group_by(PackagePurchase.package_id)
        ).all()
    )
    packages = session.scalars(select(Package)).all()
    for package in packages:
        expected: dict[str, object] = {"sold_quantity": int(sold.get(package.id, 0))}
        _compare(report, package, "packages", package.id, expected, fix)
    report.checked["packages"] = len(packages)


def _rewards(session: Session, report: RecomputeReport, fix: bool) -> None:
    counts = dict(
        session.execute(
            select(RewardRedemption.reward_id, func.count()).group_by(RewardRedemption.reward_id)
        ).all()
    )
    rewards = session.scalars(select(EventReward)).all()
    for reward in rewards:
        expected: dict[str, object] = {"current_redemptions": int(counts.get(reward.id, 0))}
        _compare(report, reward, "rewards", reward.id, expected, fix)
    report.checked["rewards"] = len(rewards)
