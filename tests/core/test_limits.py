"""The declared limits: each is pydantic metadata that refuses what the columns cannot hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from core import limits


class _Form(BaseModel):
    gate: Annotated[str, limits.GATE]
    note: Annotated[str, limits.CHECKIN_NOTE] = ""
    points: Annotated[int, limits.STAMP_POINTS] = 0
    price: Annotated[Decimal, limits.PRICE] = Decimal(0)


def test_text_within_its_limit_is_accepted_as_given() -> None:
    assert _Form(gate="Gate " + "x" * 55).gate == "Gate " + "x" * 55


@pytest.mark.parametrize("gate", ["x" * 61, "Gate\x001", "Gate\n1", "\x7f"])
def test_text_too_long_or_with_control_characters_is_refused(gate: str) -> None:
    with pytest.raises(ValidationError):
        _Form(gate=gate)


def test_multiline_text_keeps_newlines_and_tabs_but_not_nul() -> None:
    assert _Form(gate="A", note="line one\r\n\tline two").note.endswith("two")
    with pytest.raises(ValidationError):
        _Form(gate="A", note="line\x00")


@pytest.mark.parametrize("points", [-1, 10_001, 2**31, 10**30, 1.5, "7"])
def test_whole_numbers_outside_the_range_or_not_ints_are_refused(points: object) -> None:
    with pytest.raises(ValidationError):
        _Form(gate="A", points=points)


@pytest.mark.parametrize("price", ["1e400", "inf", "-inf", "NaN", "1.234", "-0.01", 10**30])
def test_money_must_be_finite_two_places_and_in_range(price: object) -> None:
    with pytest.raises(ValidationError):
        _Form(gate="A", price=price)


def test_contains_agrees_with_validation() -> None:
    assert limits.PRICE.contains(Decimal("999999.99"))
    assert not limits.PRICE.contains(Decimal("Infinity"))
    assert not limits.PRICE.contains(Decimal("1.001"))
    assert not limits.PRICE.contains(Decimal("1000000.01"))
    assert limits.STAMP_POINTS.contains(10_000)
    assert not limits.STAMP_POINTS.contains(10_001)


def test_text_problem_names_the_fault_in_words() -> None:
    assert limits.text_problem("ok", limits.GATE) is None
    assert limits.text_problem("x" * 61, limits.GATE) == "Use at most 60 characters."
    assert limits.text_problem("", limits.EVENT_NAME) == "This can't be empty."
    assert limits.text_problem("ab", limits.HANDLE) == "Use at least 3 characters."
    problem = limits.text_problem("a\x00b", limits.GATE)
    assert problem is not None and "U+0000" in problem


def test_the_op_time_window_refuses_absurd_instants_without_converting_them() -> None:
    now = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
    for text in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2019-12-31T23:59Z"):
        assert not limits.OP_TIME.contains(datetime.fromisoformat(text), now)
    assert not limits.OP_TIME.contains(now + timedelta(days=1, seconds=1), now)
    assert limits.OP_TIME.contains(now + timedelta(hours=23), now)
    assert limits.OP_TIME.contains(datetime(2020, 1, 1, tzinfo=UTC), now)


def test_a_raw_device_clock_may_be_reset_to_the_epoch() -> None:
    now = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
    assert limits.DEVICE_CLOCK.contains(datetime(1970, 1, 1, 0, 0, 9, tzinfo=UTC), now)
    assert not limits.DEVICE_CLOCK.contains(datetime.fromisoformat("0001-01-01T00:00+14:00"), now)
