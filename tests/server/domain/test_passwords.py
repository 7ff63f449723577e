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


def test_new_hashes_use_owasps_minimum_argon2id_parameters() -> None:
    """19 MiB, two passes, one lane: OWASP's recommended minimum, a fraction of the default."""
    from argon2 import extract_parameters

    found = extract_parameters(accounts.hash_password("Steelpan-Jouvert-Morning!"))
    assert (found.type.name, found.memory_cost, found.time_cost, found.parallelism) == (
        "ID",
        19 * 1024,
        2,
        1,
    )


def test_a_login_upgrades_a_hash_made_with_older_parameters(session: Session) -> None:
    from argon2 import PasswordHasher

    from tests.server.factories import make_user

    password = "Steelpan-Jouvert-Morning!"
    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(password)
    user = make_user(session, email="old@example.com", password_hash=old)
    assert not accounts.verify_password(user, "wrong password")
    assert user.password_hash == old  # a wrong password changes nothing
    assert accounts.verify_password(user, password)
    upgraded = user.password_hash
    assert upgraded != old and "m=19456,t=2,p=1" in upgraded
    assert accounts.verify_password(user, password)
    assert user.password_hash == upgraded  # already current: left alone
