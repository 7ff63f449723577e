"""Perks in words: a tier's `perks_json` and the rewards it unlocks, as people read them.

Every page, pass and mail that shows a perk goes through here, so HQ's
`{"discount_percent": 15}` reads "15 % off merch" everywhere. The keys are
seed 000's examples; an unknown key still reads as words ("Backstage tour"),
never as JSON. `reward_valid_days` is a setting of the tier (how long the
rewards it unlocks stay valid), not a perk, so it is never listed as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

#: How a tier's perks become rewards: perk key → reward_type (seed 000's examples).
PERK_REWARD_TYPES: Final = {
    "vip_line": "VIP_LINE",
    "discount_percent": "MERCH_DISCOUNT",
    "free_drink": "FREE_DRINK",
    "early_access": "EARLY_ACCESS",
}
#: A perk setting, not a perk: how long the rewards it unlocks stay valid.
PERK_VALIDITY_KEY: Final = "reward_valid_days"

_USE_NOW: Final = "tap “Use now” while staff watch"
#: How to redeem each kind of reward, in one sentence.
_HOW: Final = {
    "MERCH_DISCOUNT": f"At the merch stand of a passport event, show this screen and {_USE_NOW}.",
    "VIP_LINE": f"Go to the VIP line at a passport event's door, show this screen and {_USE_NOW}.",
    "FREE_DRINK": f"At the bar of a passport event, show this screen and {_USE_NOW}.",
    "EARLY_ACCESS": (
        f"When a promoter opens early tickets, show this screen at their box office and {_USE_NOW}."
    ),
}
_HOW_ANY: Final = f"Show this screen to staff at a passport event and {_USE_NOW}."


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _words(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _number(value: float) -> str:
    return f"{value:g}"


def perk_sentence(key: str, value: Any) -> str | None:
    """One perk in words ("15 % off merch"); None for a perk that is off or a tier setting."""
    if key == PERK_VALIDITY_KEY or value is None or value is False or value == 0 or value == "":
        return None
    if key == "discount_percent":
        return f"{_number(value)} % off merch" if _is_number(value) else "A discount on merch"
    if key == "vip_line":
        return "VIP line at the door"
    if key == "free_drink":
        if _is_number(value) and value > 1:
            return f"{_number(value)} free drinks at the bar"
        return "A free drink at the bar"
    if key == "early_access":
        return "Early access to tickets"
    if value is True:
        return _words(key)
    shown = _number(value) if _is_number(value) else str(value)
    return f"{_words(key)}: {shown}"


def perk_sentences(perks: Mapping[str, Any]) -> list[str]:
    """Every perk of a tier in words, in the order HQ listed them."""
    found = (perk_sentence(str(key), value) for key, value in perks.items())
    return [sentence for sentence in found if sentence is not None]


@dataclass(frozen=True, slots=True)
class RewardWords:
    """A reward as its holder reads it: what it is, and how to redeem it."""

    title: str
    how: str


def reward_words(reward_type: str, metadata: Mapping[str, Any]) -> RewardWords:
    """What a reward is ("15 % off merch") and how to redeem it, from its type and metadata."""
    perk = metadata.get("perk")
    title = None
    if isinstance(perk, str):
        title = perk_sentence(perk, metadata.get("value", True))
    if title is None:
        by_type = {kind: key for key, kind in PERK_REWARD_TYPES.items()}.get(reward_type)
        title = perk_sentence(by_type, True) if by_type else None
    return RewardWords(title or _words(reward_type.lower()), _HOW.get(reward_type, _HOW_ANY))
