"""Accounts and bearer tokens: tokens are 256-bit random, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import limits
from server.db.models import ApiToken, User, utcnow
from server.db.models.enums import UserRole
from server.domain import checks
from server.domain.promoters import FieldErrors
from server.errors import Conflict

_hasher = PasswordHasher()
_TAKEN = "that username or email is already registered"


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
    """Create a user; usernames and emails are unique (Conflict, even when two race)."""
    errors: dict[str, str] = {}
    checks.text(errors, "username", username, limits.USERNAME, required="Pick a username.")
    checks.text(errors, "display_name", display_name, limits.DISPLAY_NAME, required="Give a name.")
    checks.text(errors, "email", email, limits.EMAIL)
    checks.text(errors, "home_country", home_country, limits.COUNTRY_CODE)
    if password is not None and len(password) > limits.PASSWORD.max_length:
        errors["password"] = f"Use at most {limits.PASSWORD.max_length} characters."
    if errors:
        raise FieldErrors(errors)
    taken = select(User.id).where(
        (User.username == username) | ((User.email == email) if email else False)
    )
    if session.scalar(taken) is not None:
        raise Conflict(_TAKEN)
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        password_hash=hash_password(password) if password else None,
        role=role,
        home_country=home_country,
    )
    try:
        # A concurrent registration can take the name between the check and the insert:
        # the unique index refuses it, and the savepoint keeps the caller's transaction.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict(_TAKEN) from None
    return user


def issue_api_token(session: Session, *, user_id: uuid.UUID, label: str = "") -> str:
    """Create a bearer token for a user and return it; only its hash is kept."""
    token = new_token()
    session.add(ApiToken(user_id=user_id, token_hash=hash_token(token), label=label))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The user a live token belongs to, or None."""
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    return session.get(User, row.user_id) if row else None


def revoke_api_token(session: Session, *, token: str) -> bool:
    """Revoke a token; True when it was live."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.flush()
    return True
