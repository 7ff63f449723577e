"""Stamp-card offers (seed 002): name, prize, stamps per card, status, branch, loyalty tiers.

`loyalty_tiers` is kept in the seed's JSON shape, normalised: tiers sorted by
`minRewards`, every key present. A disabled set keeps its (valid) tiers, so
turning custom tiers back on restores them; null and disabled both mean the
seed's default Bronze / Silver / Gold. A bad set is refused by the one rule
in `core.tiers` with a message naming the tiers at fault (`TierErrors`).

Changing the tiers re-tiers existing passes at once (`cards.retier`), and
changing `max_stamps` re-derives every pass from its ledger.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from core.errors import TierConfigError
from core.tiers import CardTier, card_tiers_to_config, parse_card_tier_config
from server.db import wallet_outbox
from server.db.models import Branch, Offer
from server.db.models.enums import OfferStatus
from server.domain import cards
from server.domain.promoters import FieldErrors
from server.domain.unset import UNSET, Unset

TIERS_FIELD = "loyalty_tiers"


class TierErrors(FieldErrors):
    """A tier set core refused: the message names the tiers; `fields` maps each to its problem."""

    code = "tier_config"

    def __init__(self, error: TierConfigError) -> None:
        fields: dict[str, str] = {}
        for ids, text in error.problems:
            for key in [f"{TIERS_FIELD}.{tier_id}" for tier_id in ids] or [TIERS_FIELD]:
                fields[key] = f"{fields[key]}; {text}" if key in fields else text
        super().__init__(fields)
        self.message = f"Loyalty tiers: {error.message}"
        self.args = (self.message,)
        self.problems = error.problems


def tier_config(value: object) -> dict[str, Any] | None:
    """The normalised `loyalty_tiers` to store for what a business sent; TierErrors if bad."""
    if value is None:
        return None
    try:
        parse_card_tier_config(value)  # the shape, `enabled`, and an enabled set's tiers
        if isinstance(value, str | bytes):  # JSON text, valid since it parsed above
            value = json.loads(value)
            if value is None:
                return None
        assert isinstance(value, Mapping)
        enabled = value.get("enabled") is True
        entries = value.get("tiers") or []
        if not entries:
            if enabled:
                raise TierConfigError("a tier set needs at least one tier")
            return {"enabled": False, "tiers": []}
        tiers = parse_card_tier_config({"enabled": True, "tiers": entries})
    except TierConfigError as exc:
        raise TierErrors(exc) from None
    return card_tiers_to_config(tiers, enabled=enabled)


def _check(name: str, prize: str, max_stamps: int, status: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    clean_name, clean_prize = (name or "").strip(), (prize or "").strip()
    if problem := limits.text_problem(clean_name, limits.OFFER_NAME):
        errors["name"] = problem
    if problem := limits.text_problem(clean_prize, limits.PRIZE):
        errors["prize"] = problem
    if not clean_prize and "prize" not in errors:
        errors["prize"] = "Say what the customer gets on a full card."
    if not isinstance(max_stamps, int) or not limits.MAX_STAMPS.contains(max_stamps):
        errors["max_stamps"] = (
            f"Use {limits.MAX_STAMPS.minimum} to {limits.MAX_STAMPS.maximum} stamps per card."
        )
    if status not in set(OfferStatus):
        errors["status"] = f"Use {' or '.join(OfferStatus)}."
    if errors:
        raise FieldErrors(errors)
    return clean_name, clean_prize


def create(
    session: Session,
    *,
    branch_id: uuid.UUID,
    name: str,
    prize: str,
    max_stamps: int = 5,
    loyalty_tiers: object = None,
    status: str = OfferStatus.ACTIVE,
    description: str | None = None,
) -> Offer:
    """A new offer at a branch (the caller has checked the branch is theirs)."""
    clean_name, clean_prize = _check(name, prize, max_stamps, status)
    offer = Offer(
        branch_id=branch_id,
        name=clean_name,
        prize=clean_prize,
        max_stamps=max_stamps,
        loyalty_tiers=tier_config(loyalty_tiers),
        status=status,
        description=(description or "").strip() or None,
    )
    session.add(offer)
    session.flush()
    return offer


def get(session: Session, *, offer_id: uuid.UUID) -> Offer:
    """The offer; UNKNOWN_OFFER (404) if there is none."""
    return cards.get_offer(session, offer_id=offer_id)


def list_(
    session: Session,
    *,
    business_id: uuid.UUID | None = None,
    branch_ids: list[uuid.UUID] | None = None,
) -> list[Offer]:
    """Offers by name: one business's, some branches', or all."""
    query = select(Offer).order_by(Offer.name, Offer.id)
    if business_id is not None:
        query = query.join(Branch, Branch.id == Offer.branch_id).where(
            Branch.business_id == business_id
        )
    if branch_ids is not None:
        query = query.where(Offer.branch_id.in_(branch_ids))
    return list(session.scalars(query))


def update(
    session: Session,
    *,
    offer_id: uuid.UUID,
    now: datetime,
    inactivity_days: int,
    branch_id: uuid.UUID | Unset = UNSET,
    name: str | Unset = UNSET,
    prize: str | Unset = UNSET,
    max_stamps: int | Unset = UNSET,
    loyalty_tiers: object = UNSET,
    status: str | Unset = UNSET,
) -> Offer:
    """Change an offer; new tiers re-tier its passes, a new card size re-derives them."""
    offer = get(session, offer_id=offer_id)
    previous: tuple[CardTier, ...] = cards.offer_tiers(offer)
    old_max, shown = offer.max_stamps, (offer.name, offer.prize)
    offer.name, offer.prize = _check(
        offer.name if isinstance(name, Unset) else name,
        offer.prize if isinstance(prize, Unset) else prize,
        offer.max_stamps if isinstance(max_stamps, Unset) else max_stamps,
        offer.status if isinstance(status, Unset) else status,
    )
    if not isinstance(max_stamps, Unset):
        offer.max_stamps = max_stamps
    if not isinstance(status, Unset):
        offer.status = status
    if not isinstance(branch_id, Unset):
        offer.branch_id = branch_id
    if not isinstance(loyalty_tiers, Unset):
        offer.loyalty_tiers = tier_config(loyalty_tiers)
    session.flush()
    if offer.max_stamps != old_max:
        cards.replay_offer(session, offer=offer, inactivity_days=inactivity_days)
    if cards.offer_tiers(offer) != previous:
        cards.retier(session, offer=offer, previous=previous, now=now)
    if (offer.name, offer.prize) != shown:
        wallet_outbox.touch_offer(session, offer.id)  # wallet passes show both
    return offer
