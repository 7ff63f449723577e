"""The promoter's "Manage Event": a Pre-event (Packages) tab and an Event (Rewards) tab.

Only the event's own promoter gets here (404 for anyone else's event,
package or reward). Creating and switching status go through
`server.domain.packages` and `server.domain.event_rewards`; their refusals are
shown on the page.
"""

from __future__ import annotations

import uuid
from typing import Final

from fastapi import Request, Response
from sqlalchemy.orm import Session

from core import limits
from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import Event, EventReward, Package
from server.db.models.enums import PackageStatus, RewardStatus, RewardTriggerType, RewardType
from server.domain import event_rewards, packages
from server.errors import NotFound, SocaError
from server.web.auth import CheckedForm, Promoter, field
from server.web.fields import FormCheck
from server.web.promoter import own_event
from server.web.render import redirect, render
from server.web.routing import page_router

router = page_router()

TABS: Final = ("packages", "rewards")
_CHECK_FIELDS: Final = "Please check the fields marked below."


def _page(
    request: Request,
    session: Session,
    event: Event,
    tab: str,
    error: str = "",
    status: int = 200,
    check: FormCheck | None = None,
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
        "values": check.values if check is not None else {},
        "errors": check.errors if check is not None else {},
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
    check = FormCheck(form)
    name = check.text("name", limits.PACKAGE_NAME, required="Name the package.")
    description = check.text("description", limits.DESCRIPTION)
    price = check.money("price", limits.PRICE, required=True)
    stock = check.whole("max_quantity", limits.STOCK)
    status = check.choice("status", PackageStatus.DRAFT)
    if check.errors or name is None or price is None:
        return _page(request, session, event, "packages", _CHECK_FIELDS, 422, check)
    try:
        with session.begin_nested():
            packages.create(
                session,
                event_id=event.id,
                name=name,
                price=price,
                description=description,
                max_quantity=stock,
                status=status,
            )
    except SocaError as exc:
        return _page(request, session, event, "packages", exc.message, 422, check)
    return redirect(f"/promoter/events/{event.id}/manage?tab=packages")


@router.post("/promoter/events/{event_id}/rewards")
def add_reward(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Create an event-time reward (DRAFT unless told otherwise)."""
    event = own_event(session, promoter, event_id)
    check = FormCheck(form)
    name = check.text("name", limits.REWARD_NAME, required="Name the reward.")
    amount = check.money("reward_amount", limits.REWARD_AMOUNT, required=True)
    minimum_spend = check.money("minimum_spend", limits.SPEND_AMOUNT)
    transactions = check.whole("minimum_transactions", limits.MIN_TRANSACTIONS)
    total = check.whole("max_total_redemptions", limits.REDEMPTIONS)
    trigger_type = check.choice("trigger_type", "")
    reward_type = check.choice("reward_type", "")
    status = check.choice("status", RewardStatus.DRAFT)
    if check.errors or name is None or amount is None:
        return _page(request, session, event, "rewards", _CHECK_FIELDS, 422, check)
    try:
        with session.begin_nested():
            event_rewards.create(
                session,
                event_id=event.id,
                name=name,
                trigger_type=trigger_type,
                reward_type=reward_type,
                reward_amount=amount,
                minimum_spend=minimum_spend,
                minimum_transactions=transactions,
                max_total_redemptions=total,
                status=status,
            )
    except SocaError as exc:
        return _page(request, session, event, "rewards", exc.message, 422, check)
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
