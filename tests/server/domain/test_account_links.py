"""Single-use account links and setting a password through one: hashed, expiring, spent once,
bound to their purpose; the password policy; the other sign-ins end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AccountLink, ApiToken
from server.db.models.enums import LinkPurpose, TokenKind
from server.domain import account_links, accounts, passwords
from server.domain.account_links import LinkExpired, LinkUnknown, LinkUsed
from server.domain.promoters import FieldErrors
from tests.server.api.world import password_hash
from tests.server.factories import T0, make_user

RESET = LinkPurpose.RESET


def test_a_link_is_stored_hashed_and_redeemed_once(session: Session) -> None:
    user = make_user(session, email="fan@example.com")
    token = account_links.issue(session, user=user, purpose=RESET, now=T0)
    stored = session.scalars(select(AccountLink.token_hash)).all()
    assert stored == [accounts.hash_token(token)] and token not in stored
    assert account_links.check(session, token=token, purpose=RESET, now=T0).id == user.id
    redeemed = account_links.redeem(session, token=token, purpose=RESET, now=T0)
    assert redeemed.id == user.id
    with pytest.raises(LinkUsed) as refused:
        account_links.redeem(session, token=token, purpose=RESET, now=T0)
    assert refused.value.code == "link_used" and refused.value.status == 410
    with pytest.raises(LinkUsed):
        account_links.check(session, token=token, purpose=RESET, now=T0)


def test_a_link_expires_after_its_lifetime(session: Session) -> None:
    user = make_user(session)
    token = account_links.issue(
        session, user=user, purpose=RESET, ttl=timedelta(minutes=60), now=T0
    )
    just_in_time = T0 + timedelta(minutes=59, seconds=59)
    assert account_links.check(session, token=token, purpose=RESET, now=just_in_time)
    with pytest.raises(LinkExpired):
        account_links.redeem(session, token=token, purpose=RESET, now=T0 + timedelta(minutes=60))
    with pytest.raises(LinkExpired):
        account_links.check(session, token=token, purpose=RESET, now=T0 + timedelta(hours=2))


def test_unknown_tokens_and_other_purposes_are_refused(session: Session) -> None:
    user = make_user(session)
    invite = account_links.issue(session, user=user, purpose=LinkPurpose.INVITE, now=T0)
    for token, purpose in (("no-such-token", RESET), (invite, RESET)):
        with pytest.raises(LinkUnknown) as refused:
            account_links.redeem(session, token=token, purpose=purpose, now=T0)
        assert refused.value.status == 404
    assert account_links.redeem(session, token=invite, purpose=LinkPurpose.INVITE, now=T0)


def test_using_one_link_retires_the_accounts_other_open_links(session: Session) -> None:
    user, other = make_user(session), make_user(session)
    first = account_links.issue(session, user=user, purpose=RESET, now=T0)
    second = account_links.issue(session, user=user, purpose=RESET, now=T0)
    theirs = account_links.issue(session, user=other, purpose=RESET, now=T0)
    account_links.redeem(session, token=second, purpose=RESET, now=T0)
    with pytest.raises(LinkUsed):
        account_links.redeem(session, token=first, purpose=RESET, now=T0)
    assert account_links.redeem(session, token=theirs, purpose=RESET, now=T0).id == other.id


def test_a_lifetime_must_be_positive(session: Session) -> None:
    with pytest.raises(ValueError, match="positive"):
        account_links.issue(session, user=make_user(session), purpose=RESET, ttl=timedelta(0))


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8"),
        ("x" * 1025, "at most 1024"),
        ("tab\tinside!", "control character"),
        ("wine-n-grind", None),
    ],
)
def test_the_password_policy_says_what_is_wrong(password: str, problem: str | None) -> None:
    found = accounts.password_problem(password)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_setting_a_password_spends_the_link_and_ends_every_sign_in(session: Session) -> None:
    old = password_hash()  # hashed once per run: argon2 is slow on purpose
    user = make_user(session, email="fan@example.com", password_hash=old)
    other = make_user(session)
    accounts.issue_api_token(session, user_id=user.id, kind=TokenKind.WEB)
    accounts.issue_api_token(session, user_id=user.id, label="login")
    theirs = accounts.issue_api_token(session, user_id=other.id, kind=TokenKind.WEB)
    token = account_links.issue(session, user=user, purpose=RESET, now=T0)
    changed = passwords.set_password_with_link(
        session, token=token, purpose=RESET, password="violet-steelpan-mango-47", now=T0
    )
    assert changed.id == user.id
    assert user.password_hash != old
    assert accounts.password_matches(user.password_hash, "violet-steelpan-mango-47")
    live = session.scalars(select(ApiToken.user_id).where(ApiToken.revoked_at.is_(None))).all()
    still = accounts.check_token(
        session, theirs, kind=TokenKind.WEB, max_age=timedelta(days=14), now=T0
    )
    assert live == [other.id] and still.user is not None
    with pytest.raises(LinkUsed):
        account_links.check(session, token=token, purpose=RESET, now=T0)


def test_a_refused_password_leaves_the_link_unspent(session: Session) -> None:
    user = make_user(session)
    token = account_links.issue(session, user=user, purpose=RESET, now=T0)
    with pytest.raises(FieldErrors) as refused:
        passwords.set_password_with_link(
            session, token=token, purpose=RESET, password="short", now=T0
        )
    assert "at least 8" in refused.value.fields["password"]
    assert account_links.check(session, token=token, purpose=RESET, now=T0).id == user.id


def test_start_reset_finds_the_account_by_email_and_throttles_it(session: Session) -> None:
    user = make_user(session, email="Fan@Example.com")
    hour = timedelta(hours=1)
    assert passwords.start_reset(session, email="nobody@example.com", ttl=hour, now=T0) is None
    assert passwords.start_reset(session, email="  ", ttl=hour, now=T0) is None
    sent = [
        passwords.start_reset(session, email=" fan@EXAMPLE.com ", ttl=hour, now=T0)
        for _ in range(passwords.RESETS_PER_HOUR + 1)
    ]
    assert all(found is not None and found[0].id == user.id for found in sent[:-1])
    assert sent[-1] is None  # over the hourly allowance: nothing more is mailed
    later = passwords.start_reset(session, email="fan@example.com", ttl=hour, now=T0 + hour)
    assert later is not None
