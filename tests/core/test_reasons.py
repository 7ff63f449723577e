"""Reason codes: closed, explained, and explainable with whatever context is at hand."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.reasons import _EXPLANATIONS, Reason, explain

PLACEHOLDERS = [
    name
    for template in _EXPLANATIONS.values()
    for _, name, _, _ in string.Formatter().parse(template)
    if name
]
context_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_an_explanation(reason: Reason) -> None:
    assert reason in _EXPLANATIONS
    sentence = explain(reason)
    assert sentence.strip()
    assert sentence.rstrip().endswith(".")


@pytest.mark.parametrize("reason", list(Reason))
def test_explain_never_raises_with_missing_context(reason: Reason) -> None:
    for context in (None, {}, {"unrelated": 1}):
        sentence = explain(reason, context)
        assert "{" not in sentence
        assert "}" not in sentence


def test_explanations_cover_exactly_the_reasons() -> None:
    assert set(_EXPLANATIONS) == set(Reason)


def test_reason_codes_are_unique_and_travel_as_plain_strings() -> None:
    values = [reason.value for reason in Reason]
    assert len(values) == len(set(values))
    assert Reason("already_scanned") is Reason.ALREADY_SCANNED
    assert f"{Reason.BAD_SIGNATURE}" == "bad_signature"


def test_context_fills_the_sentence() -> None:
    sentence = explain(
        Reason.ALREADY_SCANNED,
        {"when": "21:04", "gate": "Gate B", "device_suffix": " (door-2)"},
    )
    assert sentence == "Already scanned 21:04 at Gate B (door-2)."
    assert explain(Reason.NOT_ENOUGH_STAMPS, {"current": 3, "max": 5}) == (
        "Only 3 of 5 stamps: the prize needs a full card."
    )


@settings(max_examples=200)
@given(
    reason=st.sampled_from(list(Reason)),
    context=st.dictionaries(
        st.one_of(st.sampled_from(PLACEHOLDERS), st.text(max_size=10)),
        context_values,
        max_size=6,
    ),
)
def test_explain_never_raises_with_any_partial_context(
    reason: Reason, context: dict[str, object]
) -> None:
    assert isinstance(explain(reason, context), str)
