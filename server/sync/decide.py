"""Order-sensitive decisions over all ops of one subject (a ticket, a card, a purchase).

Pure functions: given every op ever pushed for a subject, in the contract's
order (`occurred_at`, then device, then `seq`), say what each op is. Because
the answer depends only on the set of ops, re-deciding after a late op makes
the server converge whatever order batches arrive in.

An op that loses an order-sensitive decision (a second scan of a ticket, a
stamp on a full card, a second activation) is *demoted*: `duplicate` when the
kiosk knew (it showed amber or red, or — when it did not say — the earlier op
came from the same device), `conflict` when offline devices disagreed (it
showed green for something another device had already done). Static
refusals (bad token, wrong event, ...) are `rejected` and never change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from core.cards import CardState, EntryKind, apply_entry
from core.reasons import Reason
from core.wire import OpStatus

#: Refusals that depend only on the op and the server's data, never on other ops.
STATIC_REASONS = frozenset(
    {
        Reason.BAD_FORMAT,
        Reason.UNKNOWN_KEY,
        Reason.BAD_SIGNATURE,
        Reason.WRONG_KIND,
        Reason.WRONG_EVENT,
        Reason.REVOKED,
        Reason.UNKNOWN_TICKET,
        Reason.UNKNOWN_OFFER,
        Reason.UNKNOWN_PASSPORT,
        Reason.UNKNOWN_PURCHASE,
        Reason.PURCHASE_NOT_PAID,
        Reason.WRONG_BRANCH,
        Reason.OUT_OF_SCOPE,
        Reason.INVALID_OP,
    }
)


@dataclass(frozen=True)
class OpFact:
    """What a decision needs to know about one op (or, with no op id, a direct ledger entry)."""

    op_id: uuid.UUID | None
    device_id: uuid.UUID | None
    seq: int | None
    occurred_at: datetime
    kind: str
    verdict: str | None = None
    static_reason: Reason | None = None
    gate: str | None = None
    entry_id: uuid.UUID | None = None

    @cached_property
    def order(self) -> tuple[datetime, int, int, int]:
        """The contract's deterministic order: door time, then device, then seq.

        Ids compare as numbers, which orders them exactly as their text does
        (fixed-width lowercase hex) without formatting each; none sorts first.
        """
        identity = self.op_id or self.entry_id
        return (
            self.occurred_at,
            -1 if self.device_id is None else self.device_id.int,
            -1 if self.seq is None else self.seq,
            -1 if identity is None else identity.int,
        )


@dataclass(frozen=True)
class Decision:
    """What one op is, why, and which op decided it when demoted."""

    status: OpStatus
    reason: Reason | None = None
    context: dict[str, Any] = field(default_factory=dict)
    blocker: OpFact | None = None
    effects: dict[str, Any] = field(default_factory=dict)


def in_order(facts: Sequence[OpFact]) -> list[OpFact]:
    """Facts sorted in the contract's order."""
    return sorted(facts, key=lambda fact: fact.order)


def _demote(fact: OpFact, blocker: OpFact | None, reason: Reason, **context: Any) -> Decision:
    if blocker is None:
        return Decision(OpStatus.REJECTED, reason, context)
    knew = fact.verdict in ("amber", "red") or (
        fact.verdict is None and fact.device_id == blocker.device_id
    )
    status = OpStatus.DUPLICATE if knew else OpStatus.CONFLICT
    return Decision(status, reason, context, blocker)


def _static(fact: OpFact) -> Decision | None:
    if fact.static_reason is None:
        return None
    return Decision(OpStatus.REJECTED, fact.static_reason)


def decide_ticket(facts: Sequence[OpFact]) -> tuple[list[Decision], OpFact | None]:
    """The first valid scan or check-in admits (and wins the stamp); later ones are re-entries."""
    decisions = []
    winner: OpFact | None = None
    for fact in facts:
        static = _static(fact)
        if static is not None:
            decisions.append(static)
        elif winner is None:
            winner = fact
            decisions.append(Decision(OpStatus.APPLIED))
        else:
            decisions.append(
                _demote(
                    fact,
                    winner,
                    Reason.ALREADY_SCANNED,
                    when=winner.occurred_at.strftime("%H:%M UTC on %d %b"),
                    gate=winner.gate or "the door",
                )
            )
    return decisions, winner


def decide_purchase(
    facts: Sequence[OpFact], activated_directly_at: datetime | None
) -> tuple[list[Decision], OpFact | None]:
    """The first activation applies; later ones (or any after a direct activation) are demoted."""
    decisions = []
    winner: OpFact | None = None
    for fact in facts:
        static = _static(fact)
        if static is not None:
            decisions.append(static)
        elif activated_directly_at is not None:
            when = activated_directly_at.strftime("%H:%M UTC on %d %b")
            decisions.append(_demote(fact, None, Reason.ALREADY_ACTIVATED, when=when))
        elif winner is None:
            winner = fact
            decisions.append(Decision(OpStatus.APPLIED))
        else:
            when = winner.occurred_at.strftime("%H:%M UTC on %d %b")
            decisions.append(_demote(fact, winner, Reason.ALREADY_ACTIVATED, when=when))
    return decisions, winner


def decide_card(
    facts: Sequence[OpFact], *, max_stamps: int, inactivity_days: int
) -> tuple[list[Decision], CardState]:
    """Replay stamps and claims in order; an entry the card cannot take is demoted.

    Facts without an op id are direct ledger entries (HQ, the web): they are
    replayed in their place like any other and get no decision of their own
    (their slot in the result is an `applied` or `rejected` placeholder).
    """
    state = CardState()
    last_applied: OpFact | None = None
    decisions = []
    for fact in facts:
        static = _static(fact)
        if static is not None:
            decisions.append(static)
            continue
        step = apply_entry(
            state,
            EntryKind(fact.kind),
            fact.occurred_at,
            max_stamps=max_stamps,
            inactivity_days=inactivity_days,
        )
        if step.refused is not None:
            context = {"current": state.current_stamps, "max": max_stamps}
            decisions.append(_demote(fact, last_applied, step.refused, **context))
            continue
        state = step.state
        last_applied = fact
        decisions.append(
            Decision(
                OpStatus.APPLIED,
                effects={
                    "current_stamps": state.current_stamps,
                    "rewards_claimed": state.rewards_claimed,
                },
            )
        )
    return decisions, state
