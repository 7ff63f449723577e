"""Businesses (seed 002's stamp-card sellers): apply, HQ approval, the owner's business.

A business starts PENDING, like a promoter, and HQ moves it to APPROVED or
REJECTED, only from PENDING (asking for the status it already has is a
no-op). HQ may also create one APPROVED at once. An owner account holds at
most one live (PENDING or APPROVED) business; after a rejection it may apply
again. Only an APPROVED business's owner acts as BUSINESS (see `api.auth`).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Business, User
from server.db.models.enums import BusinessStatus
from server.domain import accounts
from server.domain.promoters import FieldErrors, clean_country_code
from server.domain.unset import UNSET, Unset
from server.errors import Conflict, InvalidInput, NotFound

_LIVE = (BusinessStatus.PENDING, BusinessStatus.APPROVED)
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True)
class Details:
    """A business's name and country, checked and trimmed."""

    name: str
    country_code: str


def check_details(name: str, country_code: str | None) -> Details:
    """Trim and check a business's name and country; FieldErrors naming each problem."""
    errors: dict[str, str] = {}
    clean_name = (name or "").strip()
    problem = limits.text_problem(clean_name, limits.BUSINESS_NAME)
    if problem is not None:
        errors["name"] = problem
    country = None
    try:
        country = clean_country_code(country_code)
    except ValueError as exc:
        errors["country_code"] = str(exc)
    if country is None and "country_code" not in errors:
        errors["country_code"] = "Give the country's 2-letter code, for example TT, US or GB."
    if errors:
        raise FieldErrors(errors)
    assert country is not None
    return Details(clean_name, country)


def create(
    session: Session,
    *,
    name: str,
    country_code: str | None,
    owner_user_id: uuid.UUID,
    status: BusinessStatus = BusinessStatus.PENDING,
) -> Business:
    """A business for this owner: PENDING when it applies, APPROVED when HQ creates it."""
    details = check_details(name, country_code)
    if session.get(User, owner_user_id) is None:
        raise NotFound(f"There is no user {owner_user_id} to own this business.")
    live = session.scalars(
        select(Business).where(Business.owner_user_id == owner_user_id, Business.status.in_(_LIVE))
    ).first()
    if live is not None:
        raise Conflict(f"This account already has a business ({live.status.lower()}).")
    business = Business(
        name=details.name,
        country_code=details.country_code,
        owner_user_id=owner_user_id,
        status=status,
    )
    session.add(business)
    session.flush()
    return business


def get(session: Session, *, business_id: uuid.UUID) -> Business:
    """The business with this id; NotFound if there is none."""
    business = session.get(Business, business_id)
    if business is None:
        raise NotFound(f"There is no business {business_id}.")
    return business


def get_for_owner(session: Session, *, user_id: uuid.UUID) -> Business | None:
    """The owner's live business, else their latest rejected one, else None."""
    rows = session.scalars(
        select(Business)
        .where(Business.owner_user_id == user_id)
        .order_by(Business.created_at.desc(), Business.id)
    ).all()
    live = [row for row in rows if row.status in _LIVE]
    return live[0] if live else (rows[0] if rows else None)


def approved_for_owner(session: Session, *, user_id: uuid.UUID) -> Business | None:
    """The owner's APPROVED business, if any (what makes the owner act as BUSINESS)."""
    return session.scalar(
        select(Business).where(
            Business.owner_user_id == user_id, Business.status == BusinessStatus.APPROVED
        )
    )


def parse_status(value: str) -> BusinessStatus:
    """A business status from its name; InvalidInput naming the allowed values otherwise."""
    try:
        return BusinessStatus(value)
    except ValueError:
        allowed = ", ".join(BusinessStatus)
        raise InvalidInput(f"Unknown business status {value!r}; use one of {allowed}.") from None


def list_(session: Session, *, status: BusinessStatus | str | None = None) -> list[Business]:
    """Businesses, oldest application first, optionally only those with one status."""
    query = select(Business).order_by(Business.created_at, Business.id)
    if status is not None:
        query = query.where(Business.status == parse_status(status))
    return list(session.scalars(query))


def update(
    session: Session,
    *,
    business_id: uuid.UUID,
    name: str | Unset = UNSET,
    country_code: str | Unset = UNSET,
) -> Business:
    """Change a business's name or country (each checked as on creation)."""
    business = get(session, business_id=business_id)
    details = check_details(
        business.name if isinstance(name, Unset) else name,
        business.country_code if isinstance(country_code, Unset) else country_code,
    )
    business.name, business.country_code = details.name, details.country_code
    session.flush()
    return business


def _decide(session: Session, business_id: uuid.UUID, target: BusinessStatus) -> Business:
    business = session.get(Business, business_id, with_for_update=True, populate_existing=True)
    if business is None:
        raise NotFound(f"There is no business {business_id}.")
    if business.status == target:
        return business
    if business.status != BusinessStatus.PENDING:
        raise Conflict(
            f"Business {business.name!r} is already {business.status}; only a PENDING "
            f"business can become {target}."
        )
    business.status = target
    session.flush()
    return business


def approve(session: Session, *, business_id: uuid.UUID) -> Business:
    """PENDING -> APPROVED; already APPROVED is a no-op; REJECTED raises Conflict."""
    return _decide(session, business_id, BusinessStatus.APPROVED)


def reject(session: Session, *, business_id: uuid.UUID) -> Business:
    """PENDING -> REJECTED; already REJECTED is a no-op; APPROVED raises Conflict."""
    return _decide(session, business_id, BusinessStatus.REJECTED)


def new_owner_account(
    session: Session, *, email: str, password: str, display_name: str = ""
) -> User:
    """An account for a signed-out applicant (the password policy `/register` uses)."""
    clean = (email or "").strip().lower()
    errors: dict[str, str] = {}
    if limits.text_problem(clean, limits.EMAIL) or not _EMAIL.fullmatch(clean):
        errors["email"] = "That doesn't look like an email address (like name@example.com)."
    name = (display_name or "").strip() or clean.split("@", 1)[0]
    problem = accounts.password_problem(password, user_inputs=(clean, name))
    if problem is not None:
        errors["password"] = problem
    if problem := limits.text_problem(name, limits.DISPLAY_NAME):
        errors["display_name"] = problem
    if errors:
        raise FieldErrors(errors)
    if session.scalar(select(User.id).where(func.lower(User.email) == clean)) is not None:
        raise FieldErrors(
            {"email": "That email is already registered: log in, then apply from your account."}
        )
    return accounts.create_user(
        session,
        username=username_for(session, clean),
        display_name=name,
        email=clean,
        password=password,
    )


def username_for(session: Session, email: str) -> str:
    """A free username made from an email's local part."""
    local = re.sub(r"[^a-z0-9_]", "_", email.split("@", 1)[0].lower())[:30] or "user"
    while True:
        candidate = f"{local}_{secrets.token_hex(3)}"
        if session.scalar(select(User.id).where(User.username == candidate)) is None:
            return candidate


def invited_owner(session: Session, *, email: str) -> User:
    """An owner account HQ makes for a business; the owner sets a password through a link."""
    return accounts.create_user(
        session,
        username=username_for(session, email),
        display_name=email.split("@", 1)[0],
        email=email,
    )
