"""Manage Event's Event (Rewards) tab: create, edit, pause or start, and delete rewards.

Seed 003's "Create Reward" flow: name and description, trigger (spend at
least an amount, or make a number of purchases) and its value, what the
reward gives (a recharge, a percentage off, a free item) and how much, limits
per fan and in total, and when it runs (on the venue's clock).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from core import limits
from server.api.auth import Principal
from server.api.deps import DbSession
from server.db.models import Event, EventReward
from server.db.models.enums import RewardStatus, RewardTriggerType, RewardType
from server.domain import event_rewards
from server.errors import NotFound, SocaError
from server.web import wording
from server.web.auth import CheckedForm, Promoter, field
from server.web.forms import BadField, confirm, done, money, text, whole
from server.web.manage import manage_url, venue_input, venue_moment
from server.web.promoter import own_event
from server.web.render import render
from server.web.routing import page_router

router = page_router()

_FIELDS = (
    "name",
    "description",
    "trigger_type",
    "minimum_spend",
    "minimum_transactions",
    "reward_type",
    "reward_amount",
    "max_redemptions_per_user",
    "max_total_redemptions",
    "active_from",
    "active_until",
    "status",
)


def own_reward(session: Session, principal: Principal, raw_id: str) -> tuple[EventReward, Event]:
    """The caller's reward and its event; NotFound (as for a missing id) otherwise."""
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


def _reward_values(event: Event, reward: EventReward) -> dict[str, str]:
    def text(value: object) -> str:
        return "" if value is None else str(value)

    return {
        "name": reward.name,
        "description": text(reward.description),
        "trigger_type": reward.trigger_type,
        "minimum_spend": text(reward.minimum_spend),
        "minimum_transactions": text(reward.minimum_transactions),
        "reward_type": reward.reward_type,
        "reward_amount": text(reward.reward_amount),
        "max_redemptions_per_user": text(reward.max_redemptions_per_user),
        "max_total_redemptions": text(reward.max_total_redemptions),
        "active_from": venue_input(event, reward.active_from),
        "active_until": venue_input(event, reward.active_until),
        "status": reward.status,
    }


def _reward_form(
    request: Request,
    event: Event,
    *,
    reward: EventReward | None,
    values: dict[str, str] | None = None,
    form: FormData | None = None,
    refusal: BadField | SocaError | None = None,
) -> Response:
    """The reward form: fresh, filled in, or as typed with the refusal that sent it back."""
    if form is not None:
        values = {name: field(form, name) for name in _FIELDS}
    context = {
        "event": event,
        "reward": reward,
        "values": values or {},
        "triggers": [
            (t.value, wording.TRIGGER[t.value]) for t in sorted(event_rewards.SUPPORTED_TRIGGERS)
        ],
        "reward_types": [(t.value, wording.REWARD_TYPE[t.value]) for t in RewardType],
        "statuses": [RewardStatus.DRAFT, RewardStatus.ACTIVE, RewardStatus.INACTIVE],
        "error": refusal.message if refusal is not None else "",
        "error_field": refusal.name if isinstance(refusal, BadField) else "",
        "zone": event.time_zone or "UTC",
    }
    return render(
        request, "promoter/reward_form.html", context, status=422 if refusal is not None else 200
    )


def _reward_fields(form: FormData, event: Event) -> dict[str, Any]:
    trigger = field(form, "trigger_type")
    spend = money(form, "minimum_spend", limits.SPEND_AMOUNT, required=False)
    count = whole(form, "minimum_transactions", limits.MIN_TRANSACTIONS)
    if trigger == RewardTriggerType.MINIMUM_SPEND and spend is None:
        raise BadField("minimum_spend", "Say how much a fan must spend to earn it.")
    if trigger == RewardTriggerType.TRANSACTION_COUNT and count is None:
        raise BadField("minimum_transactions", "Say how many purchases earn it.")
    return {
        "name": text(form, "name", limits.REWARD_NAME),
        "description": field(form, "description") or None,
        "trigger_type": trigger,
        "minimum_spend": spend if trigger == RewardTriggerType.MINIMUM_SPEND else None,
        "minimum_transactions": count if trigger == RewardTriggerType.TRANSACTION_COUNT else None,
        "reward_type": field(form, "reward_type"),
        "reward_amount": money(form, "reward_amount", limits.REWARD_AMOUNT, required=True),
        "max_redemptions_per_user": whole(form, "max_redemptions_per_user", limits.REDEMPTIONS),
        "max_total_redemptions": whole(form, "max_total_redemptions", limits.REDEMPTIONS),
        "active_from": venue_moment(form, "active_from", event),
        "active_until": venue_moment(form, "active_until", event),
        "status": field(form, "status") or RewardStatus.DRAFT,
    }


