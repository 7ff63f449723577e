"""Passwords: the one policy every form applies, and setting a password through a mailed link.

The policy itself is `accounts.password_problem` (every form applies it). Setting a
password through a link spends the link, stores the argon2 hash and revokes
every bearer token and web session the account had, because whoever asked
for the link may be taking the account back from someone who knew the old
password.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import User, utcnow
from server.db.models.enums import LinkPurpose
from server.domain import account_links, accounts
from server.domain.promoters import FieldErrors

#: Reset links one account is sent per hour at most: a guard against filling someone's inbox.
RESETS_PER_HOUR: Final = 3


def account_inputs(user: User) -> tuple[str | None, ...]:
    """What a guesser knows of an account: its handle, email and name."""
    return (user.username, user.email, user.display_name)


def set_password_with_link(
    session: Session,
    *,
    token: str,
    purpose: LinkPurpose,
    password: str,
    now: datetime | None = None,
) -> User:
    """Spend the link, set the account's password, end its other sign-ins; returns the account.

    A link that cannot be used raises its LinkError; a password the policy refuses
    raises FieldErrors and leaves the link unspent.
    """
    at = now or utcnow()
    user = account_links.check(session, token=token, purpose=purpose, now=at)
    problem = accounts.password_problem(password, user_inputs=account_inputs(user))
    if problem is not None:
        raise FieldErrors({"password": problem})
    hashed = accounts.hash_password(password)  # slow on purpose: before any row is written
    user = account_links.redeem(session, token=token, purpose=purpose, now=at)
    user.password_hash = hashed
    accounts.revoke_user_tokens(session, user_id=user.id, now=at)
    session.flush()
    return user


def start_reset(
    session: Session, *, email: str, ttl: timedelta, now: datetime | None = None
) -> tuple[User, str] | None:
    """A reset link for the account with this email: (account, token), or None.

    None when no account has the email, and when the account was already sent
    `RESETS_PER_HOUR` links in the last hour; the page says the same either way.
    """
    at = now or utcnow()
    clean = email.strip().lower()
    if not clean:
        return None
    user = session.scalar(select(User).where(func.lower(User.email) == clean))
    if user is None:
        return None
    recent = account_links.issued_since(
        session, user_id=user.id, purpose=LinkPurpose.RESET, since=at - timedelta(hours=1)
    )
    if recent >= RESETS_PER_HOUR:
        return None
    token = account_links.issue(session, user=user, purpose=LinkPurpose.RESET, ttl=ttl, now=at)
    return user, token
