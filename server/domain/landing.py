"""Figures for the public /socaport-app page (seed 001 §4.1, `GET /api/passport/landing-info`).

The two counts scan every passport and every stamp, and every visitor of the
landing page asks for them: `LandingFigures` (one per app) keeps them for a
few seconds, so a crowd costs the database one pair of counts per interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import PassportProfile, PassportStamp
from server.domain.recent import Recent

#: How long the landing figures are reused, in seconds.
LANDING_TTL_SECONDS: Final = 5.0


def landing_info(session: Session) -> dict[str, int]:
    """`{"totalPassportUsers", "totalStampsIssued"}`: counts of passport profiles and stamps."""
    profiles = session.scalar(select(func.count()).select_from(PassportProfile)) or 0
    stamps = session.scalar(select(func.count()).select_from(PassportStamp)) or 0
    return {"totalPassportUsers": profiles, "totalStampsIssued": stamps}


class LandingFigures(Recent[dict[str, int]]):
    """`landing_info`, counted at most once per `ttl` seconds (thread-safe; one per app)."""

    def __init__(
        self, ttl: float = LANDING_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(landing_info, ttl, clock)

    def get(self, session: Session) -> dict[str, int]:
        """The figures (a copy), counted again when the last count is older than `ttl`."""
        return dict(super().get(session))
