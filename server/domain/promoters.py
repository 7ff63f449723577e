"""Promoters (seed 001 §2, §3.1): sign-up from /passport-promoters, then HQ approval.

A promoter starts PENDING. HQ moves it to APPROVED or REJECTED, and only from
PENDING: an APPROVED promoter cannot be rejected later, nor a REJECTED one
approved (register again instead). HQ may also suspend an APPROVED promoter
and reinstate it (`server.domain.access`), which leaves its status alone.
Asking for the status a promoter already has is a harmless no-op that
returns it, so a double-click or a retried request never fails. Only
APPROVED promoters may own events (see `events`).

A user holds at most one live (PENDING or APPROVED) promoter record, and so
does an email (any case): a second application is refused with a message, not
a second row for HQ. After a rejection they may register again. `get` raises
NotFound; `get_for_user` returns None when the user never registered.

An application and its account meet by email: `apply` (signed out) makes or
finds the account at once; an application made without one is attached when
an account registers with that email (`link_applications`), or at approval
when that account already exists.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Promoter, User
from server.db.models.enums import PromoterStatus, UserRole
from server.domain import accounts, checks
from server.errors import Conflict, InvalidInput, NotFound
from server.errors import FieldErrors as FieldErrors  # its old home; importers keep working

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_COUNTRY = re.compile(r"^[A-Z]{2,4}$")
_LIVE = (PromoterStatus.PENDING, PromoterStatus.APPROVED)
_DIFFERENT_PASSWORDS = "The two passwords differ; type the same one twice."


def clean_country_code(raw: str | None) -> str | None:
    """Trim and upper-case a 2-4 letter country code; None if blank; ValueError if malformed."""
    if raw is None or not raw.strip():
        return None
    code = raw.strip().upper()
    if not _COUNTRY.fullmatch(code):
        raise ValueError("Use the country's 2-letter code, for example TT, US or GB.")
    return code


def _event_types_text(raw: str | Sequence[str] | None) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    return ", ".join(part.strip() for part in raw if part.strip())


@dataclass(frozen=True)
class _Application:
    name: str
    email: str
    organization: str | None
    location_city: str | None
    location_country: str | None
    website_or_social: str | None
    event_types: str | None


def _clean_application(
    name: str,
    email: str,
    organization: str | None,
    location_city: str | None,
    location_country: str | None,
    website_or_social: str | None,
    event_types: str | Sequence[str] | None,
) -> tuple[_Application, dict[str, str]]:
    """The trimmed fields of an application and the problems found, per field."""
    errors: dict[str, str] = {}
    clean_name = checks.text(
        errors, "name", name, limits.PROMOTER_NAME, required="Please tell us your name."
    )
    clean_email = checks.text(
        errors,
        "email",
        email,
        limits.EMAIL,
        required="Please give an email address we can reach you at.",
    )
    if "email" not in errors and not _EMAIL.fullmatch(clean_email or ""):
        errors["email"] = "That doesn't look like an email address (like name@example.com)."
    try:
        country = clean_country_code(location_country)
    except ValueError as exc:
        errors["location_country"] = str(exc)
        country = None
    values = _Application(
        name=clean_name or "",
        email=clean_email or "",
        organization=checks.text(errors, "organization", organization, limits.ORGANIZATION),
        location_city=checks.text(errors, "location_city", location_city, limits.CITY),
        location_country=country,
        website_or_social=checks.text(
            errors, "website_or_social", website_or_social, limits.WEBSITE_OR_SOCIAL
        ),
        event_types=checks.text(
            errors, "event_types", _event_types_text(event_types), limits.EVENT_TYPES
        ),
    )
    return values, errors


def _refuse_second_application(session: Session, email: str) -> None:
    live = session.scalars(
        select(Promoter)
        .where(
            func.lower(Promoter.email) == accounts.normalize_email(email),
            Promoter.status.in_(_LIVE),
        )
        .order_by(Promoter.created_at)
    ).first()
    if live is None:
        return
    if live.status == PromoterStatus.APPROVED:
        message = "This email already belongs to an approved promoter: log in to open your portal."
    else:
        message = (
            "We already have an application from this email; HQ is reviewing it. "
            "Log in to see where it stands."
        )
    raise Conflict(message, code="application_exists")


def register(
    session: Session,
    *,
    name: str,
    email: str,
    organization: str | None = None,
    location_city: str | None = None,
    location_country: str | None = None,
    website_or_social: str | None = None,
    event_types: str | Sequence[str] | None = None,
    user_id: uuid.UUID | None = None,
) -> Promoter:
    """Store a promoter sign-up as PENDING after validating and trimming every field.

    A second live application from the same email (any case) is a Conflict
    (`application_exists`), so HQ never sees the same applicant twice.
    """
    values, errors = _clean_application(
        name,
        email,
        organization,
        location_city,
        location_country,
        website_or_social,
        event_types,
    )
    if errors:
        raise FieldErrors(errors)
    return _store(session, values, user_id)


def _store(session: Session, values: _Application, user_id: uuid.UUID | None) -> Promoter:
    _refuse_second_application(session, values.email)
    if user_id is not None:
        if session.get(User, user_id) is None:
            raise NotFound(f"There is no user {user_id} to link this promoter to.")
        live = session.scalars(
            select(Promoter).where(Promoter.user_id == user_id, Promoter.status.in_(_LIVE))
        ).first()
        if live is not None:
            raise Conflict(
                f"This account already has a promoter registration ({live.status.lower()})."
            )
    promoter = Promoter(**asdict(values), user_id=user_id, status=PromoterStatus.PENDING)
    session.add(promoter)
    session.flush()
    return promoter


def apply(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    password_confirmation: str,
    organization: str | None = None,
    location_city: str | None = None,
    location_country: str | None = None,
    website_or_social: str | None = None,
    event_types: str | Sequence[str] | None = None,
) -> tuple[Promoter, User]:
    """Apply signed out: the application and its account, checked together.

    The account is a new one with this email and password, the placeholder
    holding this email's tickets (claimed), or the existing account when the
    password is its own. Every field problem is reported at once.
    """
    values, errors = _clean_application(
        name,
        email,
        organization,
        location_city,
        location_country,
        website_or_social,
        event_types,
    )
    problem = accounts.password_problem(password)
    if problem is not None:
        errors["password"] = problem
    elif password != password_confirmation:
        errors["password_confirmation"] = _DIFFERENT_PASSWORDS
    if errors:
        raise FieldErrors(errors)
    _refuse_second_application(session, values.email)
    user = _account_for(session, values.email, values.name, password)
    return _store(session, values, user.id), user


def _account_for(session: Session, email: str, name: str, password: str) -> User:
    existing = accounts.get_by_email(session, email)
    if existing is None or existing.placeholder:
        handle = accounts.free_username(session, email.partition("@")[0])
        return accounts.register(
            session, username=handle, email=email, password=password, display_name=name
        )
    if not accounts.password_matches(existing.password_hash, password):
        raise FieldErrors(
            {
                "password": "This email already has an account: type its password, "
                "or log in first and apply from there."
            }
        )
    return existing


def link_applications(session: Session, *, user: User) -> list[Promoter]:
    """Attach the applications made with this user's email before the account existed.

    An APPROVED one makes an attendee account a promoter account at once.
    """
    if not user.email:
        return []
    rows = list(
        session.scalars(
            select(Promoter).where(
                Promoter.user_id.is_(None),
                func.lower(Promoter.email) == accounts.normalize_email(user.email),
            )
        )
    )
    for promoter in rows:
        promoter.user_id = user.id
        if promoter.status == PromoterStatus.APPROVED and user.role == UserRole.ATTENDEE:
            user.role = UserRole.PROMOTER
    session.flush()
    return rows


def get(session: Session, *, promoter_id: uuid.UUID) -> Promoter:
    """The promoter with this id; NotFound if there is none."""
    promoter = session.get(Promoter, promoter_id)
    if promoter is None:
        raise NotFound(f"There is no promoter {promoter_id}.")
    return promoter


def lock(session: Session, promoter_id: uuid.UUID) -> Promoter:
    """The promoter, locked for update (its current row); NotFound if there is none."""
    promoter = session.get(Promoter, promoter_id, with_for_update=True, populate_existing=True)
    if promoter is None:
        raise NotFound(f"There is no promoter {promoter_id}.")
    return promoter


def _decide(session: Session, promoter_id: uuid.UUID, target: PromoterStatus) -> Promoter:
    promoter = lock(session, promoter_id)
    if promoter.status == target:
        return promoter
    if promoter.status != PromoterStatus.PENDING:
        raise Conflict(
            f"Promoter {promoter.name!r} is already {promoter.status}; only a PENDING "
            f"promoter can become {target}."
        )
    promoter.status = target
    session.flush()
    return promoter


def approve(session: Session, *, promoter_id: uuid.UUID) -> Promoter:
    """PENDING -> APPROVED (a linked attendee account becomes a promoter account).

    Already APPROVED is a no-op; REJECTED raises Conflict.
    """
    promoter = _decide(session, promoter_id, PromoterStatus.APPROVED)
    if promoter.user_id is None:  # applied without an account: the one with its email, if any
        owner = accounts.get_by_email(session, promoter.email)
        promoter.user_id = owner.id if owner is not None else None
    user = session.get(User, promoter.user_id) if promoter.user_id else None
    if user is not None and user.role == UserRole.ATTENDEE:
        user.role = UserRole.PROMOTER
        session.flush()
    return promoter


def reject(session: Session, *, promoter_id: uuid.UUID) -> Promoter:
    """PENDING -> REJECTED; already REJECTED is a no-op; APPROVED raises Conflict."""
    return _decide(session, promoter_id, PromoterStatus.REJECTED)


def parse_status(value: str) -> PromoterStatus:
    """A promoter status from its name; InvalidInput naming the allowed values otherwise."""
    try:
        return PromoterStatus(value)
    except ValueError:
        allowed = ", ".join(PromoterStatus)
        raise InvalidInput(f"Unknown promoter status {value!r}; use one of {allowed}.") from None


def list_(session: Session, *, status: PromoterStatus | str | None = None) -> list[Promoter]:
    """Promoters, oldest sign-up first, optionally only those with one status."""
    query = select(Promoter).order_by(Promoter.created_at, Promoter.id)
    if status is not None:
        query = query.where(Promoter.status == parse_status(status))
    return list(session.scalars(query))


def get_for_user(session: Session, *, user_id: uuid.UUID) -> Promoter | None:
    """The user's live (PENDING/APPROVED) promoter, else their latest rejected one, else None."""
    rows = session.scalars(
        select(Promoter)
        .where(Promoter.user_id == user_id)
        .order_by(Promoter.created_at.desc(), Promoter.id)
    ).all()
    live = [row for row in rows if row.status in _LIVE]
    if live:
        return live[0]
    return rows[0] if rows else None
