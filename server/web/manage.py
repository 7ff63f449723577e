"""The promoter's "Manage Event": a Pre-event (Packages) tab and an Event (Rewards) tab.

Only the event's own promoter gets here (404 for anyone else's event,
package or reward). Creating and switching status go through
`server.domain.packages` and `server.domain.event_rewards`; their refusals are
shown on the page.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Final

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import Event, EventReward, Package
from server.db.models.enums import PackageStatus, RewardStatus, RewardTriggerType, RewardType
from server.domain import event_rewards, packages
from server.errors import NotFound, SocaError
from server.web.auth import CheckedForm, Promoter, field
from server.web.promoter import own_event
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()

TABS: Final = ("packages", "rewards")


class _BadField(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _money(form: FormData, name: str, label: str, *, required: bool) -> Decimal | None:
    raw = field(form, name).replace(",", "")
    if not raw:
        if required:
            raise _BadField(f"{label}: please fill it in.")
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise _BadField(f"{label}: type an amount like 25.00.") from None


def _count(form: FormData, name: str, label: str) -> int | None:
    raw = field(form, name)
    if not raw:
        return None
    if not raw.isdigit():
        raise _BadField(f"{label}: type a whole number.")
    return int(raw)


def _page(
    request: Request,
    session: Session,
    event: Event,
    tab: str,
    error: str = "",
    status: int = 200,
) -> Response:
    context = {
        "event": event,
        "tab": tab if tab in TABS else "packages",
        "packages": packages.list_(session, event_id=event.id),
        "rewards": event_rewards.list_(session, event_id=event.id),
        "package_statuses": [s.value for s in PackageStatus if s != PackageStatus.SOLD_OUT],
        "reward_statuses": [s.value for s in RewardStatus if s != RewardStatus.DEPLETED],
        "trigger_types": [t.value for t in RewardTriggerType],
        "reward_types": [t.value for t in RewardType],
        "error": error,
    }
    return render(request, "promoter/manage.html", context, status=status)


@router.get("/promoter/events/{event_id}/manage")
def manage(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, tab: str = "packages"
) -> Response:
    """The Manage Event page on one of its two tabs."""
    return _page(request, session, own_event(session, promoter, event_id), tab)


@router.post("/promoter/events/{event_id}/packages")
def add_package(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Create a package for the event (DRAFT unless told otherwise)."""
    event = own_event(session, promoter, event_id)
    try:
        price = _money(form, "price", "Price", required=True)
        assert price is not None
        with session.begin_nested():
            packages.create(
                session,
                event_id=event.id,
                name=field(form, "name"),
                price=price,
                description=field(form, "description") or None,
                max_quantity=_count(form, "max_quantity", "Stock"),
                status=field(form, "status") or PackageStatus.DRAFT,
            )
    except (_BadField, SocaError) as exc:
        return _page(request, session, event, "packages", exc.message, 422)
    return redirect(f"/promoter/events/{event.id}/manage?tab=packages")


@router.post("/promoter/events/{event_id}/rewards")
def add_reward(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Create an event-time reward (DRAFT unless told otherwise)."""
    event = own_event(session, promoter, event_id)
    try:
        amount = _money(form, "reward_amount", "Reward amount", required=True)
        assert amount is not None
        with session.begin_nested():
            event_rewards.create(
                session,
                event_id=event.id,
                name=field(form, "name"),
                trigger_type=field(form, "trigger_type"),
                reward_type=field(form, "reward_type"),
                reward_amount=amount,
                minimum_spend=_money(form, "minimum_spend", "Minimum spend", required=False),
                minimum_transactions=_count(form, "minimum_transactions", "Transactions"),
                max_total_redemptions=_count(form, "max_total_redemptions", "Total limit"),
                status=field(form, "status") or RewardStatus.DRAFT,
            )
    except (_BadField, SocaError) as exc:
        return _page(request, session, event, "rewards", exc.message, 422)
    return redirect(f"/promoter/events/{event.id}/manage?tab=rewards")


def _own_package(session: Session, principal: Principal, raw_id: str) -> tuple[Package, Event]:
    try:
        package = session.get(Package, uuid.UUID(raw_id))
    except ValueError:
        package = None
    if package is None:
        raise NotFound("We couldn't find that package.")
    try:
        return package, own_event(session, principal, str(package.event_id))
    except NotFound:
        raise NotFound("We couldn't find that package.") from None


def _own_reward(session: Session, principal: Principal, raw_id: str) -> tuple[EventReward, Event]:
    try:
        reward = session.get(EventReward, uuid.UUID(raw_id))
    except ValueError:
        reward = None
    if reward is None:
        raise NotFound("We couldn't find that reward.")
    try:
        return reward, own_event(session, principal, str(reward.event_id))
    except NotFound:
        raise NotFound("We couldn't find that reward.") from None


@router.post("/promoter/packages/{package_id}/status")
def package_status(
    request: Request, package_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Put a package on sale, take it off, or back to draft."""
    package, event = _own_package(session, promoter, package_id)
    try:
        with session.begin_nested():
            packages.update(session, package_id=package.id, status=field(form, "status"))
    except SocaError as exc:
        return _page(request, session, event, "packages", exc.message, 422)
    return redirect(f"/promoter/events/{event.id}/manage?tab=packages")


@router.post("/promoter/rewards/{reward_id}/status")
def reward_status(
    request: Request, reward_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Switch a reward on or off."""
    reward, event = _own_reward(session, promoter, reward_id)
    try:
        with session.begin_nested():
            event_rewards.update(session, reward_id=reward.id, status=field(form, "status"))
    except SocaError as exc:
        return _page(request, session, event, "rewards", exc.message, 422)
    return redirect(f"/promoter/events/{event.id}/manage?tab=rewards")
