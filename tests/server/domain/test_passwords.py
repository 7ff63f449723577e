"""The one password policy: long enough, not listed or guessable, not made of the account."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from server.domain import accounts
from server.domain.promoters import FieldErrors


@pytest.mark.parametrize(
    "password",
    ["12345678", "password", "Password1", "qwertyuiop", "iloveyou1", "carnival", "sunshine99"],
)
def test_common_passwords_are_refused(password: str) -> None:
    problem = accounts.password_problem(password)
    assert problem is not None and "too common" in problem


def test_passwords_made_of_the_account_are_refused() -> None:
    assert accounts.password_problem("kes_fan123", user_inputs=["kes_fan"]) is not None
    assert accounts.password_problem("roadmarch", user_inputs=["x@roadmarch.tt"]) is not None


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "wine-n-grind", "steelpan sunrise mango"]
)
def test_passphrases_pass(password: str) -> None:
    assert accounts.password_problem(password, user_inputs=["kes_fan"]) is None


def test_length_bounds() -> None:
    assert accounts.password_problem("Zq9#") == "Use at least 8 characters."
    assert accounts.password_problem("Zq9#mW2!" * 200) == "Use at most 1024 characters."
    assert "control character" in (accounts.password_problem("Zq9#\tmW2!vx") or "")


def test_every_place_that_sets_a_password_uses_the_policy(session: Session) -> None:
    with pytest.raises(FieldErrors) as refused:
        accounts.create_user(session, username="weak", display_name="W", password="password")
    assert set(refused.value.fields) == {"password"}
    user = accounts.create_user(session, username="strong", display_name="S")
    with pytest.raises(FieldErrors):
        accounts.set_password(session, user=user, password="strong12")
    accounts.set_password(session, user=user, password="steelpan sunrise mango")
    assert accounts.password_matches(user.password_hash, "steelpan sunrise mango")
