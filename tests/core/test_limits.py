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


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb"])
def test_unpaired_surrogates_are_refused_like_control_characters(text: str) -> None:
    with pytest.raises(ValidationError):
        _Form(gate=text)
    problem = limits.text_problem(text, limits.GATE)
    assert problem is not None and "unpaired surrogate" in problem


def test_without_control_removes_what_the_limit_forbids_and_cuts_to_length() -> None:
    assert limits.without_control("Gate\x00 A\x1b", limits.GATE) == "Gate A"
    assert limits.without_control("one\ntwo\x00", limits.CHECKIN_NOTE) == "one\ntwo"
    assert len(limits.without_control("x" * 900, limits.CHECKIN_NOTE)) == 500


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" 1,000 ", 1000), ("1000000", 1_000_000)],
)
def test_parse_whole_reads_typed_numbers(raw: str, expected: int) -> None:
    assert limits.parse_whole(raw, limits.STOCK) == expected


@pytest.mark.parametrize("raw", ["0", "101", "-1", "1.5", "abc", "9" * 5000, "١٢", "1e3", ""])
def test_parse_whole_refuses_in_words_and_never_builds_a_huge_int(raw: str) -> None:
    with pytest.raises(ValueError, match="Type a whole number from 1 to 100"):
        limits.parse_whole(raw, limits.MAX_STAMPS)


@pytest.mark.parametrize("raw", ["inf", "-inf", "NaN", "1e308", "1e400", "9" * 5000, "1.234", "x"])
def test_parse_money_refuses_what_is_not_an_amount_in_range(raw: str) -> None:
    with pytest.raises(ValueError, match=r"Type an amount from 0\.00 to 1,000,000\.00"):
        limits.parse_money(raw, limits.PRICE)


def test_parse_money_reads_amounts_to_the_cent() -> None:
    assert limits.parse_money("1,234.5", limits.PRICE) == Decimal("1234.50")


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("raw", "max_depth", "within"),
    [
        (_nested(64), 64, True),
        (_nested(65), 64, False),
        (b"[" * 100_000, 64, False),
        (b'{"a": [{"b": {"c": []}}]}', 5, True),
        (b'{"a": [{"b": {"c": []}}]}', 4, False),
        (b'["[[[[[[[[[[", "]]]]"]', 1, True),  # brackets inside strings are text
        (b'["\\\\", [[]]]', 3, True),  # an escaped backslash ends before the quote
        (b'["\\\\", [[]]]', 2, False),
        (b'["\\"[[[[", []]', 2, True),  # an escaped quote does not end the string
        (b"5", 1, True),
    ],
)
def test_json_nesting_is_counted_without_parsing(raw: bytes, max_depth: int, within: bool) -> None:
    assert limits.json_nesting_ok(raw, max_depth) is within


def test_json_nesting_limit_is_exact() -> None:
    assert limits.json_nesting_ok(b'{"a": [[1]]}', 3)
    assert not limits.json_nesting_ok(b'{"a": [[[1]]]}', 3)
    assert not limits.json_nesting_ok(b'{"a": "x", "b": [[[1]]]}', 3)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": {"b": {"c": {"d": {}}}}}, "nests more than 4"),
        ({"x" * 41: True}, "Use at most 40 characters"),
        ({"free": "a\x00b"}, "U+0000"),
        ({"free": float("inf")}, "finite"),
        ({"free": "x" * 5000}, "bytes as JSON"),
        ([1], "must be a JSON object"),
    ],
)
def test_json_documents_are_bounded_in_depth_keys_text_and_size(
    value: object, problem: str
) -> None:
    found = limits.json_problem(value, limits.PERKS)
    assert found is not None and problem in found


def test_a_json_document_within_its_limits_passes() -> None:
    assert (
        limits.json_problem({"free_drink": True, "discount": {"percent": 10}}, limits.PERKS) is None
    )
