"""A customer's pass on a stamp-card offer: `GET /api/v1/offers/{offer_id}/passes/{user_id}`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter

from core.tiers import card_progress_dict, card_tier_progress, parse_card_tier_config
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import example_response
from server.domain import cards

router = APIRouter(prefix="/api/v1/offers", tags=["stamp cards"], route_class=PolicyRoute)

_EXAMPLE = {
    "progress": card_progress_dict(2, 5, 3),
    "tier": card_tier_progress(3, parse_card_tier_config(None)).to_seed_dict(),
    "status": "ACTIVE",
    "lastActivityAt": "2026-02-14T21:03:00+00:00",
}


@router.get("/{offer_id}/passes/{user_id}", responses={200: example_response(_EXAMPLE)})
def get_pass(
    offer_id: uuid.UUID,
    user_id: uuid.UUID,
    session: DbSession,
    caller: Annotated[Principal, allow(Role.HQ, Role.BRANCH_MANAGER, Role.BRANCH_DEVICE)],
) -> dict[str, Any]:
    """The customer's progress and tier on this offer (HQ, or the offer's branch)."""
    offer = tenancy.offer(session, caller, offer_id)
    return cards.pass_view(session, offer_id=offer.id, user_id=user_id)
