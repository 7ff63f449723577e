"""Paid passport memberships (seed 001 §3.3): scaffolding for premium tiers, no payments yet.

FREE is inferred from absence, as the seed allows: a user with no ACTIVE
membership row, or whose ACTIVE row's `expires_at` is at or before `now`, is
FREE. `expire_due` later flips such rows to EXPIRED; until it runs,
`current_tier` already treats them as expired.

One ACTIVE membership at a time: `create` ends the user's previous ACTIVE
row first (CANCELLED, or EXPIRED if its time had already run out), so an
upgrade or downgrade is simply creating the new membership. `cancel` of a
CANCELLED membership is a no-op; of an EXPIRED one, a Conflict.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import PassportMembership, User, utcnow
from server.db.models.enums import MembershipStatus, MembershipTier
from server.domain.promoters import FieldErrors
from server.errors import Conflict, InvalidInput, NotFound


def _is_expired(membership: PassportMembership, now: datetime) -> bool:
    return membership.expires_at is not None and membership.expires_at <= now


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"{name} must be timezone-aware (UTC).")
    return value


def parse_tier(value: str) -> MembershipTier:
    """A membership tier from its name; InvalidInput naming the allowed values otherwise."""
    try:
        return MembershipTier(value)
    except ValueError:
        allowed = ", ".join(MembershipTier)
        raise InvalidInput(f"Unknown membership tier {value!r}; use one of {allowed}.") from None


def parse_status(value: str) -> MembershipStatus:
    """A membership status from its name; InvalidInput naming the allowed values otherwise."""
    try:
        return MembershipStatus(value)
    except ValueError:
        allowed = ", ".join(MembershipStatus)
        raise InvalidInput(f"Unknown membership status {value!r}; use one of {allowed}.") from None


def _active_rows(session: Session, user_id: uuid.UUID) -> list[PassportMembership]:
    return list(
        session.scalars(
            select(PassportMembership)
            .where(
                PassportMembership.user_id == user_id,
                PassportMembership.status == MembershipStatus.ACTIVE,
            )
            .order_by(PassportMembership.started_at.desc(), PassportMembership.id)
        )
    )


def current(session: Session, *, user_id: uuid.UUID, now: datetime) -> PassportMembership | None:
    """The user's ACTIVE, unexpired membership at `now`, or None (they are FREE)."""
    _aware(now, "now")
    for membership in _active_rows(session, user_id):
        if not _is_expired(membership, now):
            return membership
    return None


def current_tier(session: Session, *, user_id: uuid.UUID, now: datetime) -> MembershipTier:
    """The user's membership tier at `now`: FREE without an ACTIVE, unexpired membership."""
    membership = current(session, user_id=user_id, now=now)
    return MembershipTier.FREE if membership is None else MembershipTier(membership.tier)


def get(session: Session, *, membership_id: uuid.UUID) -> PassportMembership:
    """The membership with this id; NotFound if there is none."""
    membership = session.get(PassportMembership, membership_id)
    if membership is None:
        raise NotFound(f"There is no membership {membership_id}.")
    return membership


def create(
    session: Session,
    *,
    user_id: uuid.UUID,
    tier: MembershipTier | str,
    expires_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> PassportMembership:
    """Start an ACTIVE membership at `now` (default: the current time), ending any previous one."""
    clean_tier = parse_tier(tier)
    started_at = _aware(now, "now") if now is not None else utcnow()
    if expires_at is not None:
        _aware(expires_at, "expires_at")
        if not limits.DATE_TIME.contains(expires_at):
            raise FieldErrors({"expires_at": f"Use {limits.DATE_TIME.words()}."})
        if expires_at <= started_at:
            raise FieldErrors({"expires_at": "A membership must expire after it starts."})
    if metadata is not None:
        problem = limits.json_problem(metadata, limits.MEMBERSHIP_METADATA)
        if problem is not None:
            raise FieldErrors({"metadata": f"Metadata {problem}."})
    # Lock the user so two concurrent upgrades cannot both leave an ACTIVE row.
    if session.get(User, user_id, with_for_update=True, populate_existing=True) is None:
        raise NotFound(f"There is no user {user_id}.")
    for previous in _active_rows(session, user_id):
        previous.status = (
            MembershipStatus.EXPIRED
            if _is_expired(previous, started_at)
            else MembershipStatus.CANCELLED
        )
    session.flush()

    membership = PassportMembership(
        user_id=user_id,
        tier=clean_tier,
        status=MembershipStatus.ACTIVE,
        started_at=started_at,
        expires_at=expires_at,
        metadata_json=dict(metadata or {}),
    )
    session.add(membership)
    session.flush()
    return membership


def cancel(session: Session, *, membership_id: uuid.UUID) -> PassportMembership:
    """ACTIVE -> CANCELLED; already CANCELLED is a no-op; EXPIRED raises Conflict."""
    membership = session.get(
        PassportMembership, membership_id, with_for_update=True, populate_existing=True
    )
    if membership is None:
        raise NotFound(f"There is no membership {membership_id}.")
    if membership.status == MembershipStatus.CANCELLED:
        return membership
    if membership.status == MembershipStatus.EXPIRED:
        raise Conflict("This membership has already expired; there is nothing to cancel.")
    membership.status = MembershipStatus.CANCELLED
    session.flush()
    return membership


def expire_due(session: Session, *, now: datetime) -> int:
    """Flip every ACTIVE membership whose `expires_at` is at or before `now` to EXPIRED."""
    _aware(now, "now")
    due = session.scalars(
        select(PassportMembership)
        .where(
            PassportMembership.status == MembershipStatus.ACTIVE,
            PassportMembership.expires_at.is_not(None),
            PassportMembership.expires_at <= now,
        )
        .with_for_update()
    ).all()
    for membership in due:
        membership.status = MembershipStatus.EXPIRED
    session.flush()
    return len(due)


def list_(
    session: Session,
    *,
    status: MembershipStatus | str | None = None,
    user_id: uuid.UUID | None = None,
) -> list[PassportMembership]:
    """Memberships, oldest first, optionally only one status and/or one user."""
    query = select(PassportMembership).order_by(
        PassportMembership.started_at, PassportMembership.id
    )
    if status is not None:
        query = query.where(PassportMembership.status == parse_status(status))
    if user_id is not None:
        query = query.where(PassportMembership.user_id == user_id)
    return list(session.scalars(query))
