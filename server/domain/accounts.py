"""Accounts, passwords and user credentials.

Credentials are 256-bit random tokens, shown once and stored as SHA-256, of
two kinds that never stand in for each other: API bearer tokens (`API`) and
web session cookies (`WEB`). `check_token` finds a token of one kind and says
whether it is live, expired (older than the caller's `max_age`) or revoked;
a token of the other kind is simply unknown to it.

Usernames (the handle people type) and emails are unique whatever their
case; emails are stored in lower case. Every password that is set goes
through `password_problem`, the one password policy: sign-up, promoter and
business applications, claims, invitations, resets and `create-admin`.

**Placeholders.** A ticket issued to an email nobody has registered goes to a
passwordless *placeholder* account with that email (`placeholder_for_email`),
so a ticket always has a user and the door, sync and stamps need nothing new.
Registering with that email (`register`) *claims* the placeholder: it gets
the chosen handle, name and password and stops being a placeholder for good.
Only a placeholder can be claimed: an account that ever had a password (or
was made by HQ, like a passwordless admin) is never handed to whoever
registers with its email.
"""

from __future__ import annotations

import enum
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import limits
from server.db.models import ApiToken, Business, PassportProfile, User, utcnow
from server.db.models.enums import BusinessStatus, TokenKind, UserRole
from server.db.token_hash import stored_form
from server.domain import checks, passport
from server.errors import Conflict, FieldErrors

__all__ = ["TokenKind"]

