"""HQ's passport tiers and perks (`passport_tiers`): read, and replace as a whole."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from core import limits
from core.tiers import PointTier
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import DbSession
from server.api.schemas import ErrorBody, RequestModel
from server.domain import tiers

router = APIRouter(prefix="/api/v1/tiers", tags=["tiers"], route_class=PolicyRoute)
HqOnly = Annotated[Principal, allow(Role.HQ)]

_TIERS: list[Any] = [
    {"name": "BRONZE", "min_points": 0, "perks": {}},
    {"name": "SILVER", "min_points": 300, "perks": {"discount_percent": 5}},
    {"name": "GOLD", "min_points": 800, "perks": {"vip_line": True, "discount_percent": 10}},
    {"name": "ELITE", "min_points": 1500, "perks": {"vip_line": True, "free_drink": True}},
]


class TierIn(RequestModel):
    """One tier: its name, the points it starts at (inclusive), and its perks."""

    name: Annotated[str, limits.TIER_NAME]
    min_points: Annotated[int, limits.TIER_MIN_POINTS]
    perks: Annotated[dict[str, Any], limits.PERKS] = Field(default_factory=dict)


class TierSet(RequestModel):
    """The whole tier set; it replaces the current one."""

    tiers: Annotated[list[TierIn], Field(max_length=limits.TIER_COUNT)]

    model_config = ConfigDict(json_schema_extra={"examples": [{"tiers": _TIERS}]})


class TierView(BaseModel):
    """A tier in force."""

    name: str
    min_points: int
    perks: dict[str, Any]


class TierSetView(BaseModel):
    """The tiers in force, lowest first."""

    tiers: list[TierView]

    model_config = ConfigDict(json_schema_extra={"examples": [{"tiers": _TIERS}]})


def _view(found: list[PointTier]) -> TierSetView:
    return TierSetView(
        tiers=[TierView(name=t.name, min_points=t.min_points, perks=dict(t.perks)) for t in found]
    )


@router.get("")
def get_tiers(session: DbSession, _caller: HqOnly) -> TierSetView:
    """HQ: the tiers in force."""
    return _view(tiers.list_tiers(session))


@router.put(
    "",
    responses={422: {"model": ErrorBody, "description": "`tier_config`: names the faulty tiers"}},
)
def replace_tiers(
    request: Request,
    session: DbSession,
    _caller: HqOnly,
    body: Annotated[TierSet, Body(openapi_examples={"default": {"value": {"tiers": _TIERS}}})],
) -> TierSetView:
    """HQ: replace the whole tier set (validated as a whole; 422 naming the tiers at fault)."""
    given = [PointTier(t.name, t.min_points, dict(t.perks)) for t in body.tiers]
    shown = request.app.state.point_tiers  # this worker's pages show the new set at once
    return _view(tiers.replace_tiers(session, tiers=given, shown=shown))
