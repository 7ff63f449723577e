"""What a screen shows after a scan: colour, headline, who, their standing, and why if not green."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from core.reasons import Reason, explain
from core.wire import Op, OpType


class Colour(enum.StrEnum):
    """Green: admitted or done. Amber: look twice (re-entry). Red: refused."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class CardView:
    """A stamp card as the prize screen shows it: "4 of 5 • 🥇 Gold Member • 7× completed"."""

    offer_id: uuid.UUID
    offer_name: str
    current_stamps: int
    max_stamps: int
    completions: int
    tier: str | None
    summary: str
    restarted: bool = False
    tier_ar: str | None = None  # the tier's label in Arabic ("🥇 عضو ذهبي")
    summary_ar: str = ""  # `summary` in Arabic
    prize: str | None = None  # what a full card earns ("Fifth rum punch free")
    next_tier: str = ""  # what the next tier needs: "2 more for Gold Member" (or "Top tier")
    next_tier_ar: str = ""

    @property
    def full(self) -> bool:
        """True when the prize can be confirmed."""
        return self.current_stamps >= self.max_stamps


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one scan or action; `op_id` is set when an op was committed to the outbox."""

    colour: Colour
    headline: str
    reason: Reason | None = None
    explanation: str | None = None
    op_id: uuid.UUID | None = None
    op_type: OpType | None = None
    handle: str | None = None
    display_name: str | None = None
    tier: str | None = None
    previous_tier: str | None = None
    tier_changed: bool = False
    tier_ar: str | None = None  # a stamp-card tier's Arabic label (point tiers: by the UI)
    previous_tier_ar: str | None = None
    points: int | None = None
    points_earned: int = 0
    stamps: int | None = None
    card: CardView | None = None
    first_scanned_at: datetime | None = None
    first_gate: str | None = None
    note: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    open_search: bool = False  # the way out is the search by name (a passport at the door)
    #: Nothing written: the action needs a second yes ("Add another stamp?", a double tap).
    needs_confirmation: bool = False

    def line(self) -> dict[str, Any]:
        """The headless contract's JSON line: op_id, type, verdict, reason."""
        return {
            "op_id": None if self.op_id is None else str(self.op_id),
            "type": None if self.op_type is None else self.op_type.value,
            "verdict": self.colour.value,
            "reason": None if self.reason is None else self.reason.value,
        }


def refused(reason: Reason, headline: str, **context: Any) -> Verdict:
    """A red verdict with its reason explained; nothing was written."""
    return Verdict(
        colour=Colour.RED,
        headline=headline,
        reason=reason,
        explanation=explain(reason, context),
        context=context,
    )


def with_op(verdict: Verdict, op: Op) -> Verdict:
    """The verdict with the committed op's id and type."""
    return replace(verdict, op_id=op.op_id, op_type=op.type)
