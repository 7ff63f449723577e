"""Accounts, passwords and user credentials.

Credentials are 256-bit random tokens, shown once and stored as SHA-256, of
two kinds that never stand in for each other: API bearer tokens (`API`) and
web session cookies (`WEB`). `check_token` finds a token of one kind and says
whether it is live, expired (older than the caller's `max_age`) or revoked;
a token of the other kind is simply unknown to it.

Usernames (the handle people type) and emails are unique whatever their
case; emails are stored in lower case. Every password that is set goes
through `password_problem`, the one password policy.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from core import limits
from server.db.models import ApiToken, PassportProfile, User, utcnow
from server.db.models.enums import TokenKind, UserRole
from server.domain.promoters import FieldErrors
from server.errors import Conflict

__all__ = ["TokenKind"]

_hasher = PasswordHasher()

#: zxcvbn's score below which a password is refused: 0 and 1 mean "guessable within
#: about a million tries" (a listed common password, a word, a name, a date, the handle).
MIN_PASSWORD_SCORE = 2


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh bearer token (256 bits of randomness)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when the password fits the stored hash."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------------------- passwords


@cache
def _zxcvbn() -> Any:
    from zxcvbn import zxcvbn  # its dictionaries take a moment to load: only when needed

    return zxcvbn


def password_problem(password: str, *, user_inputs: Iterable[str | None] = ()) -> str | None:
    """What is wrong with a new password, in words for its owner, or None when it will do.

    The one password policy: every place that sets a password calls it. A
    password needs `limits.PASSWORD`'s length and must not be easy to guess:
    zxcvbn's estimate, which matches it against its lists of the 30,000 most
    common passwords, English words, names and surnames (with l33t and
    keyboard variants), dates and sequences, and `user_inputs` (the handle,
    email, name), must reach `MIN_PASSWORD_SCORE`.
    """
    problem = limits.text_problem(password, limits.PASSWORD)  # length, control characters
    if problem is not None:
        return problem
    inputs = [value for value in user_inputs if value]
    inputs += [part for value in inputs if "@" in value for part in value.split("@")]
    # zxcvbn's cost grows with length; a long password's first 100 characters decide.
    verdict = _zxcvbn()(password[:100], user_inputs=inputs)
    if verdict["score"] >= MIN_PASSWORD_SCORE:
        return None
    return (
        "That password is too common or too easy to guess (a listed password, a word, a name, "
        "a date or your handle). Try a few unrelated words together."
    )


def check_password(password: str, *, user_inputs: Iterable[str | None] = ()) -> None:
    """Raise FieldErrors({"password": ...}) when `password_problem` finds one."""
    problem = password_problem(password, user_inputs=user_inputs)
    if problem is not None:
        raise FieldErrors({"password": problem})


def set_password(session: Session, *, user: User, password: str) -> None:
    """Give a user a new password (checked by the policy; FieldErrors when refused)."""
    check_password(password, user_inputs=(user.username, user.email, user.display_name))
    user.password_hash = hash_password(password)
    session.flush()


# ----------------------------------------------------------------------------- accounts


def normalize_email(email: str) -> str:
    """An email as stored and compared: trimmed, lower case."""
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    email: str | None = None,
    password: str | None = None,
    role: UserRole = UserRole.ATTENDEE,
    home_country: str | None = None,
) -> User:
    """Create a user; usernames and emails are unique whatever their case (Conflict)."""
    clean_email = normalize_email(email) if email else None
    if password is not None:
        check_password(password, user_inputs=(username, clean_email, display_name))
    clash = [func.lower(User.username) == username.lower()]
    if clean_email:
        clash.append(func.lower(User.email) == clean_email)
    if session.scalar(select(User.id).where(or_(*clash))) is not None:
        raise Conflict("that username or email is already registered")
    user = User(
        username=username,
        display_name=display_name,
        email=clean_email,
        password_hash=hash_password(password) if password else None,
        role=role,
        home_country=home_country,
    )
    session.add(user)
    session.flush()
    return user


def get_by_email(session: Session, email: str) -> User | None:
    """The user with this email, whatever its case."""
    return session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def find_user(session: Session, who: str) -> User | None:
    """The user an email, username or passport handle names (any case), or None."""
    text = who.strip().lower().removeprefix("@")
    if not text:
        return None
    if "@" in text:
        return get_by_email(session, text)
    user = session.scalar(select(User).where(func.lower(User.username) == text))
    if user is not None:
        return user
    return session.scalar(
        select(User)
        .join(PassportProfile, PassportProfile.user_id == User.id)
        .where(func.lower(PassportProfile.handle) == text)
    )


# ------------------------------------------------------------------------------ tokens


def issue_api_token(
    session: Session, *, user_id: uuid.UUID, label: str = "", kind: TokenKind = TokenKind.API
) -> str:
    """Create a credential of `kind` for a user and return it; only its hash is kept."""
    token = new_token()
    session.add(ApiToken(user_id=user_id, token_hash=hash_token(token), kind=kind, label=label))
    session.flush()
    return token


class TokenState(enum.StrEnum):
    """What a presented token turned out to be."""

    LIVE = "live"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of `check_token`: the state, the user (when live) and when it expired."""

    state: TokenState
    user: User | None = None
    expired_at: datetime | None = None


def check_token(
    session: Session, token: str, *, kind: TokenKind, max_age: timedelta, now: datetime
) -> TokenCheck:
    """Whether a token of `kind` is live; a token of the other kind is UNKNOWN here."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.kind == kind)
    )
    if row is None:
        return TokenCheck(TokenState.UNKNOWN)
    if row.revoked_at is not None:
        return TokenCheck(TokenState.REVOKED)
    expires_at = row.created_at + max_age
    if expires_at <= now:
        return TokenCheck(TokenState.EXPIRED, expired_at=expires_at)
    user = session.get(User, row.user_id)
    return TokenCheck(TokenState.LIVE, user) if user else TokenCheck(TokenState.UNKNOWN)


def revoke_api_token(session: Session, *, token: str) -> bool:
    """Revoke a token (of either kind); True when it was live."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.flush()
    return True


@dataclass(frozen=True)
class RevokedTokens:
    """How many of a user's credentials one revocation ended, per kind."""

    api_tokens: int = 0
    web_sessions: int = 0

    @property
    def total(self) -> int:
        """Both kinds together."""
        return self.api_tokens + self.web_sessions

    def __add__(self, other: RevokedTokens) -> RevokedTokens:
        return RevokedTokens(
            self.api_tokens + other.api_tokens, self.web_sessions + other.web_sessions
        )


def live_token_counts(session: Session, *, user_id: uuid.UUID) -> RevokedTokens:
    """A user's unrevoked credentials per kind (expired ones included: they are harmless)."""
    rows = session.execute(
        select(ApiToken.kind, func.count())
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.kind)
    ).all()
    counts = {kind: int(count) for kind, count in rows}
    return RevokedTokens(counts.get(TokenKind.API, 0), counts.get(TokenKind.WEB, 0))


def revoke_user_tokens(session: Session, *, user_id: uuid.UUID, now: datetime) -> RevokedTokens:
    """Sign a user out everywhere: revoke every API token and web session they hold."""
    kinds = session.scalars(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ApiToken.kind)
        .execution_options(synchronize_session=False)
    ).all()
    return RevokedTokens(kinds.count(TokenKind.API), kinds.count(TokenKind.WEB))
