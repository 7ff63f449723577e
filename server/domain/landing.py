"""Figures for the public /socaport-app page (seed 001 §4.1, `GET /api/passport/landing-info`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import PassportProfile, PassportStamp


def landing_info(session: Session) -> dict[str, int]:
    """`{"totalPassportUsers", "totalStampsIssued"}`: counts of passport profiles and stamps."""
    profiles = session.scalar(select(func.count()).select_from(PassportProfile)) or 0
    stamps = session.scalar(select(func.count()).select_from(PassportStamp)) or 0
    return {"totalPassportUsers": profiles, "totalStampsIssued": stamps}
