"""A business's branches and their managers: `GET/POST /api/v1/branches`,
`GET/PUT /api/v1/branches/{branch_id}`, `POST /api/v1/branches/{branch_id}/manager`.

A business writes its own branches; HQ any (naming `business_id` on create);
a manager reads the branches it manages. Inviting a manager creates their
account (or reuses a manager of the same business) and mails them an
invitation link to set their password (after the response; with no SMTP host
configured the mail goes to the server log). The same link comes back once as
`set_password_url`, so the owner can pass it on when mail is not set up (null
when the manager already has a password: nothing is sent).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import ConfigDict

from core import limits
from server.api import tenancy
from server.api.auth import PolicyRoute, Principal, Role, allow
from server.api.deps import AppSettings, DbSession, link_base
from server.api.schemas import RequestModel, View
from server.domain import branches, invitations
from server.domain.promoters import FieldErrors
from server.domain.unset import UNSET
from server.mail import Mailer, deliver

router = APIRouter(prefix="/api/v1/branches", tags=["businesses"], route_class=PolicyRoute)
Reader = Annotated[Principal, allow(Role.HQ, Role.BUSINESS, Role.BRANCH_MANAGER)]
Writer = Annotated[Principal, allow(Role.HQ, Role.BUSINESS)]


class BranchIn(RequestModel):
    """A new branch; `business_id` only from HQ (a business adds to its own)."""

    name: Annotated[str, limits.BRANCH_NAME]
    city: Annotated[str, limits.CITY] | None = None
    country_code: Annotated[str, limits.COUNTRY_CODE] | None = None
    business_id: uuid.UUID | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Bean There, Ariapita Ave", "city": "Port of Spain", "country_code": "TT"}
            ]
        }
    )


class BranchChange(RequestModel):
    """A branch's new name, city or country."""

    name: Annotated[str, limits.BRANCH_NAME] | None = None
    city: Annotated[str, limits.CITY] | None = None
    country_code: Annotated[str, limits.COUNTRY_CODE] | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"city": "San Fernando"}]})


class BranchView(View):
    """A branch, its business and its manager."""

    id: uuid.UUID
    business_id: uuid.UUID | None
    name: str
    city: str | None
    country_code: str | None
    manager_user_id: uuid.UUID | None
    created_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                    "business_id": "6e7f8091-2b3c-4d4e-9f0a-b1c2d3e4f5a6",
                    "name": "Bean There, Ariapita Ave",
                    "city": "Port of Spain",
                    "country_code": "TT",
                    "manager_user_id": None,
                    "created_at": "2026-02-01T10:00:00Z",
                }
            ]
        }
    )


class ManagerInvite(RequestModel):
    """Who manages the branch."""

    email: Annotated[str, limits.EMAIL]
    display_name: Annotated[str, limits.DISPLAY_NAME] | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "maria@beanthere.example", "display_name": "Maria"}]
        }
    )


class ManagerInvited(View):
    """The manager's account; the mailed link they set their password with, returned once for
    when mail is not set up (null if they have a password)."""

    user_id: uuid.UUID
    email: str
    set_password_url: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "8091a2b3-4d5e-4f6a-9b2c-d3e4f5a6b7c8",
                    "email": "maria@beanthere.example",
                    "set_password_url": "https://soca.example/welcome/3q2-...43 characters",
                }
            ]
        }
    )


@router.get("")
def list_branches(session: DbSession, caller: Reader) -> list[BranchView]:
    """The branches the caller may see (HQ: all)."""
    visible = tenancy.visible_branches(session, caller)
    rows = branches.list_(session) if visible is None else visible
    return [BranchView.model_validate(row) for row in rows]


@router.post("", status_code=201)
def create_branch(session: DbSession, caller: Writer, body: BranchIn) -> BranchView:
    """A new branch of the caller's business (HQ: of `business_id`)."""
    if caller.role == Role.HQ:
        if body.business_id is None:
            raise FieldErrors({"business_id": "Name the business this branch belongs to."})
        business_id = tenancy.business(session, caller, body.business_id).id
    else:
        if body.business_id is not None and body.business_id != caller.business_id:
            raise FieldErrors({"business_id": "You can only add branches to your own business."})
        assert caller.business_id is not None
        business_id = caller.business_id
    branch = branches.create(
        session,
        business_id=business_id,
        name=body.name,
        city=body.city,
        country_code=body.country_code,
    )
    return BranchView.model_validate(branch)


@router.get("/{branch_id}")
def get_branch(branch_id: uuid.UUID, session: DbSession, caller: Reader) -> BranchView:
    """One branch (404 for another business's)."""
    return BranchView.model_validate(tenancy.branch(session, caller, branch_id))


@router.put("/{branch_id}")
def update_branch(
    branch_id: uuid.UUID, session: DbSession, caller: Writer, body: BranchChange
) -> BranchView:
    """Change a branch's name, city or country."""
    branch = tenancy.branch(session, caller, branch_id)
    sent = body.model_fields_set
    updated = branches.update(
        session,
        branch_id=branch.id,
        name=body.name if body.name is not None else UNSET,
        city=body.city if "city" in sent else UNSET,
        country_code=body.country_code if "country_code" in sent else UNSET,
    )
    return BranchView.model_validate(updated)


@router.post("/{branch_id}/manager", status_code=201)
def invite_manager(
    request: Request,
    branch_id: uuid.UUID,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    caller: Writer,
    body: ManagerInvite,
) -> ManagerInvited:
    """Make `email` this branch's manager (an account per manager) and mail their invitation."""
    branch = tenancy.branch(session, caller, branch_id)
    invited = branches.invite_manager(
        session, branch_id=branch.id, email=body.email, display_name=body.display_name or ""
    )
    url = None
    if invited.token is not None:
        url = invitations.url(link_base(request, settings), invited.token)
        mail = invitations.manager_mail(session, user=invited.user, link=url, branch_id=branch.id)
        background.add_task(deliver, Mailer(settings), mail)
    assert invited.user.email is not None
    return ManagerInvited(user_id=invited.user.id, email=invited.user.email, set_password_url=url)
