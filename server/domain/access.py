"""Suspending and reinstating promoters: HQ's brake on an approved promoter.

A suspension is `promoters.suspended_at`, apart from the seed's status
(PENDING / APPROVED / REJECTED stays the application's decision, so
reinstating needs no memory of what it was). Suspending at once signs the
promoter's user out everywhere (API tokens and web sessions revoked),
revokes every device in its scopes (they get 401 on their next call) and
expires their unused pairing codes. While it is suspended its user cannot
log in, its tokens are refused and codes for its scopes do not pair.
Reinstating lets its user log in again; revoked devices stay revoked and are
paired again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server.db.models import Promoter
from server.db.models.enums import PromoterStatus
from server.domain import accounts, devices, promoters
from server.errors import Conflict


@dataclass(frozen=True)
class Suspension:
    """What suspending a promoter did."""

    promoter: Promoter
    signed_out: accounts.RevokedTokens
    devices_revoked: int

    def summary(self) -> str:
        """The outcome in words, for HQ."""
        tokens = self.signed_out
        return (
            f"{self.promoter.name} is suspended: {plural(tokens.api_tokens, 'API token')} and "
            f"{plural(tokens.web_sessions, 'web session')} revoked, "
            f"{plural(self.devices_revoked, 'device')} revoked. Its portal, API and devices "
            "refuse it until you reinstate it."
        )


def plural(count: int, noun: str) -> str:
    """`1 device`, `2 devices`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def suspend(session: Session, *, promoter_id: uuid.UUID, now: datetime) -> Suspension:
    """Suspend an APPROVED promoter (again: no change beyond re-revoking); Conflict otherwise."""
    promoter = promoters.lock(session, promoter_id)
    if promoter.status != PromoterStatus.APPROVED:
        raise Conflict(
            f"Promoter {promoter.name!r} is {promoter.status}; only an APPROVED promoter "
            "can be suspended."
        )
    if promoter.suspended_at is None:
        promoter.suspended_at = now
    signed_out = accounts.RevokedTokens()
    if promoter.user_id is not None:
        signed_out = accounts.revoke_user_tokens(session, user_id=promoter.user_id, now=now)
    revoked = devices.revoke_promoter_devices(session, promoter_id=promoter.id, now=now)
    session.flush()
    return Suspension(promoter, signed_out, revoked)


def reinstate(session: Session, *, promoter_id: uuid.UUID) -> Promoter:
    """Lift a suspension (not suspended: no change); its user may log in again."""
    promoter = promoters.lock(session, promoter_id)
    if promoter.suspended_at is not None:
        promoter.suspended_at = None
        session.flush()
    return promoter
