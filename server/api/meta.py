"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.auth import PolicyRoute, public
from server.api.schemas import example_response

router = APIRouter(tags=["meta"], route_class=PolicyRoute)


@router.get("/health", dependencies=[public()], responses={200: example_response({"status": "ok"})})
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}
