"""Seed 002's prize confirmation: `POST /api/branch-manager/confirm-prize/{customer}/{offer}`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter

from core.tiers import confirm_prize_response
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import AppSettings, DbSession
from server.api.schemas import ErrorBody, example_response
from server.db.models import utcnow
from server.domain import cards
from server.sync import push

router = APIRouter(prefix="/api/branch-manager", tags=["stamp cards"], route_class=PolicyRoute)

_EXAMPLE = confirm_prize_response(0, 5, 3)


@router.post(
    "/confirm-prize/{customer_id}/{offer_id}",
    responses={
        200: example_response(_EXAMPLE, "The card after the claim (seed 002's response)"),
        409: {"model": ErrorBody, "description": "not_enough_stamps: the card is not full"},
    },
)
def confirm_prize(
    customer_id: uuid.UUID,
    offer_id: uuid.UUID,
    session: DbSession,
    settings: AppSettings,
    caller: Annotated[Principal, allow(Role.HQ, Role.BRANCH_MANAGER, Role.BRANCH_DEVICE)],
) -> dict[str, Any]:
    """Confirm the prize on a full card: stamps back to 0, one more completion, tier recomputed.

    The confirmation is an entry of the card's ledger decided in the same order
    as the tablets' offline claims: a tablet's claim dated earlier that arrives
    later makes this one a conflict listed for HQ (`GET /api/v1/sync/conflicts`).
    """
    offer = tenancy.offer(session, caller, offer_id)
    card = push.confirm_prize(
        session,
        offer=offer,
        customer_id=customer_id,
        device=caller.device,
        user_id=caller.user_id,
        now=utcnow(),
        settings=settings,
    )
    return confirm_prize_response(
        card.current_stamps, offer.max_stamps, card.rewards_claimed, cards.offer_tiers(offer)
    )
