"""One-time set-password links for invited accounts (branch managers, HQ-made owners).

A stand-in with the same calls as `account_links` (`issue`, `redeem`), which
another part builds with mail: the lead can point `branches.invite_manager`
at that module when both are merged. A link's token is 256-bit random and
kept only as a hash in `api_tokens`, salted with "link:" so the bearer-token
lookup can never match it; the row's label carries its purpose and expiry.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import ApiToken, User, utcnow
from server.domain import accounts
from server.errors import InvalidInput

_PREFIX = "link:"


class InvalidLink(InvalidInput):
    """The link is unknown, used, expired or for another purpose."""

    code = "invalid_link"
    status = 400

    def __init__(self) -> None:
        super().__init__("This link has expired or was already used. Ask for a new one.")


def _hash(token: str) -> str:
    return hashlib.sha256((_PREFIX + token).encode()).hexdigest()


def issue(session: Session, *, user: User, purpose: str, ttl: timedelta) -> str:
    """A fresh one-time link token for `user` (shown once; only its hash is kept)."""
    token = accounts.new_token()
    expires = int((utcnow() + ttl).timestamp())
    session.add(
        ApiToken(user_id=user.id, token_hash=_hash(token), label=f"{_PREFIX}{purpose}:{expires}")
    )
    session.flush()
    return token


def _live_row(
    session: Session, token: str, purpose: str, now: datetime, *, lock: bool
) -> ApiToken | None:
    query = select(ApiToken).where(ApiToken.token_hash == _hash(token))
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None or row.revoked_at is not None:
        return None
    _prefix, found_purpose, expires = [*row.label.split(":"), "", ""][:3]
    if found_purpose != purpose or not expires.isdigit() or now.timestamp() > int(expires):
        return None
    return row


def redeem(session: Session, *, token: str, purpose: str, now: datetime | None = None) -> User:
    """The user a live link of this purpose belongs to; the link is used up. InvalidLink else."""
    moment = now or utcnow()
    row = _live_row(session, token, purpose, moment, lock=True)
    user = None if row is None else session.get(User, row.user_id)
    if row is None or user is None:
        raise InvalidLink()
    row.revoked_at = moment
    session.flush()
    return user


def peek(session: Session, *, token: str, purpose: str) -> User | None:
    """The user a live link would sign in, without using it up (the form's GET)."""
    row = _live_row(session, token, purpose, utcnow(), lock=False)
    return None if row is None else session.get(User, row.user_id)
