"""Stamp-card offers (seed 002): `GET/POST /api/v1/offers`, `GET/PUT /api/v1/offers/{offer_id}`,
and a customer's pass: `GET /api/v1/offers/{offer_id}/passes/{user_id}`.

`loyalty_tiers` is the seed's JSON (`{"enabled", "tiers": [{"id", "name",
"nameAr", "minRewards", "maxRewards", "icon", "color"}]}`), checked by the
one rule in `core.tiers`: a bad set is 422 `tier_config`, its message naming
the tiers at fault and `fields` keyed `loyalty_tiers.<tier id>`. A business
writes the offers of its own branches; managers and BRANCH devices read
their branch's; another business's offer is the same 404 as a missing one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import ConfigDict

from core import limits
from core.tiers import (
    card_progress_dict,
    card_tier_progress,
    card_tiers_to_config,
    parse_card_tier_config,
)
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import AppSettings, DbSession
from server.api.schemas import ErrorBody, RequestModel, View, example_response
from server.db.models import Offer, utcnow
from server.db.models.enums import OfferStatus
from server.domain import cards, offers

router = APIRouter(prefix="/api/v1/offers", tags=["stamp cards"], route_class=PolicyRoute)
Reader = Annotated[
    Principal, allow(Role.HQ, Role.BUSINESS, Role.BRANCH_MANAGER, Role.BRANCH_DEVICE)
]
Writer = Annotated[Principal, allow(Role.HQ, Role.BUSINESS)]

_BRANCH_ID = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
_COFFEE_TIERS: dict[str, Any] = {
    "enabled": True,
    "tiers": [
        {
            "id": "lover",
            "name": "Coffee Lover",
            "nameAr": "محب القهوة",
            "minRewards": 1,
            "maxRewards": 3,
            "icon": "☕",
            "color": "#6F4E37",
        },
        {
            "id": "expert",
            "name": "Coffee Expert",
            "nameAr": "خبير القهوة",
            "minRewards": 4,
            "maxRewards": 9,
            "icon": "🏆",
            "color": "#C0A062",
        },
        {
            "id": "master",
            "name": "Coffee Master",
            "nameAr": "أستاذ القهوة",
            "minRewards": 10,
            "maxRewards": None,
            "icon": "👑",
            "color": "#FFD700",
        },
    ],
}
_OFFER_IN: dict[str, Any] = {
    "branch_id": _BRANCH_ID,
    "name": "Fifth coffee free",
    "prize": "One coffee of your choice",
    "max_stamps": 5,
    "loyalty_tiers": _COFFEE_TIERS,
}
_PASS_EXAMPLE = {
    "progress": card_progress_dict(2, 5, 3),
    "tier": card_tier_progress(3, parse_card_tier_config(None)).to_seed_dict(),
    "status": "ACTIVE",
    "lastActivityAt": "2026-02-14T21:03:00+00:00",
}
_TIER_ERROR = {
    "error": {
        "code": "tier_config",
        "message": "Loyalty tiers: tiers 'expert' (4-9) and 'master' (8-∞) overlap",
        "fields": {
            "loyalty_tiers.expert": "tiers 'expert' (4-9) and 'master' (8-∞) overlap",
            "loyalty_tiers.master": "tiers 'expert' (4-9) and 'master' (8-∞) overlap",
        },
    }
}


class OfferIn(RequestModel):
    """A new offer: its branch, name, prize, stamps per card, status and loyalty tiers."""

    branch_id: uuid.UUID
    name: Annotated[str, limits.OFFER_NAME]
    prize: Annotated[str, limits.PRIZE]
    max_stamps: Annotated[int, limits.MAX_STAMPS] = 5
    loyalty_tiers: dict[str, Any] | None = None
    status: OfferStatus = OfferStatus.ACTIVE
    description: Annotated[str, limits.DESCRIPTION] | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [_OFFER_IN]})


class OfferChange(RequestModel):
    """The fields to change (absent ones stay); `loyalty_tiers: null` restores the defaults."""

    branch_id: uuid.UUID | None = None
    name: Annotated[str, limits.OFFER_NAME] | None = None
    prize: Annotated[str, limits.PRIZE] | None = None
    max_stamps: Annotated[int, limits.MAX_STAMPS] | None = None
    loyalty_tiers: dict[str, Any] | None = None
    status: OfferStatus | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"loyalty_tiers": _COFFEE_TIERS}]})


class OfferView(View):
    """An offer; `tiers` is the tier set in force (the custom one, or the seed's defaults)."""

    id: uuid.UUID
    branch_id: uuid.UUID
    name: str
    prize: str
    description: str | None
    max_stamps: int
    status: str
    loyalty_tiers: dict[str, Any] | None
    tiers: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_OFFER_IN,
                    "id": "5d6e7f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5",
                    "description": None,
                    "status": "ACTIVE",
                    "tiers": _COFFEE_TIERS["tiers"],
                    "created_at": "2026-02-01T10:00:00Z",
                    "updated_at": "2026-02-01T10:00:00Z",
                }
            ]
        }
    )

    @classmethod
    def of(cls, offer: Offer) -> OfferView:
        """The view of an offer row."""
        effective = card_tiers_to_config(cards.offer_tiers(offer))["tiers"]
        return cls.model_validate(
            {
                **{name: getattr(offer, name) for name in cls.model_fields if name != "tiers"},
                "tiers": effective,
            }
        )


