"""Credentials of the bar and bracelet systems, one event each (issue 18).

A credential is a random bearer token shown once at creation and stored only
as SHA-256 (like device and API tokens). It reaches one event: spend for that
event (`spend.record_spends`), its pending redemptions, and confirming them
applied. Revoking is immediate and idempotent; a revoked token is refused.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Event, IntegrationCredential, RewardRedemption
from server.domain import accounts, checks, event_rewards, rows
from server.errors import FieldErrors, NotFound

TOKEN_PREFIX = "soca_int_"  # noqa: S105 -- a prefix, not a secret


@dataclass(frozen=True)
class Issued:
    """A new credential and its token (the only time the token is known)."""

    credential: IntegrationCredential
    token: str


def _not_found(credential_id: uuid.UUID) -> NotFound:
    return NotFound(f"There is no integration {credential_id}.")


def create(
    session: Session,
    *,
    event_id: uuid.UUID,
    name: str,
    currency: str = "EUR",
    created_by_user_id: uuid.UUID | None = None,
) -> Issued:
    """A credential for one event; the token is returned once and stored hashed."""
    errors: dict[str, str] = {}
    checks.text(errors, "name", name, limits.INTEGRATION_NAME, required="Name the system.")
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        errors["currency"] = "Use a three-letter currency code such as EUR."
    if errors:
        raise FieldErrors(errors)
    if session.get(Event, event_id) is None:
        raise NotFound(f"event {event_id} not found")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    credential = IntegrationCredential(
        event_id=event_id,
        name=name,
        currency=currency.upper(),
        token_hash=accounts.hash_token(token),
        created_by_user_id=created_by_user_id,
    )
    session.add(credential)
    session.flush()
    return Issued(credential, token)


def get(session: Session, *, credential_id: uuid.UUID) -> IntegrationCredential:
    """A credential, revoked or not, or NotFound."""
    return rows.get(
        session, IntegrationCredential, credential_id, lambda: _not_found(credential_id)
    )


def get_by_token(session: Session, token: str) -> IntegrationCredential | None:
    """The credential a token belongs to, revoked or not (the caller decides), or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    query = select(IntegrationCredential).where(
        IntegrationCredential.token_hash == accounts.hash_token(token)
    )
    return session.scalar(query)


def list_for_event(session: Session, *, event_id: uuid.UUID) -> list[IntegrationCredential]:
    """An event's credentials, newest first (tokens are never shown again)."""
    query = (
        select(IntegrationCredential)
        .where(IntegrationCredential.event_id == event_id)
        .order_by(IntegrationCredential.created_at.desc(), IntegrationCredential.id)
    )
    return list(session.scalars(query))


def revoke(session: Session, *, credential_id: uuid.UUID, now: datetime) -> IntegrationCredential:
    """Revoke a credential: its token is refused from now on; again changes nothing."""
    credential = rows.get(
        session,
        IntegrationCredential,
        credential_id,
        lambda: _not_found(credential_id),
        lock=True,
    )
    if credential.revoked_at is None:
        credential.revoked_at = now
        session.flush()
    return credential


def pending_redemptions(
    session: Session, *, credential: IntegrationCredential
) -> list[RewardRedemption]:
    """The event's redemptions not applied yet, in the order users qualified."""
    return event_rewards.list_redemptions(
        session, event_id=credential.event_id, unapplied_only=True
    )


def redemptions(session: Session, *, credential: IntegrationCredential) -> list[RewardRedemption]:
    """Every redemption of the credential's event, in the order users qualified."""
    return event_rewards.list_redemptions(session, event_id=credential.event_id)


def mark_applied(
    session: Session,
    *,
    credential: IntegrationCredential,
    redemption_id: uuid.UUID,
    now: datetime,
    bracelet_id: str | None = None,
) -> RewardRedemption:
    """Confirm a redemption of the credential's event applied (again changes nothing)."""
    found = session.get(RewardRedemption, redemption_id)
    if found is None or found.event_id != credential.event_id:
        raise NotFound(f"reward redemption {redemption_id} not found")
    errors: dict[str, str] = {}
    checks.text(errors, "bracelet_id", bracelet_id, limits.BRACELET_ID)
    if errors:
        raise FieldErrors(errors)
    return event_rewards.mark_applied(
        session, redemption_id=redemption_id, now=now, django_bracelet_id=bracelet_id
    )
