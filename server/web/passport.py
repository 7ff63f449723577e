"""`/passport`: what the signed-in attendee came for, phone first.

Upcoming tickets come first, each with the QR the door admits; then the
passport (tier, points, perks in words) with the QR the bar stamps, the
stamp cards (tier, completions, prize ready, next tier, recent visits),
rewards with how to redeem them, and the event stamps. Past tickets fold
away. Every QR on the page is a token people carry, drawn once, when the
token was issued (`server.domain.qr_codes`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from fastapi import Request, Response
from sqlalchemy.orm import Session

from core.perks import perk_sentences
from core.tiers import CardTier, PointTier, point_tier_progress
from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import PassportProfile, utcnow
from server.domain import attendee, qr_codes
from server.domain import passport as passports
from server.errors import NotFound
from server.wallet.runtime import Wallets
from server.web import sales
from server.web.auth import CheckedForm, SignedInUser
from server.web.one_call import SignedInPage
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()

#: Where the page takes the point tiers from (a session in, the tiers lowest first out).
TierSource = Callable[[Session], Sequence[PointTier]]
#: A tier colour the page may use in a style attribute.
_COLOUR: Final = re.compile(r"#[0-9A-Fa-f]{6}")
#: A card's ledger entries in words; a kind not listed reads as its own name.
ENTRY_WORDS: Final = {"STAMP": "Stamp", "CLAIM": "Prize claimed", "UNSTAMP": "Stamp undone"}


def when(moment: datetime) -> str:
    """A moment as the page shows it, on its own clock: "Sat 14 Feb 2026 · 17:00 AST"."""
    return f"{moment:%a %d %b %Y} · {moment:%H:%M} {moment.tzname() or ''}".rstrip()


def entry_words(kind: str) -> str:
    """A ledger entry's kind in words."""
    return ENTRY_WORDS.get(kind, kind.replace("_", " ").capitalize())


def tier_style(tier: CardTier | None) -> dict[str, str]:
    """How a card tier's badge is drawn: its colour (when a safe #RRGGBB) and emoji or image."""
    if tier is None:
        return {}
    colour = tier.color if tier.color and _COLOUR.fullmatch(tier.color) else ""
    image = tier.icon.startswith("/")  # an uploaded icon is served from a local path
    return {
        "colour": colour,
        "image": tier.icon if image else "",
        "emoji": "" if image else tier.icon,
    }


def _passport(
    session: DbSession,
    user_id: uuid.UUID,
    profile: PassportProfile | None,
    drawings: dict[str, str],
    tiers: TierSource,
) -> dict[str, Any] | None:
    """The passport block, or None when the user has no passport yet."""
    if profile is None:
        return None
    summary = passports.passport_summary(session, user_id=user_id, profile=profile)
    progress = point_tier_progress(profile.total_points, tiers(session))
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
        "perks": perk_sentences(progress.current.perks),
        "next_perks": perk_sentences(progress.next_tier.perks) if progress.next_tier else [],
        "stamps": stamps,
        "countries": sorted({stamp["country_code"] for stamp in stamps}),
        "qr_svg": drawings.get(profile.qr_token or "", ""),
    }


def _kept_drawings(
    session: DbSession,
    shown: list[attendee.TicketView],
    profile: PassportProfile | None,
    profile_drawing: str | None,
) -> dict[str, str]:
    """The QR drawings of the shown tickets and the passport, by token: as read with their
    rows, else (a token issued before drawings were kept) through `token_drawings`."""
    carried = [(t.qr_token, t.drawing) for t in shown]
    if profile is not None and profile.qr_token:
        carried.append((profile.qr_token, profile_drawing))
    drawings = {token: svg for token, svg in carried if svg is not None}
    missing = [token for token, svg in carried if svg is None]
    return (drawings | qr_codes.token_drawings(session, missing)) if missing else drawings


def passport_context(
    session: DbSession,
    *,
    user_id: uuid.UUID,
    now: datetime,
    tiers: TierSource,
    wallets: Wallets | None = None,
) -> dict[str, Any]:
    """Everything /passport shows (`view` is None when the user has no passport yet); the
    point tiers from `tiers` (the app's `shown_point_tiers`)."""
    tickets = attendee.tickets_of(session, user_id=user_id, now=now)
    holds = attendee.holdings_of(session, user_id=user_id)
    profile = holds.profile
    shown = [t for t in tickets.upcoming if not t.revoked]
    drawings = _kept_drawings(session, shown, profile, holds.drawing)
    return {
        "view": _passport(session, user_id, profile, drawings, tiers),
        "tickets": tickets,
        "ticket_qr": {t.id: drawings[t.qr_token] for t in shown},
        "cards": attendee.cards_of(session, user_id=user_id) if holds.cards else [],
        "rewards": attendee.rewards_of(session, user_id=user_id, now=now) if holds.rewards else [],
        "when": when,
        "entry_words": entry_words,
        "tier_style": tier_style,
        "wallet": {
            "apple": wallets is not None and wallets.apple is not None,
            "google": wallets is not None and wallets.google is not None,
        },
        **sales.passport_extras(
            session, user_id=user_id, has_purchases=holds.purchases, has_earned=holds.redemptions
        ),
    }


@router.get("/passport")
async def passport_page(page: SignedInPage) -> Response:
    """The signed-in user's tickets, passport, cards and rewards."""
    return await page.serve(_passport_page)


def _passport_page(request: Request, session: Session, user: Principal) -> Response:
    assert user.user is not None
    state = request.app.state
    context = passport_context(
        session,
        user_id=user.user.id,
        now=utcnow(),
        wallets=state.wallets,
        tiers=state.point_tiers.get,
    )
    return render(request, "passport.html", context)


@router.post("/passport/rewards/{passport_reward_id}/use")
def use_reward(
    passport_reward_id: str, session: DbSession, user: SignedInUser, _form: CheckedForm
) -> Response:
    """Mark one of the user's rewards used (tapped in front of staff), then show the passport."""
    assert user.user is not None
    try:
        parsed = uuid.UUID(passport_reward_id)
    except ValueError:
        raise NotFound("We couldn't find that reward.") from None
    passports.redeem_reward(session, reward_id=parsed, user_id=user.user.id, now=utcnow())
    return redirect(f"/passport#reward-{parsed}")
