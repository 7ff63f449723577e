"""Where an account lands when it signs in without a `next`: the one map for login, a password
reset and anything else that signs someone in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.db.models import User
from server.db.models.enums import UserRole
from server.domain import businesses, promoters


def home_path(session: Session, user: User) -> str:
    """HQ to /hq, promoters and applicants to /promoter, business people to /business, the
    rest to their passport."""
    if user.role == UserRole.HQ:
        return "/hq"
    if promoters.get_for_user(session, user_id=user.id) is not None:
        return "/promoter"
    if user.role == UserRole.BRANCH_MANAGER:
        return "/business"
    if businesses.get_for_owner(session, user_id=user.id) is not None:
        return "/business"
    return "/passport"
