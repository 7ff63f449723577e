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

A card's `pass.unstamp` withdraws one `pass.stamp` of the same card: the
card is replayed as if that stamp had never been made (wherever the two sort),
the stamp becomes a `duplicate` (`stamp_undone`), a later unstamp of it a
`duplicate` (`already_undone`), and a claim that only had its full card thanks
to a withdrawn stamp loses as a `conflict` (a prize handed out on a card that
was not full). An unstamp naming no stamp of this card is `rejected`
(`unknown_stamp`) until that stamp arrives: the card is then decided again.
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
        Reason.IMPLAUSIBLE_TIME,
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
    undoes: uuid.UUID | None = None

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


#: The kind of a card fact that withdraws a stamp (stamps and claims are `EntryKind`s).
UNSTAMP = "UNSTAMP"


def _when(fact: OpFact) -> str:
    return fact.occurred_at.strftime("%H:%M UTC on %d %b")


def decide_card(
    facts: Sequence[OpFact], *, max_stamps: int, inactivity_days: int
) -> tuple[list[Decision], CardState]:
    """Replay stamps and claims in order; an entry the card cannot take is demoted.

    Facts without an op id are direct ledger entries (HQ, the web): they are
    replayed in their place like any other and get no decision of their own
    (their slot in the result is an `applied` or `rejected` placeholder).
    Unstamps withdraw their stamp from the replay (see the module notes).
    """
    stamps = {
        fact.op_id: fact
        for fact in facts
        if fact.kind == EntryKind.STAMP and fact.op_id is not None and fact.static_reason is None
    }
    undone: dict[uuid.UUID, OpFact] = {}
    for fact in facts:
        if fact.kind == UNSTAMP and fact.static_reason is None and fact.undoes in stamps:
            undone.setdefault(fact.undoes, fact)  # the first in order withdraws it
    would_count = _claims_counted(facts, max_stamps, inactivity_days) if undone else set()
    state = CardState()
    last_applied: OpFact | None = None
    decisions = []
    for fact in facts:
        static = _static(fact)
        if static is not None:
            decisions.append(static)
        elif fact.kind == UNSTAMP:
            decisions.append(_decide_unstamp(fact, stamps, undone, state))
        elif fact.op_id is not None and fact.op_id in undone:
            withdrawer = undone[fact.op_id]
            decisions.append(
                Decision(
                    OpStatus.DUPLICATE,
                    Reason.STAMP_UNDONE,
                    {"when": _when(withdrawer)},
                    withdrawer,
                )
            )
        else:
            step = apply_entry(
                state,
                EntryKind(fact.kind),
                fact.occurred_at,
                max_stamps=max_stamps,
                inactivity_days=inactivity_days,
            )
            if step.refused is None:
                state, last_applied = step.state, fact
                decisions.append(Decision(OpStatus.APPLIED, effects=_figures(state)))
                continue
            context = {"current": state.current_stamps, "max": max_stamps}
            if fact.op_id in would_count:
                # Its full card held a stamp withdrawn since: a prize given on a card not full.
                blocker = _withdrawal_before(fact, stamps, undone)
                decisions.append(Decision(OpStatus.CONFLICT, step.refused, context, blocker))
            else:
                decisions.append(_demote(fact, last_applied, step.refused, **context))
    return decisions, state


def _figures(state: CardState) -> dict[str, Any]:
    return {"current_stamps": state.current_stamps, "rewards_claimed": state.rewards_claimed}


def _decide_unstamp(
    fact: OpFact,
    stamps: dict[uuid.UUID, OpFact],
    undone: dict[uuid.UUID, OpFact],
    state: CardState,
) -> Decision:
    if fact.undoes is None or fact.undoes not in stamps:
        return Decision(OpStatus.REJECTED, Reason.UNKNOWN_STAMP)
    first = undone[fact.undoes]
    if first is not fact:
        return Decision(OpStatus.DUPLICATE, Reason.ALREADY_UNDONE, {"when": _when(first)}, first)
    return Decision(OpStatus.APPLIED, effects={"undoes": str(fact.undoes), **_figures(state)})


def _claims_counted(
    facts: Sequence[OpFact], max_stamps: int, inactivity_days: int
) -> set[uuid.UUID]:
    """The claims the card would count had no stamp been withdrawn."""
    state = CardState()
    counted: set[uuid.UUID] = set()
    for fact in facts:
        if fact.static_reason is not None or fact.kind == UNSTAMP:
            continue
        kind = EntryKind(fact.kind)
        step = apply_entry(
            state, kind, fact.occurred_at, max_stamps=max_stamps, inactivity_days=inactivity_days
        )
        if step.refused is None:
            state = step.state
            if kind is EntryKind.CLAIM and fact.op_id is not None:
                counted.add(fact.op_id)
    return counted


def _withdrawal_before(
    claim: OpFact, stamps: dict[uuid.UUID, OpFact], undone: dict[uuid.UUID, OpFact]
) -> OpFact:
    """The unstamp that withdrew the latest withdrawn stamp before `claim` (else the first)."""
    before = [stamp_id for stamp_id in undone if stamps[stamp_id].order < claim.order]
    if not before:
        return min(undone.values(), key=lambda fact: fact.order)
    latest = max(before, key=lambda stamp_id: stamps[stamp_id].order)
    return undone[latest]
