"""The seeds' codes in words for the pages (templates call these as filters)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment

PACKAGE_STATUS: Final = {
    "DRAFT": "Draft (not on sale)",
    "ACTIVE": "On sale",
    "INACTIVE": "Off sale",
    "EXPIRED": "Sale ended",
    "SOLD_OUT": "Sold out",
}
REWARD_STATUS: Final = {
    "DRAFT": "Draft (not running)",
    "ACTIVE": "Running",
    "INACTIVE": "Paused",
    "EXPIRED": "Ended",
    "DEPLETED": "All given out",
}
ITEM_TYPE: Final = {
    "ENTRY": "Entry",
    "BRACELET": "Bar bracelet",
    "MERCHANDISE": "Merchandise",
    "SERVICE": "Service",
}
TRIGGER: Final = {
    "MINIMUM_SPEND": "Spends at least an amount",
    "TRANSACTION_COUNT": "Makes a number of purchases",
}
REWARD_TYPE: Final = {
    "RECHARGE": "Free recharge on the bracelet",
    "DISCOUNT_PERCENTAGE": "Percentage off the next purchase",
    "FREE_ITEM": "A free item",
}
BILLING_STATUS: Final = {
    "DRAFT": "Draft",
    "PENDING_PAYMENT": "Awaiting payment",
    "PAID": "Paid",
    "WAIVED": "Waived",
}
DEVICE_ROLE: Final = {
    "DOOR": "Door",
    "BRANCH": "Bar or shop",
    "PROMOTER": "Promoter's office",
    "HUB": "Venue hub",
}


def amount(value: Decimal | None) -> str:
    """An amount with two decimals and thousands separators ('' for None)."""
    return "" if value is None else f"{value:,.2f}"


def item_words(item: Any) -> str:
    """A package item: '2 × Bar bracelet, preloaded with 50.00 each'."""
    words = f"{item.quantity} × {item.name}" if item.quantity != 1 else item.name
    kind = ITEM_TYPE.get(item.type, item.type).lower()
    said = kind in item.name.lower() or item.name.lower() in kind  # "VIP entry" says "entry"
    if item.type == "BRACELET" and item.bracelet_amount is not None:
        each = " each" if item.quantity != 1 else ""
        preloaded = f"preloaded with {amount(item.bracelet_amount)}{each}"
        return f"{words}, {preloaded}" if said else f"{words} ({kind}, {preloaded})"
    return words if said else f"{words} ({kind})"


def trigger_words(reward: Any) -> str:
    """When a reward is earned: 'Spend 150.00 or more' / 'Make 10 purchases'."""
    if reward.trigger_type == "MINIMUM_SPEND" and reward.minimum_spend is not None:
        return f"Spend {amount(reward.minimum_spend)} or more"
    if reward.trigger_type == "TRANSACTION_COUNT" and reward.minimum_transactions is not None:
        return f"Make {reward.minimum_transactions} purchases"
    return str(TRIGGER.get(reward.trigger_type, reward.trigger_type))


def reward_words(reward: Any) -> str:
    """What a reward gives: '10.00 free recharge' / '15% off the next purchase'."""
    value = reward.reward_amount
    if reward.reward_type == "RECHARGE" and value is not None:
        return f"{amount(value)} free recharge on the bracelet"
    if reward.reward_type == "DISCOUNT_PERCENTAGE" and value is not None:
        return f"{value.normalize():f}% off the next purchase"
    return str(REWARD_TYPE.get(reward.reward_type, reward.reward_type))


def venue_when(moment: datetime | None, zone: str | None = None) -> str:
    """A moment on the venue's clock with its zone: 'Sat 14 Feb 2026, 17:00 AST'."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone)) if zone else moment
    return f"{local.strftime('%a %d %b %Y, %H:%M')} {local.tzname() or 'UTC'}"


def utc_when(moment: datetime | None) -> str:
    """A moment in UTC, for `<time data-local>` before the browser shows it locally."""
    return "never" if moment is None else moment.strftime("%d %b %Y, %H:%M UTC")


def register(environment: Environment) -> None:
    """Make these available to every template as filters."""
    environment.filters.update(
        {
            "amount": amount,
            "item_words": item_words,
            "trigger_words": trigger_words,
            "reward_words": reward_words,
            "venue_when": venue_when,
            "utc_when": utc_when,
            "package_status": lambda code: PACKAGE_STATUS.get(code, code),
            "reward_status": lambda code: REWARD_STATUS.get(code, code),
            "billing_status": lambda code: BILLING_STATUS.get(code, code),
            "device_role": lambda code: DEVICE_ROLE.get(code, code),
            "item_type": lambda code: ITEM_TYPE.get(code, code),
        }
    )
