"""HQ → Businesses: applications waiting, and approval or rejection after a confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import DbSession
from server.db.models import User
from server.db.models.enums import BusinessStatus
from server.domain import businesses
from server.errors import NotFound
from server.web.auth import CheckedForm, Hq
from server.web.business import parse_id
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()
_ACTIONS = {"approve": businesses.approve, "reject": businesses.reject}


def _page(request: Request, session: Session, confirm: dict[str, Any] | None = None) -> Response:
    rows = businesses.list_(session)
    owner_ids = {row.owner_user_id for row in rows}
    owners = (
        {user.id: user for user in session.scalars(select(User).where(User.id.in_(owner_ids)))}
        if owner_ids
        else {}
    )
    context = {
        "pending": [row for row in rows if row.status == BusinessStatus.PENDING],
        "decided": [row for row in rows if row.status != BusinessStatus.PENDING],
        "owners": owners,
        "confirm": confirm,
    }
    return render(request, "hq/businesses.html", context)


@router.get("/hq/businesses")
def business_list(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Business applications waiting for a decision, and every business."""
    return _page(request, session)


def _action(action: str) -> str:
    if action not in _ACTIONS:
        raise NotFound("We couldn't find that page.")
    return action


@router.get("/hq/businesses/{business_id}/{action}")
def confirm(
    request: Request, business_id: str, action: str, session: DbSession, _hq: Hq
) -> Response:
    """Ask HQ to confirm an approval or rejection."""
    business = businesses.get(session, business_id=parse_id(business_id, "business"))
    owner = session.get(User, business.owner_user_id)
    return _page(
        request, session, {"business": business, "owner": owner, "action": _action(action)}
    )


@router.post("/hq/businesses/{business_id}/{action}")
def decide(
    business_id: str, action: str, session: DbSession, _hq: Hq, _form: CheckedForm
) -> Response:
    """Approve or reject (confirmed); the owner's dashboard opens on approval."""
    _ACTIONS[_action(action)](session, business_id=parse_id(business_id, "business"))
    return redirect("/hq/businesses")
