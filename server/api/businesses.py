"""Businesses (seed 002's stamp-card sellers): apply, HQ approval, the owner's details.

`POST /api/v1/businesses` is open like the promoters' sign-up: with a user's
token the business is that user's; signed out, the body's `owner` creates
the account (the password policy `/register` uses); HQ creates a business
APPROVED at once for `owner_email`; an owner without a password (a new
account) is mailed an invitation link to set one, and the link also comes
back once as `set_password_url` for when mail is not set up. A business acts
(offers, branches) once HQ approves it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Request
from pydantic import ConfigDict
from sqlalchemy import select

from core import limits
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow, public
from server.api.deps import AppSettings, DbSession, link_base
from server.api.schemas import ErrorBody, RequestModel, View
from server.db.models import Business, User
from server.db.models.enums import BusinessStatus, UserRole
from server.domain import businesses, invitations
from server.domain.promoters import FieldErrors
from server.domain.unset import UNSET
from server.errors import Forbidden
from server.mail import Mailer, deliver
from server.settings import ServerSettings

router = APIRouter(prefix="/api/v1/businesses", tags=["businesses"], route_class=PolicyRoute)
HqOnly = Annotated[Principal, allow(Role.HQ)]
Owner = Annotated[Principal, allow(Role.HQ, Role.BUSINESS)]

_APPLY: dict[str, Any] = {
    "name": "Bean There Coffee",
    "country_code": "TT",
    "owner": {
        "email": "owner@beanthere.example",
        "password": "wine-n-grind",
        "display_name": "Ana",
    },
}


class OwnerIn(RequestModel):
    """The account a signed-out applicant creates."""

    email: Annotated[str, limits.EMAIL]
    password: Annotated[str, limits.PASSWORD]
    display_name: Annotated[str, limits.DISPLAY_NAME] | None = None


class BusinessIn(RequestModel):
    """An application (or, from HQ, a business made APPROVED for `owner_email`)."""

    name: Annotated[str, limits.BUSINESS_NAME]
    country_code: Annotated[str, limits.COUNTRY_CODE]
    owner: OwnerIn | None = None
    owner_email: Annotated[str, limits.EMAIL] | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [_APPLY]})


class BusinessChange(RequestModel):
    """A business's new name or country."""

    name: Annotated[str, limits.BUSINESS_NAME] | None = None
    country_code: Annotated[str, limits.COUNTRY_CODE] | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Bean There Coffee & Tea"}]})


class BusinessView(View):
    """A business and its approval status; `set_password_url` only when HQ made an owner who
    has no password yet (the same link is mailed to them)."""

    id: uuid.UUID
    owner_user_id: uuid.UUID
    name: str
    country_code: str
    status: str
    created_at: datetime
    updated_at: datetime
    set_password_url: str | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6e7f8091-2b3c-4d4e-9f0a-b1c2d3e4f5a6",
                    "owner_user_id": "7f8091a2-3c4d-4e5f-8a1b-c2d3e4f5a6b7",
                    "name": "Bean There Coffee",
                    "country_code": "TT",
                    "status": "PENDING",
                    "created_at": "2026-02-01T10:00:00Z",
                    "updated_at": "2026-02-01T10:00:00Z",
                    "set_password_url": None,
                }
            ]
        }
    )


def _owner_for(session: DbSession, caller: Principal, body: BusinessIn) -> User:
    if caller.device is not None:
        raise Forbidden("A device cannot apply for a business.")
    if caller.user is not None:
        if body.owner is not None or body.owner_email is not None:
            raise FieldErrors({"owner": "You are signed in: the business will be yours."})
        return caller.user
    if body.owner is None:
        raise FieldErrors({"owner": "Give the owner's email and a password for the account."})
    return businesses.new_owner_account(
        session,
        email=body.owner.email,
        password=body.owner.password,
        display_name=body.owner.display_name or "",
    )


def _hq_create(
    request: Request,
    session: DbSession,
    settings: ServerSettings,
    background: BackgroundTasks,
    body: BusinessIn,
) -> BusinessView:
    if body.owner_email is None:
        raise FieldErrors({"owner_email": "Name the owner's email."})
    details = businesses.check_details(body.name, body.country_code)
    email = body.owner_email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = businesses.invited_owner(session, email=email)
    elif user.role != UserRole.ATTENDEE:
        raise FieldErrors({"owner_email": "That account is staff, a promoter or a manager."})
    business = businesses.create(
        session,
        name=details.name,
        country_code=details.country_code,
        owner_user_id=user.id,
        status=BusinessStatus.APPROVED,
    )
    view = BusinessView.model_validate(business)
    if user.password_hash is None:  # new, or invited before and never set one
        token = invitations.issue(session, user=user)
        view.set_password_url = invitations.url(link_base(request, settings), token)
        mail = invitations.owner_mail(user=user, link=view.set_password_url, business=business)
        background.add_task(deliver, Mailer(settings), mail)
    return view


@router.post(
    "",
    status_code=201,
    responses={422: {"model": ErrorBody, "description": "`fields` maps each field to a problem"}},
)
def apply(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    caller: Annotated[Principal, public()],
    body: Annotated[BusinessIn, Body(openapi_examples={"signed out": {"value": _APPLY}})],
) -> BusinessView:
    """Apply for a business (PENDING until HQ approves); HQ creates one APPROVED."""
    if caller.role == Role.HQ:
        return _hq_create(request, session, settings, background, body)
    owner = _owner_for(session, caller, body)
    business = businesses.create(
        session, name=body.name, country_code=body.country_code, owner_user_id=owner.id
    )
    return BusinessView.model_validate(business)


@router.get("")
def list_businesses(
    session: DbSession, _caller: HqOnly, status: BusinessStatus | None = None
) -> list[BusinessView]:
    """HQ: every business, oldest application first, optionally one status."""
    return [BusinessView.model_validate(row) for row in businesses.list_(session, status=status)]


@router.get("/{business_id}")
def get_business(business_id: uuid.UUID, session: DbSession, caller: Owner) -> BusinessView:
    """A business (HQ, or its owner)."""
    return BusinessView.model_validate(tenancy.business(session, caller, business_id))


@router.put("/{business_id}")
def update_business(
    business_id: uuid.UUID, session: DbSession, caller: Owner, body: BusinessChange
) -> BusinessView:
    """Change a business's name or country (HQ, or its owner)."""
    found: Business = tenancy.business(session, caller, business_id)
    updated = businesses.update(
        session,
        business_id=found.id,
        name=body.name if body.name is not None else UNSET,
        country_code=body.country_code if body.country_code is not None else UNSET,
    )
    return BusinessView.model_validate(updated)


@router.post("/{business_id}/approve")
def approve(business_id: uuid.UUID, session: DbSession, _caller: HqOnly) -> BusinessView:
    """HQ: PENDING → APPROVED (again: no change; a REJECTED business: 409)."""
    return BusinessView.model_validate(businesses.approve(session, business_id=business_id))


@router.post("/{business_id}/reject")
def reject(business_id: uuid.UUID, session: DbSession, _caller: HqOnly) -> BusinessView:
    """HQ: PENDING → REJECTED (again: no change; an APPROVED business: 409)."""
    return BusinessView.model_validate(businesses.reject(session, business_id=business_id))
