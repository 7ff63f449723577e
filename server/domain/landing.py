"""Figures for the public /socaport-app page (seed 001 §4.1, `GET /api/passport/landing-info`).

The two counts scan every passport and every stamp, and every visitor of the
landing page asks for them: `LandingFigures` (one per app) keeps them for a
few seconds, so a crowd costs the database one pair of counts per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import PassportProfile, PassportStamp

#: How long the landing figures are reused, in seconds.
LANDING_TTL_SECONDS: Final = 5.0


def landing_info(session: Session) -> dict[str, int]:
    """`{"totalPassportUsers", "totalStampsIssued"}`: counts of passport profiles and stamps."""
    profiles = session.scalar(select(func.count()).select_from(PassportProfile)) or 0
    stamps = session.scalar(select(func.count()).select_from(PassportStamp)) or 0
    return {"totalPassportUsers": profiles, "totalStampsIssued": stamps}


class LandingFigures:
    """`landing_info`, counted at most once per `ttl` seconds (thread-safe; one per app)."""

    def __init__(
        self, ttl: float = LANDING_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._figures: dict[str, int] | None = None
        self._counted_at = 0.0

    def get(self, session: Session) -> dict[str, int]:
        """The figures, counted again when the last count is older than `ttl`."""
        with self._lock:
            if self._figures is not None and self._clock() - self._counted_at < self.ttl:
                return dict(self._figures)
        figures = landing_info(session)
        with self._lock:
            self._figures, self._counted_at = figures, self._clock()
        return dict(figures)
