"""`/passport`: the signed-in attendee's passport — tier, stamps, rewards, cards and QR."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno
from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.tiers import point_tier_progress
from server.api.deps import DbSession
from server.db.models import LoyaltyPass, Offer, PassportReward
from server.db.models.enums import PassportRewardStatus
from server.domain import cards
from server.domain import passport as passports
from server.web.auth import SignedInUser
from server.web.render import render
from server.web.routing import page_router

router = page_router()


def _perk_labels(perks: dict[str, Any]) -> list[str]:
    labels = []
    for key, value in perks.items():
        if key == passports.PERK_VALIDITY_KEY or value in (False, None, 0):
            continue
        name = key.replace("_", " ")
        labels.append(name if value is True else f"{name} {value}")
    return labels


def qr_svg(text: str) -> str:
    """The passport QR as inline SVG, scaled by CSS to fill a phone screen."""
    return str(segno.make(text, error="m", micro=False).svg_inline(border=2, omitsize=True))


@dataclass(frozen=True)
class CardLine:
    """One stamp card: "current of max" and prizes claimed so far."""

    name: str
    current: int
    max: int
    claimed: int


def _cards(session: Session, user_id: uuid.UUID) -> list[CardLine]:
    rows = session.execute(
        select(LoyaltyPass.offer_id, Offer.name)
        .join(Offer, Offer.id == LoyaltyPass.offer_id)
        .where(LoyaltyPass.user_id == user_id)
        .order_by(Offer.name)
    ).all()
    lines = []
    for offer_id, name in rows:
        progress = cards.pass_view(session, offer_id=offer_id, user_id=user_id)["progress"]
        lines.append(
            CardLine(
                name, progress["currentStamps"], progress["maxStamps"], progress["rewardsClaimed"]
            )
        )
    return lines


def _rewards(session: Session, user_id: uuid.UUID) -> list[dict[str, str]]:
    rows = session.scalars(
        select(PassportReward)
        .where(
            PassportReward.user_id == user_id,
            PassportReward.status == PassportRewardStatus.AVAILABLE,
        )
        .order_by(PassportReward.created_at)
    )
    return [
        {
            "label": row.reward_type.replace("_", " ").title(),
            "expires": row.expires_at.strftime("%d %b %Y") if row.expires_at else "",
        }
        for row in rows
    ]


def passport_view(session: Session, *, user_id: uuid.UUID) -> dict[str, Any] | None:
    """Everything the page shows, or None when the user has no passport yet."""
    profile = passports.get_profile(session, user_id=user_id)
    if profile is None:
        return None
    summary = passports.passport_summary(session, user_id=user_id)
    progress = point_tier_progress(profile.total_points, passports.load_point_tiers(session))
    span = (
        (progress.next_tier.min_points - progress.current.min_points) if progress.next_tier else 1
    )
    done = profile.total_points - progress.current.min_points
    stamps = [
        {**stamp, "date": datetime.fromisoformat(stamp["created_at"]).strftime("%d %b %Y")}
        for stamp in reversed(summary["stamps"])
    ]
    return {
        "handle": profile.handle,
        "points": profile.total_points,
        "tier": profile.current_tier,
        "total_events": profile.total_events,
        "total_countries": profile.total_countries,
        "next_tier": progress.next_tier.name if progress.next_tier else None,
        "points_to_next": progress.points_to_next,
        "percent": 100 if progress.is_top_tier else max(0, min(100, 100 * done // span)),
        "perks": _perk_labels(progress.current.perks),
        "next_perks": _perk_labels(progress.next_tier.perks) if progress.next_tier else [],
        "stamps": stamps,
        "countries": sorted({stamp["country_code"] for stamp in stamps}),
        "rewards": _rewards(session, user_id),
        "cards": _cards(session, user_id),
        "qr_svg": qr_svg(profile.qr_token) if profile.qr_token else "",
    }


@router.get("/passport")
def passport_page(request: Request, session: DbSession, user: SignedInUser) -> Response:
    """The signed-in user's passport (or the button that creates it)."""
    assert user.user is not None
    return render(request, "passport.html", {"view": passport_view(session, user_id=user.user.id)})
