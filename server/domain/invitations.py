"""Invitations: an account someone else made (a branch manager, an owner HQ made) gets a
mailed link, `/welcome/{token}`, to set its first password.

The link is an account link (`account_links`, purpose INVITE): hashed, single-use,
good for `INVITE_TTL`, which is longer than a reset link's hour because the
invited person did not ask for it and may read the mail days later. Setting
the password goes through `passwords.set_password_with_link`, the one policy
and path the reset link uses. The mail is composed here; the route that
invites sends it after its response (`server.mail.deliver`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from server.db.models import Branch, Business, User
from server.db.models.enums import LinkPurpose
from server.domain import account_links, passwords
from server.mail import Mail

#: How long an invitation link works (a reset link: SOCA_RESET_LINK_MINUTES, one hour).
INVITE_TTL: Final = timedelta(days=7)
#: Where an invitation link points, under the site's address.
WELCOME_PATH: Final = "/welcome/"


def issue(session: Session, *, user: User, now: datetime | None = None) -> str:
    """A new invitation link token for `user` (only its hash is kept)."""
    return account_links.issue(
        session, user=user, purpose=LinkPurpose.INVITE, ttl=INVITE_TTL, now=now
    )


def check(session: Session, *, token: str, now: datetime | None = None) -> User:
    """The invited account a live link belongs to, without spending it; a LinkError otherwise."""
    return account_links.check(session, token=token, purpose=LinkPurpose.INVITE, now=now)


def accept(session: Session, *, token: str, password: str, now: datetime | None = None) -> User:
    """Set the invited account's password through its link (spent); LinkError or FieldErrors."""
    return passwords.set_password_with_link(
        session, token=token, purpose=LinkPurpose.INVITE, password=password, now=now
    )


def url(base: str, token: str) -> str:
    """The link an invited person opens, under the site's address `base`."""
    return f"{base.rstrip('/')}{WELCOME_PATH}{token}"


def _mail(user: User, link: str, why: str) -> Mail:
    assert user.email is not None  # invitations go to an email
    days = INVITE_TTL.days
    text = (
        f"Hello {user.display_name},\n\n"
        f"{why}\n"
        f"Open this link to set your password. It works once, within {days} days:\n\n"
        f"{link}\n\n"
        "Then log in with your email and that password.\n"
        "If you weren't expecting this, ignore this mail: no one can use the account "
        "without the link.\n"
    )
    return Mail(to=user.email, subject="You're invited to Soca Passport", text=text)


def manager_mail(session: Session, *, user: User, link: str, branch_id: uuid.UUID) -> Mail:
    """The mail inviting a branch's new manager."""
    branch = session.get(Branch, branch_id)
    assert branch is not None
    business = session.get(Business, branch.business_id) if branch.business_id else None
    owner = business.name if business is not None else "A business"
    why = f"{owner} made you the manager of its {branch.name} branch on Soca Passport."
    return _mail(user, link, why)


def owner_mail(*, user: User, link: str, business: Business) -> Mail:
    """The mail to the owner of a business HQ created."""
    why = f"Soca Passport made an account for you as the owner of {business.name}."
    return _mail(user, link, why)