@router.get("")
def list_offers(
    session: DbSession, caller: Reader, branch_id: uuid.UUID | None = None
) -> list[OfferView]:
    """The offers the caller may see (HQ all, a business its own), optionally one branch's."""
    if branch_id is not None:
        ids: list[uuid.UUID] | None = [tenancy.branch(session, caller, branch_id).id]
    else:
        visible = tenancy.visible_branches(session, caller)
        ids = None if visible is None else [row.id for row in visible]
    return [OfferView.of(row) for row in offers.list_(session, branch_ids=ids)]


@router.post(
    "",
    status_code=201,
    responses={422: {"model": ErrorBody, **example_response(_TIER_ERROR, "A bad tier set")}},
)
def create_offer(
    session: DbSession,
    caller: Writer,
    body: Annotated[OfferIn, Body(openapi_examples={"coffee": {"value": _OFFER_IN}})],
) -> OfferView:
    """A new offer at one of the caller's branches."""
    branch = tenancy.branch(session, caller, body.branch_id)
    offer = offers.create(
        session,
        branch_id=branch.id,
        name=body.name,
        prize=body.prize,
        max_stamps=body.max_stamps,
        loyalty_tiers=body.loyalty_tiers,
        status=body.status,
        description=body.description,
    )
    return OfferView.of(offer)


@router.get("/{offer_id}")
def get_offer(offer_id: uuid.UUID, session: DbSession, caller: Reader) -> OfferView:
    """One offer (404 for another business's, as for a missing one)."""
    return OfferView.of(tenancy.offer(session, caller, offer_id))


@router.put(
    "/{offer_id}",
    responses={422: {"model": ErrorBody, **example_response(_TIER_ERROR, "A bad tier set")}},
)
def update_offer(
    offer_id: uuid.UUID,
    session: DbSession,
    settings: AppSettings,
    caller: Writer,
    body: OfferChange,
) -> OfferView:
    """Change an offer; new tiers re-tier its customers' passes at once."""
    offer = tenancy.offer(session, caller, offer_id)
    sent = body.model_fields_set
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("name", "prize", "max_stamps", "status")
        if name in sent and getattr(body, name) is not None
    }
    if "loyalty_tiers" in sent:
        changes["loyalty_tiers"] = body.loyalty_tiers
    if body.branch_id is not None:
        changes["branch_id"] = tenancy.branch(session, caller, body.branch_id).id
    updated = offers.update(
        session,
        offer_id=offer.id,
        now=utcnow(),
        inactivity_days=settings.pass_inactivity_expiration_days,
        **changes,
    )
    return OfferView.of(updated)


@router.get("/{offer_id}/passes/{user_id}", responses={200: example_response(_PASS_EXAMPLE)})
def get_pass(
    offer_id: uuid.UUID,
    user_id: uuid.UUID,
    session: DbSession,
    caller: Reader,
) -> dict[str, Any]:
    """The customer's progress and tier on this offer (HQ, the business, or the offer's branch)."""
    offer = tenancy.offer(session, caller, offer_id)
    return cards.pass_view(session, offer_id=offer.id, user_id=user_id)
