"""The printed ticket code: one shape on the server, recognised by the door in any case."""

from __future__ import annotations

import pytest

from core.ticket_codes import ALPHABET, new_ticket_code, ticket_code_key


def test_new_codes_are_two_groups_of_four_from_the_unambiguous_alphabet() -> None:
    codes = {new_ticket_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 9 and code[4] == "-"
        assert set(code.replace("-", "")) <= set(ALPHABET)
        assert ticket_code_key(code) == code.replace("-", "")


@pytest.mark.parametrize("typed", ["UN49-Y3NQ", "un49-y3nq", "un49y3nq", " Un49 Y3nq\n"])
def test_a_code_typed_any_way_reduces_to_its_key(typed: str) -> None:
    assert ticket_code_key(typed) == "UN49Y3NQ"


@pytest.mark.parametrize(
    "text", ["", "UN49-Y3N", "UN49-Y3NQ2", "UN49-Y3N0", "UNI9-Y3NQ", "hello world", "x" * 5000]
)
def test_anything_else_is_not_a_ticket_code(text: str) -> None:
    assert ticket_code_key(text) is None