#: argon2id at OWASP's recommended minimum (Password Storage Cheat Sheet: 19 MiB, two
#: passes, one lane). argon2-cffi's default (64 MiB, three passes, four lanes) took about
#: 290 ms a hash on this 2-core host under load against 40 ms, and 64 MiB per concurrent
#: login: a fête's crowd signing in at once queued behind it. Older hashes are upgraded
#: at the owner's next login (`verify_password`).
ARGON2_TIME_COST: Final = 2
ARGON2_MEMORY_KIB: Final = 19 * 1024
ARGON2_LANES: Final = 1
_hasher = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_LANES
)
_HANDLE: Final = re.compile(r"[A-Za-z0-9_]{3,30}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
#: What a placeholder is called until its owner registers (never a promoter's typing).
PLACEHOLDER_NAME: Final = "Ticket holder"
PLACEHOLDER_PREFIX: Final = "holder_"
TAKEN: Final = "That handle or email is already registered; try logging in."

#: zxcvbn's score below which a password is refused: 0 and 1 mean "guessable within
#: about a million tries" (a listed common password, a word, a name, a date, the handle).
MIN_PASSWORD_SCORE = 2


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return stored_form(token)


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


def verify_password(user: User, password: str) -> bool:
    """True when the password is the user's; a hash made with other argon2 parameters is
    then replaced by one made with ours (the caller's unit of work stores it)."""
    if not password_matches(user.password_hash, password):
        return False
    assert user.password_hash is not None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


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


def normalize_email(raw: str) -> str:
    """An email as stored and compared: trimmed, lower case."""
    return raw.strip().lower()


def email_problem(email: str) -> str | None:
    """Why a typed email is refused, in words; None when it looks like an address."""
    clean = email.strip()
    if not clean:
        return "Please give an email address."
    if not _EMAIL.fullmatch(clean):
        return "That doesn't look like an email address (like name@example.com)."
    return limits.text_problem(clean, limits.EMAIL)


def handle_problem(username: str) -> str | None:
    """Why a chosen handle is refused, in words; None when it is acceptable."""
    if not _HANDLE.fullmatch(username):
        return "Pick a handle of 3 to 30 letters, digits or underscores."
    return None


def get_by_email(session: Session, email: str) -> User | None:
    """The account with this email (any case), or None.

    No account holds an email its limit refuses, so such a value (too long, a NUL, which
    PostgreSQL would refuse outright) finds none without asking the database.
    """
    clean = normalize_email(email)
    if limits.text_problem(clean, limits.EMAIL) is not None:
        return None
    return session.scalar(select(User).where(func.lower(User.email) == clean))


def free_username(session: Session, wanted: str) -> str:
    """`wanted` made a valid handle (letters, digits, underscores) that nobody uses yet."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", wanted)[:24].strip("_") or "fan"
    base = base if len(base) >= 3 else f"{base}_fan"
    candidate = base
    while session.scalar(select(User.id).where(func.lower(User.username) == candidate.lower())):
        candidate = f"{base}_{secrets.token_hex(2)}"
    return candidate


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
    """Create a user; usernames and emails are unique whatever their case (Conflict, even when
    two race)."""
    errors: dict[str, str] = {}
    checks.text(errors, "username", username, limits.USERNAME, required="Pick a username.")
    checks.text(errors, "display_name", display_name, limits.DISPLAY_NAME, required="Give a name.")
    checks.text(errors, "email", email, limits.EMAIL)
    checks.text(errors, "home_country", home_country, limits.COUNTRY_CODE)
    if errors:
        raise FieldErrors(errors)
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
    try:
        with session.begin_nested():  # two sign-ups racing for one email: one wins, one 409
            session.add(user)
    except IntegrityError:
        raise Conflict("that username or email is already registered") from None
    return user


def _registration_errors(username: str, email: str, password: str) -> dict[str, str]:
    problems = {
        "username": handle_problem(username),
        "email": email_problem(email),
        "password": password_problem(password, user_inputs=(username, email)),
    }
    return {name: problem for name, problem in problems.items() if problem is not None}


def register(
    session: Session, *, username: str, email: str, password: str, display_name: str | None = None
) -> User:
    """Sign up an attendee: a new account, or the placeholder holding this email's tickets.

    FieldErrors for a bad handle, email or password; Conflict (`TAKEN`) when
    the handle or email belongs to anyone else.
    """
    errors = _registration_errors(username, email, password)
    if errors:
        raise FieldErrors(errors)
    clean = normalize_email(email)
    existing = get_by_email(session, clean)
    if existing is not None and not existing.placeholder:
        raise Conflict(TAKEN, code="account_exists")
    handle_owner = session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower())
    )
    if handle_owner is not None and (existing is None or handle_owner != existing.id):
        raise Conflict(TAKEN, code="account_exists")
    if existing is None:
        return create_user(
            session,
            username=username,
            display_name=display_name or username,
            email=clean,
            password=password,
        )
    return _claim(
        session, existing.id, username=username, display_name=display_name, password=password
    )


def _claim(
    session: Session,
    user_id: uuid.UUID,
    *,
    username: str,
    display_name: str | None,
    password: str,
) -> User:
    user = session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None or not user.placeholder:  # claimed a moment ago by someone else
        raise Conflict(TAKEN, code="account_exists")
    old_username = user.username
    user.username = username
    user.display_name = display_name or username
    user.password_hash = hash_password(password)
    user.placeholder = False
    profile = session.scalar(select(PassportProfile).where(PassportProfile.user_id == user.id))
    if profile is not None and profile.handle.startswith(old_username):
        # The passport was made at the door under the placeholder's made-up name.
        profile.handle = passport.free_handle(session, username)
    session.flush()
    return user


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


def placeholder_for_email(session: Session, *, email: str) -> User:
    """The account tickets for this email go to: its owner's, else a placeholder (made once).

    Says nothing about which it was: callers must not either (see the module notes).
    """
    problem = email_problem(email)
    if problem is not None:
        raise FieldErrors({"email": problem})
    clean = normalize_email(email)
    existing = get_by_email(session, clean)
    if existing is not None:
        return existing
    user = User(
        username=f"{PLACEHOLDER_PREFIX}{secrets.token_hex(8)}",
        display_name=PLACEHOLDER_NAME,
        email=clean,
        role=UserRole.ATTENDEE,
        placeholder=True,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # the same email issued twice at once: use the one that won
        winner = get_by_email(session, clean)
        if winner is None:
            raise
        return winner
    return user


def set_admin(session: Session, *, email: str, password: str) -> tuple[User, bool]:
    """`create-admin`: an HQ account with this email and password; True when it is new.

    Run again for the same email, it sets the new password. An email that
    belongs to a non-HQ account is a Conflict (HQ gets its own account).
    """
    errors = {
        name: problem
        for name, problem in (
            ("email", email_problem(email)),
            ("password", password_problem(password, user_inputs=(email,))),
        )
        if problem is not None
    }
    if errors:
        raise FieldErrors(errors)
    clean = normalize_email(email)
    existing = get_by_email(session, clean)
    if existing is None:
        user = create_user(
            session,
            username=free_username(session, clean.partition("@")[0]),
            display_name="HQ",
            email=clean,
            password=password,
            role=UserRole.HQ,
        )
        return user, True
    if existing.role != UserRole.HQ:
        raise Conflict(
            f"{clean} belongs to a {existing.role.lower().replace('_', ' ')} account; "
            "give HQ an email of its own.",
            code="not_an_admin",
        )
    existing.password_hash = hash_password(password)
    existing.placeholder = False
    session.flush()
    return existing, False


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
    """The outcome of `check_token`: the state, the user (when live) and when it expired,
    and the user's APPROVED business (read in the same query: it decides who they act as)."""

    state: TokenState
    user: User | None = None
    expired_at: datetime | None = None
    approved_business_id: uuid.UUID | None = None


#: A token by its hash and kind, with its user and the user's approved business. Built once:
#: building and keying the statement cost more Python than running it, on every request.
_TOKEN_CHECK: Final = (
    select(
        ApiToken,
        User,
        select(Business.id)
        .where(Business.owner_user_id == User.id, Business.status == BusinessStatus.APPROVED)
        .limit(1)
        .scalar_subquery(),
    )
    .outerjoin(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.kind == bindparam("kind"))
)


def check_token(
    session: Session, token: str, *, kind: TokenKind, max_age: timedelta, now: datetime
) -> TokenCheck:
    """Whether a token of `kind` is live; a token of the other kind is UNKNOWN here.

    The token, its user and the user's approved business come in one query
    (`_TOKEN_CHECK`): every signed-in page and API call pays this round trip."""
    found = session.execute(_TOKEN_CHECK, {"token_hash": hash_token(token), "kind": kind}).first()
    if found is None:
        return TokenCheck(TokenState.UNKNOWN)
    row, user, business_id = found
    if row.revoked_at is not None:
        return TokenCheck(TokenState.REVOKED)
    expires_at = row.created_at + max_age
    if expires_at <= now:
        return TokenCheck(TokenState.EXPIRED, expired_at=expires_at)
    if user is None:
        return TokenCheck(TokenState.UNKNOWN)
    return TokenCheck(TokenState.LIVE, user, approved_business_id=business_id)


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