@router.get("/promoter/events/{event_id}/rewards/new")
def new_reward(request: Request, event_id: str, session: DbSession, promoter: Promoter) -> Response:
    """The form for a new reward."""
    event = own_event(session, promoter, event_id)
    values = {
        "trigger_type": RewardTriggerType.MINIMUM_SPEND,
        "reward_type": RewardType.RECHARGE,
        "max_redemptions_per_user": "1",
        "status": RewardStatus.DRAFT,
    }
    return _reward_form(request, event, reward=None, values=values)


@router.post("/promoter/events/{event_id}/rewards")
def add_reward(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Create an event-time reward (DRAFT unless told otherwise)."""
    event = own_event(session, promoter, event_id)
    try:
        fields = _reward_fields(form, event)
        with session.begin_nested():
            created = event_rewards.create(session, event_id=event.id, **fields)
    except (BadField, SocaError) as exc:
        return _reward_form(request, event, reward=None, form=form, refusal=exc)
    return done(manage_url(event, "rewards"), f"Reward “{created.name}” created.")


@router.get("/promoter/rewards/{reward_id}/edit")
def edit_reward(
    request: Request, reward_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """The reward's form, filled in."""
    reward, event = own_reward(session, promoter, reward_id)
    return _reward_form(request, event, reward=reward, values=_reward_values(event, reward))


@router.post("/promoter/rewards/{reward_id}/edit")
def save_reward(
    request: Request, reward_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Save the reward's changed fields."""
    reward, event = own_reward(session, promoter, reward_id)
    try:
        fields = _reward_fields(form, event)
        with session.begin_nested():
            event_rewards.update(session, reward_id=reward.id, **fields)
    except (BadField, SocaError) as exc:
        return _reward_form(request, event, reward=reward, form=form, refusal=exc)
    return done(manage_url(event, "rewards"), f"Reward “{reward.name}” saved.")


@router.post("/promoter/rewards/{reward_id}/status")
def reward_status(
    request: Request, reward_id: str, session: DbSession, promoter: Promoter, form: CheckedForm
) -> Response:
    """Start a reward, pause it, or put it back to draft."""
    reward, event = own_reward(session, promoter, reward_id)
    target = field(form, "status")
    try:
        with session.begin_nested():
            event_rewards.update(session, reward_id=reward.id, status=target)
    except SocaError as exc:
        return done(manage_url(event, "rewards"), f"Not changed: {exc.message}")
    words = {"ACTIVE": "is running", "INACTIVE": "is paused", "DRAFT": "is back to draft"}
    return done(manage_url(event, "rewards"), f"“{reward.name}” {words.get(target, target)}.")


@router.get("/promoter/rewards/{reward_id}/delete")
def delete_reward_confirm(
    request: Request, reward_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """Ask before deleting a reward."""
    reward, event = own_reward(session, promoter, reward_id)
    return confirm(
        request,
        title=f"Delete “{reward.name}”?",
        lines=[
            "The reward is deleted for good.",
            "A reward someone has earned cannot be deleted: pause it instead.",
        ],
        action=f"/promoter/rewards/{reward.id}/delete",
        button="Delete the reward",
        back=manage_url(event, "rewards"),
    )


@router.post("/promoter/rewards/{reward_id}/delete")
def delete_reward(
    reward_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """Delete a reward nobody earned (after one redemption: refused, with the reason)."""
    reward, event = own_reward(session, promoter, reward_id)
    name = reward.name
    try:
        with session.begin_nested():
            event_rewards.delete(session, reward_id=reward.id)
    except SocaError:
        return done(
            manage_url(event, "rewards"),
            f"“{name}” was not deleted: fans have earned it. Pause it instead.",
        )
    return done(manage_url(event, "rewards"), f"Reward “{name}” deleted.")
