"""Property: no push content reaches a 5xx or stalls a batch, over real HTTP, on both engines.

Hypothesis builds batches for a door or a branch device mixing valid ops
(scans, check-ins, refusals, stamps, claims, unstamps) with hostile ones:
text too long, with control characters or a lone surrogate, huge and negative numbers and
floats where text or ids belong, JSON nested inside payload values, missing
and extra fields, absurd dates, the wrong device for the op, and op ids
reused with other content. Every push must answer 200; every valid op is
applied or loses an order-sensitive decision with its reason; every hostile
op is rejected with the reason its hostility calls for; an identical repeat
gets the first one's result; and the same batch sent again gets the same
results. 25 examples per engine in CI; `SOCA_PUSH_PROPERTY_EXAMPLES=500` for a
longer local run.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.factories import T0
from tests.server.sync.conftest import Site

EXAMPLES = int(os.environ.get("SOCA_PUSH_PROPERTY_EXAMPLES", "25"))
_SEQ = itertools.count(1)

#: Reasons a valid op may carry when it loses an order-sensitive decision.
ORDER_REASONS = {"already_scanned", "card_full", "not_enough_stamps", "stamp_undone"}
ORDER_REASONS |= {"already_undone"}
TOKEN_REASONS = {"bad_format", "unknown_key", "bad_signature", "wrong_kind"}


@dataclass
class Planned:
    """One op of a batch and what its result must be."""

    body: dict[str, Any]
    expect: set[str] | None  # None: a valid op; else the reasons its rejection may give
    kind: str = ""
    repeat_of: int | None = None


def op(kind: str, payload: dict[str, Any], minute: int, op_id: str | None = None) -> dict[str, Any]:
    when = (T0 + timedelta(minutes=minute)).isoformat()
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "seq": next(_SEQ),
        "type": kind,
        "occurred_at": when,
        "device_clock": when,
        "payload": payload,
    }


# ------------------------------------------------------------------------ strategies

printable = st.characters(exclude_categories=("Cc", "Cs"))
control = st.sampled_from(["\x00", "\x01", "\x07", "\x1b", "\x7f", "\n", "\r"])
with_control = st.tuples(st.text(printable, max_size=8), control, st.text(printable, max_size=8))
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
)
nested = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
).filter(lambda value: isinstance(value, list | dict))
not_text = st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.booleans(), nested)
absurd_times = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1900-01-01T00:00:00Z",
        "2019-12-31T23:59:59Z",
        "FUTURE",
    ]
)
absurd_clocks = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1900-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ]
)
HOSTILITIES = [
    "long_text",
    "control",
    "long_qr",
    "not_text",
    "nested",
    "missing",
    "extra",
    "junk_qr",
    "time",
    "clock",
    "wrong_device",
    "reused_id",
    "surrogate",
]


def valid_op(site: Site, who: str, pick: int, minute: int, batch: list[Planned]) -> Planned:
    world = site.world
    event = str(world.event_id)
    if who == "door0":
        ticket = world.tickets[pick % 3]
        choices = [
            ("ticket.scan", {"qr": ticket.qr_token, "event_id": event, "gate": "Gate 1"}),
            (
                "ticket.manual_checkin",
                {"ticket_id": str(ticket.id), "event_id": event, "gate": "B"},
            ),
            (
                "scan.refused",
                {
                    "event_id": event,
                    "gate": "Gate 1",
                    "reason": "bad_signature",
                    "code_digest": hashlib.sha256(str(pick).encode()).hexdigest(),
                },
            ),
        ]
        kind, payload = choices[pick % 3]
        return Planned(op(kind, payload, minute), None, kind)
    user = world.users[pick % 3]
    card = {"qr": world.passport_qr[user.id], "offer_id": str(world.offer.id)}
    stamps = [
        p.body["op_id"]
        for p in batch
        if p.kind == "pass.stamp" and p.expect is None and p.body["payload"]["qr"] == card["qr"]
    ]
    if pick % 4 == 3 and stamps:
        return Planned(op("pass.unstamp", {**card, "undoes": stamps[-1]}, minute), None, "unstamp")
    kind = "pass.claim" if pick % 4 == 2 else "pass.stamp"
    return Planned(op(kind, card, minute), None, kind)


def hostile_op(
    site: Site, who: str, hostility: str, value: Any, batch: list[Planned], minute: int
) -> Planned:
    base = valid_op(site, who, minute, minute, batch)
    body, payload = base.body, dict(base.body["payload"])
    text_field = "gate" if "gate" in payload else "qr"
    if hostility == "long_text":
        payload[text_field] = "G" * (61 if text_field == "gate" else 7090) + value
    elif hostility == "control":
        payload[text_field] = "".join(value)
    elif hostility == "surrogate":
        payload[text_field] = "Gate \ud800"  # a lone surrogate: no valid UTF-8 holds it
    elif hostility == "long_qr":
        payload["qr" if "qr" in payload else "gate"] = "Q" * 7090
    elif hostility == "not_text":
        payload[text_field] = value
    elif hostility == "nested":
        payload[next(iter(payload))] = value
    elif hostility == "missing":
        payload.pop(next(iter(payload)))
    elif hostility == "extra":
        payload["surprise"] = value if not isinstance(value, str) else 1
    elif hostility == "junk_qr":
        if "qr" not in payload:
            return Planned({**body, "payload": {**payload, "gate": "\x00"}}, {"invalid_op"})
        payload["qr"] = "JUNK" + "".join(value)[:20]
        return Planned({**body, "payload": payload}, TOKEN_REASONS)
    elif hostility in ("time", "clock"):
        when = value
        if when == "FUTURE":
            when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        field = "occurred_at" if hostility == "time" else "device_clock"
        return Planned({**body, field: when}, {"implausible_time"})
    elif hostility == "wrong_device":
        other = "branch0" if who == "door0" else "door0"
        return Planned(valid_op(site, other, minute, minute, batch).body, {"out_of_scope"})
    elif hostility == "reused_id" and batch:
        earlier = batch[minute % len(batch)]
        clash = {**body, "op_id": earlier.body["op_id"], "seq": earlier.body["seq"] + 10**6}
        return Planned(clash, {"duplicate_op_id"})
    else:
        payload["gate"] = {"deep": [[[value]]]}
    return Planned({**body, "payload": payload}, {"invalid_op"})


@st.composite
def batches(draw: st.DrawFn, site: Site) -> tuple[str, list[Planned]]:
    who = draw(st.sampled_from(["door0", "branch0"]))
    batch: list[Planned] = []
    for _ in range(draw(st.integers(1, 12))):
        minute = draw(st.integers(0, 60))
        choice = draw(st.sampled_from(["valid", "valid", "repeat", "hostile", "hostile"]))
        if choice == "valid" or (choice == "repeat" and not batch):
            batch.append(valid_op(site, who, draw(st.integers(0, 11)), minute, batch))
        elif choice == "repeat":
            index = draw(st.integers(0, len(batch) - 1))
            first = batch[index]
            batch.append(Planned(first.body, first.expect, first.kind, repeat_of=index))
        else:
            hostility = draw(st.sampled_from(HOSTILITIES))
            value = draw(
                {
                    "long_text": st.text(printable, max_size=40),
                    "control": with_control,
                    "not_text": not_text,
                    "nested": nested,
                    "extra": leaves,
                    "junk_qr": st.lists(printable, max_size=20),
                    "time": absurd_times,
                    "clock": absurd_clocks,
                }.get(hostility, st.none())
            )
            batch.append(hostile_op(site, who, hostility, value, batch, minute))
    return who, batch


def check(planned: list[Planned], results: list[dict[str, Any]]) -> None:
    assert len(results) == len(planned)
    for index, (plan, result) in enumerate(zip(planned, results, strict=True)):
        assert result["op_id"] == plan.body["op_id"]
        if plan.repeat_of is not None:
            assert result == results[plan.repeat_of], index
            continue
        if plan.expect is not None:
            assert result["status"] == "rejected", (index, plan.body, result)
            assert result["reason"] in plan.expect and result["message"], (index, result)
            continue
        if result["status"] == "applied":
            continue
        assert result["reason"] in ORDER_REASONS and result["message"], (index, plan.body, result)
        if result["status"] == "rejected":  # a claim with nothing before it to lose to
            assert (plan.kind, result["reason"]) == ("pass.claim", "not_enough_stamps")


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_push_content_reaches_a_5xx_or_stalls_the_valid_ops(site: Site, data: Any) -> None:
    who, planned = data.draw(batches(site))
    ops = [plan.body for plan in planned]
    first = site.push(who, ops)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    check(planned, results)
    again = site.push(who, ops)
    assert again.status_code == 200, again.text
    assert again.json()["results"] == results
