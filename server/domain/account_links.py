"""Single-use account links: a token mailed to a person that lets them do one thing, once.

`issue` keeps only the token's SHA-256 and hands the token back for the mail.
`redeem` spends it with one conditional UPDATE (unused, unexpired, this
purpose), so two clicks racing on the same link spend it once; spending a
link also retires the account's other open links of that purpose, so an
older mail cannot be used after the password changed. `check` reads a link
without spending it (to show the form the link opens).

Purposes (`LinkPurpose`): "reset" after "Forgot password?", "invite" for an
account someone else made. A link never works for another purpose.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.db.models import AccountLink, User, utcnow
from server.db.models.enums import LinkPurpose
from server.domain import accounts
from server.errors import SocaError

#: How long a reset link works unless the settings say otherwise.
DEFAULT_TTL: Final = timedelta(hours=1)


class LinkError(SocaError):
    """A link that cannot be used; the subclass says why."""

    code = "link_invalid"
    status = 410


class LinkUnknown(LinkError):
    """No such link (mistyped, cut short, or meant for something else)."""

    code = "link_unknown"
    status = 404

    def __init__(self) -> None:
        super().__init__("This link is not valid. Check that you copied all of it.")


class LinkExpired(LinkError):
    """The link was not used in time."""

    code = "link_expired"

    def __init__(self) -> None:
        super().__init__("This link has expired.")


class LinkUsed(LinkError):
    """The link was used already (or a newer one of the same account was)."""

    code = "link_used"

    def __init__(self) -> None:
        super().__init__("This link has already been used.")


def issue(
    session: Session,
    *,
    user: User,
    purpose: LinkPurpose,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    """A new link for `user` and `purpose`, valid for `ttl`: returns the token (kept hashed)."""
    if ttl <= timedelta(0):
        raise ValueError("a link needs a positive lifetime")
    issued_at = now or utcnow()
    token = accounts.new_token()
    session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=accounts.hash_token(token),
            created_at=issued_at,
            expires_at=issued_at + ttl,
        )
    )
    session.flush()
    return token


def issued_since(
    session: Session, *, user_id: uuid.UUID, purpose: LinkPurpose, since: datetime
) -> int:
    """How many links of this purpose the account was sent after `since` (for throttling)."""
    count = session.scalar(
        select(func.count())
        .select_from(AccountLink)
        .where(
            AccountLink.user_id == user_id,
            AccountLink.purpose == purpose,
            AccountLink.created_at > since,
        )
    )
    return int(count or 0)


def _find(session: Session, token: str, purpose: LinkPurpose) -> AccountLink:
    link = session.scalar(
        select(AccountLink).where(AccountLink.token_hash == accounts.hash_token(token))
    )
    if link is None or link.purpose != purpose:
        raise LinkUnknown()
    return link


def _refusal(link: AccountLink, now: datetime) -> LinkError | None:
    if link.used_at is not None:
        return LinkUsed()
    if link.expires_at <= now:
        return LinkExpired()
    return None


def check(
    session: Session, *, token: str, purpose: LinkPurpose, now: datetime | None = None
) -> User:
    """The account a live link belongs to, without spending it; a LinkError otherwise."""
    link = _find(session, token, purpose)
    refusal = _refusal(link, now or utcnow())
    if refusal is not None:
        raise refusal
    user = session.get(User, link.user_id)
    assert user is not None  # a foreign key
    return user


def redeem(
    session: Session, *, token: str, purpose: LinkPurpose, now: datetime | None = None
) -> User:
    """Spend a live link and return its account; a LinkError when it is unknown, expired or used."""
    at = now or utcnow()
    token_hash = accounts.hash_token(token)
    spent = session.execute(
        update(AccountLink)
        .where(
            AccountLink.token_hash == token_hash,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > at,
        )
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        link = _find(session, token, purpose)
        session.refresh(link)
        raise _refusal(link, at) or LinkUsed()
    link = _find(session, token, purpose)
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == link.user_id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    session.refresh(link)
    user = session.get(User, link.user_id)
    assert user is not None  # a foreign key
    return user
