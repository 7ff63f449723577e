"""Branches of a business, and their managers (an account per manager, invited by email).

An invited manager gets a BRANCH_MANAGER account without a password and an
invitation link (`invitations`: an account link of purpose INVITE), which
the inviting route mails and also shows the owner once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import limits
from server.db.models import Branch, User
from server.db.models.enums import UserRole
from server.domain import accounts, businesses, invitations
from server.domain.promoters import FieldErrors, clean_country_code
from server.domain.unset import UNSET, Unset
from server.errors import Conflict, NotFound

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True)
class Invitation:
    """The invited manager's account and, when they must set a password, the link's token."""

    user: User
    token: str | None


def _check(
    name: str, city: str | None, country_code: str | None
) -> tuple[str, str | None, str | None]:
    errors: dict[str, str] = {}
    clean_name = (name or "").strip()
    problem = limits.text_problem(clean_name, limits.BRANCH_NAME)
    if problem is not None:
        errors["name"] = problem
    clean_city = (city or "").strip() or None
    if clean_city is not None and (found := limits.text_problem(clean_city, limits.CITY)):
        errors["city"] = found
    country = None
    try:
        country = clean_country_code(country_code)
    except ValueError as exc:
        errors["country_code"] = str(exc)
    if errors:
        raise FieldErrors(errors)
    return clean_name, clean_city, country


def create(
    session: Session,
    *,
    business_id: uuid.UUID,
    name: str,
    city: str | None = None,
    country_code: str | None = None,
) -> Branch:
    """A new branch of the business."""
    clean_name, clean_city, country = _check(name, city, country_code)
    branch = Branch(business_id=business_id, name=clean_name, city=clean_city, country_code=country)
    session.add(branch)
    session.flush()
    return branch


def get(session: Session, *, branch_id: uuid.UUID) -> Branch:
    """The branch with this id; NotFound if there is none."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound(f"There is no branch {branch_id}.")
    return branch


def list_(
    session: Session,
    *,
    business_id: uuid.UUID | None = None,
    manager_user_id: uuid.UUID | None = None,
) -> list[Branch]:
    """Branches by name: one business's, one manager's, or all."""
    query = select(Branch).order_by(Branch.name, Branch.id)
    if business_id is not None:
        query = query.where(Branch.business_id == business_id)
    if manager_user_id is not None:
        query = query.where(Branch.manager_user_id == manager_user_id)
    return list(session.scalars(query))


def update(
    session: Session,
    *,
    branch_id: uuid.UUID,
    name: str | Unset = UNSET,
    city: str | Unset | None = UNSET,
    country_code: str | Unset | None = UNSET,
) -> Branch:
    """Change a branch's name, city or country (each checked as on creation)."""
    branch = get(session, branch_id=branch_id)
    branch.name, branch.city, branch.country_code = _check(
        branch.name if isinstance(name, Unset) else name,
        branch.city if isinstance(city, Unset) else city,
        branch.country_code if isinstance(country_code, Unset) else country_code,
    )
    session.flush()
    return branch


def _manager_account(session: Session, email: str, display_name: str) -> User:
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None:
        if existing.role != UserRole.BRANCH_MANAGER:
            raise Conflict(
                f"{email} already has an account that is not a branch manager's; "
                "invite another address."
            )
        return existing
    return accounts.create_user(
        session,
        username=businesses.username_for(session, email),
        display_name=display_name or email.split("@", 1)[0],
        email=email,
        role=UserRole.BRANCH_MANAGER,
    )


def invite_manager(
    session: Session, *, branch_id: uuid.UUID, email: str, display_name: str = ""
) -> Invitation:
    """Make `email` the branch's manager: an account (created if new) and its set-password link.

    A manager of another business cannot be taken over: their branches must
    all belong to this branch's business. A manager who has set a password
    already needs no link.
    """
    branch = get(session, branch_id=branch_id)
    clean = (email or "").strip().lower()
    errors: dict[str, str] = {}
    if limits.text_problem(clean, limits.EMAIL) or not _EMAIL.fullmatch(clean):
        errors["email"] = "That doesn't look like an email address (like name@example.com)."
    name = (display_name or "").strip()
    if name and (problem := limits.text_problem(name, limits.DISPLAY_NAME)):
        errors["display_name"] = problem
    if errors:
        raise FieldErrors(errors)
    user = _manager_account(session, clean, name)
    others = list_(session, manager_user_id=user.id)
    if any(other.business_id != branch.business_id for other in others):
        raise Conflict(f"{clean} manages a branch of another business.")
    branch.manager_user_id = user.id
    session.flush()
    token = None if user.password_hash else invitations.issue(session, user=user)
    return Invitation(user=user, token=token)
