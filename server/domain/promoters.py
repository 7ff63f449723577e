"""Promoters (seed 001 §2, §3.1): sign-up from /passport-promoters, then HQ approval.

A promoter starts PENDING. HQ moves it to APPROVED or REJECTED, and only from
PENDING: an APPROVED promoter cannot be rejected later, nor a REJECTED one
approved (register again instead). Asking for the status a promoter already
has is a harmless no-op that returns it, so a double-click or a retried
request never fails. Only APPROVED promoters may own events (see `events`).

A user holds at most one live (PENDING or APPROVED) promoter record; after a
rejection they may register again. `get` raises NotFound; `get_for_user`
returns None when the user never registered.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Promoter, User
from server.db.models.enums import PromoterStatus, UserRole
from server.domain import checks
from server.errors import Conflict, InvalidInput, NotFound

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_COUNTRY = re.compile(r"^[A-Z]{2,4}$")
_LIVE = (PromoterStatus.PENDING, PromoterStatus.APPROVED)


class FieldErrors(InvalidInput):
    """Input that breaks per-field rules; `fields` maps each field name to a friendly message."""

    def __init__(self, fields: Mapping[str, str], *, code: str | None = None) -> None:
        self.fields = dict(fields)
        summary = "; ".join(f"{name}: {problem}" for name, problem in self.fields.items())
        super().__init__(f"Please check these fields — {summary}", code=code)


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
    """Store a promoter sign-up as PENDING after validating and trimming every field."""
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

    clean_organization = checks.text(errors, "organization", organization, limits.ORGANIZATION)
    city = checks.text(errors, "location_city", location_city, limits.CITY)
    website = checks.text(errors, "website_or_social", website_or_social, limits.WEBSITE_OR_SOCIAL)
    types = checks.text(errors, "event_types", _event_types_text(event_types), limits.EVENT_TYPES)
    if errors:
        raise FieldErrors(errors)
    assert clean_name is not None
    assert clean_email is not None

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

    promoter = Promoter(
        name=clean_name,
        email=clean_email,
        organization=clean_organization,
        location_city=city,
        location_country=country,
        website_or_social=website,
        event_types=types,
        user_id=user_id,
        status=PromoterStatus.PENDING,
    )
    session.add(promoter)
    session.flush()
    return promoter


def get(session: Session, *, promoter_id: uuid.UUID) -> Promoter:
    """The promoter with this id; NotFound if there is none."""
    promoter = session.get(Promoter, promoter_id)
    if promoter is None:
        raise NotFound(f"There is no promoter {promoter_id}.")
    return promoter


def _lock(session: Session, promoter_id: uuid.UUID) -> Promoter:
    promoter = session.get(Promoter, promoter_id, with_for_update=True, populate_existing=True)
    if promoter is None:
        raise NotFound(f"There is no promoter {promoter_id}.")
    return promoter


def _decide(session: Session, promoter_id: uuid.UUID, target: PromoterStatus) -> Promoter:
    promoter = _lock(session, promoter_id)
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
