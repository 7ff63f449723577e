"""The signed QR token codec: round trips, tamper evidence, hostile input, QR size."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from core.reasons import Reason
from core.tokens import (
    RECORD_BYTES,
    TOKEN_LENGTH,
    SigningKey,
    TokenKind,
    issue_token,
    verify_token,
)

KEY = SigningKey.from_private_bytes(7, bytes(range(32)))
KEYS = {KEY.key_id: KEY.public_bytes()}
_DIGITS = TOKEN_LENGTH - 1
_RECORD_LIMIT = 2 ** (RECORD_BYTES * 8)


def make_tokens(count: int, seed: int = 2024) -> list[str]:
    """Valid tokens of every kind with random subjects, scopes and issue times."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    return [
        issue_token(
            KEY,
            list(TokenKind)[index % len(TokenKind)],
            uuid.UUID(int=rng.getrandbits(128)),
            uuid.UUID(int=rng.getrandbits(128)),
            start + timedelta(seconds=rng.randrange(10**9)),
        )
        for index in range(count)
    ]


def encode_record(record: bytes) -> str:
    """A well-formed token text for any 103-byte record."""
    return "1" + str(int.from_bytes(record, "big")).zfill(_DIGITS)


def decode_record(token: str) -> bytes:
    """The 103-byte record inside a token text."""
    return int(token[1:]).to_bytes(RECORD_BYTES, "big")


@pytest.fixture(scope="module")
def hundred_tokens() -> list[str]:
    """One hundred valid tokens, all verifying."""
    tokens = make_tokens(100)
    assert all(verify_token(token, KEYS).ok for token in tokens)
    return tokens


# ---------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("kind", list(TokenKind))
def test_token_round_trips_its_claims_for_each_kind(kind: TokenKind) -> None:
    subject, scope = uuid.uuid4(), uuid.uuid4()
    issued = datetime(2025, 2, 28, 21, 30, 15, 999_000, tzinfo=UTC)
    token = issue_token(KEY, kind, subject, scope, issued)
    result = verify_token(token, KEYS, expected_kind=kind)
    assert result.ok
    assert result.reason is None
    assert result.claims is not None
    assert result.claims.kind is kind
    assert result.claims.key_id == 7
    assert (result.claims.subject_id, result.claims.scope_id) == (subject, scope)
    assert result.claims.issued_at == issued.replace(microsecond=0)


def test_token_without_scope_carries_the_nil_scope() -> None:
    token = issue_token(KEY, TokenKind.PASSPORT, uuid.uuid4())
    result = verify_token(token, KEYS)
    assert result.claims is not None
    assert result.claims.scope_id == uuid.UUID(int=0)


def test_every_token_is_250_decimal_digits() -> None:
    for token in make_tokens(30, seed=1):
        assert len(token) == TOKEN_LENGTH == 250
        assert token.isdigit()
        assert token.startswith("1")


def test_key_survives_a_trip_through_its_private_bytes() -> None:
    again = SigningKey.from_private_bytes(7, KEY.private_bytes())
    assert again.public_bytes() == KEY.public_bytes()


@pytest.mark.parametrize("key_id", [0, -1, 2**16])
def test_key_ids_outside_two_bytes_are_refused(key_id: int) -> None:
    with pytest.raises(ValueError, match="key id"):
        SigningKey.generate(key_id)


# ----------------------------------------------------------------------- refusals by kind


def test_token_from_an_unknown_key_gives_unknown_key() -> None:
    token = issue_token(SigningKey.generate(8), TokenKind.TICKET, uuid.uuid4())
    assert verify_token(token, KEYS).reason is Reason.UNKNOWN_KEY


def test_token_of_the_wrong_kind_gives_wrong_kind() -> None:
    token = issue_token(KEY, TokenKind.PASSPORT, uuid.uuid4())
    result = verify_token(token, KEYS, expected_kind=TokenKind.TICKET)
    assert not result.ok
    assert result.claims is None
    assert result.reason is Reason.WRONG_KIND


def test_token_of_another_key_with_the_same_id_gives_bad_signature() -> None:
    impostor = SigningKey.generate(KEY.key_id)
    token = issue_token(impostor, TokenKind.TICKET, uuid.uuid4())
    assert verify_token(token, KEYS).reason is Reason.BAD_SIGNATURE


def test_a_garbled_public_key_gives_bad_signature_not_an_exception() -> None:
    token = issue_token(KEY, TokenKind.TICKET, uuid.uuid4())
    assert verify_token(token, {KEY.key_id: b"short"}).reason is Reason.BAD_SIGNATURE


# ------------------------------------------------------------------------ tamper evidence
# Exhaustive on purpose: 100 tokens x (250 characters x 8 bits, then 103 bytes x 8 bits).


@pytest.mark.slow  # ~80k Ed25519 verifications
def test_every_single_bit_flip_of_the_token_text_is_rejected(hundred_tokens: list[str]) -> None:
    accepted = []
    for token in hundred_tokens:
        for position, char in enumerate(token):
            for bit in range(8):
                mutated = f"{token[:position]}{chr(ord(char) ^ (1 << bit))}{token[position + 1 :]}"
                result = verify_token(mutated, KEYS)
                if result.ok or result.reason is None:
                    accepted.append((token, position, bit))
    assert accepted == []


@pytest.mark.slow  # ~80k Ed25519 verifications
def test_every_single_bit_flip_of_the_binary_record_is_rejected(hundred_tokens: list[str]) -> None:
    accepted = []
    for token in hundred_tokens:
        record = decode_record(token)
        assert encode_record(record) == token
        for bit in range(RECORD_BYTES * 8):
            flipped = int.from_bytes(record, "big") ^ (1 << bit)
            mutated = encode_record(flipped.to_bytes(RECORD_BYTES, "big"))
            result = verify_token(mutated, KEYS)
            if result.ok or result.reason is None:
                accepted.append((token, bit))
    assert accepted == []


# -------------------------------------------------------------------------- hostile input


def assert_refused(value: object) -> None:
    """Verification returns a refusal with a reason (and raising would fail the test)."""
    result = verify_token(value, KEYS, expected_kind=TokenKind.TICKET)
    assert not result.ok
    assert result.claims is None
    assert isinstance(result.reason, Reason)


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text_is_refused_without_raising(text: str) -> None:
    assert_refused(text)


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_read_as_latin1_are_refused_without_raising(raw: bytes) -> None:
    assert_refused(raw.decode("latin-1"))


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=_DIGITS, max_size=_DIGITS))
def test_random_250_digit_strings_are_refused_without_raising(digits: str) -> None:
    assert_refused("1" + digits)


@settings(max_examples=300)
@given(st.integers(0, _RECORD_LIMIT - 1))
def test_random_records_in_range_are_refused_without_raising(value: int) -> None:
    assert_refused(encode_record(value.to_bytes(RECORD_BYTES, "big")))


@settings(max_examples=200)
@given(kind=st.sampled_from(list(TokenKind)), rest=st.binary(min_size=100, max_size=100))
def test_random_records_under_a_known_key_give_bad_signature(kind: TokenKind, rest: bytes) -> None:
    record = bytes([int(kind)]) + KEY.key_id.to_bytes(2, "big") + rest
    result = verify_token(encode_record(record), KEYS)
    assert result.reason is Reason.BAD_SIGNATURE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "1" * 10**6,
        "9" * 10**7,
        "1" + "9" * _DIGITS,  # beyond any 103-byte record
        "1" + "0" * _DIGITS,  # kind 0
        "2" + "0" * _DIGITS,  # unknown format version
        "１" * TOKEN_LENGTH,  # full-width digits
        "¹" + "²" * _DIGITS,  # superscripts count as digits to str.isdigit
        " " + "1" * (TOKEN_LENGTH - 1),
        "1" * (TOKEN_LENGTH - 1) + "\n",
        "-" + "1" * (TOKEN_LENGTH - 1),
        "1" + "_".join(["1"] * 125)[:_DIGITS],
        "\x00" * TOKEN_LENGTH,
    ],
)
def test_malformed_and_huge_strings_are_refused(text: str) -> None:
    assert_refused(text)


@settings(max_examples=200)
@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.binary(max_size=300),
        st.lists(st.text(max_size=5), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
        st.tuples(st.text(alphabet="0123456789", min_size=250, max_size=250)),
    )
)
def test_arbitrary_non_text_values_are_refused_without_raising(value: object) -> None:
    assert_refused(value)


class _Text(str):
    """A str subclass, as some decoders return."""

    __slots__ = ()


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        1.5,
        True,
        b"1" * TOKEN_LENGTH,
        bytearray(b"1" * TOKEN_LENGTH),
        memoryview(b"1" * TOKEN_LENGTH),
        ["1" * TOKEN_LENGTH],
        {"qr": "1"},
        object(),
        int("1" + "0" * _DIGITS),
        _Text("nope"),
    ],
    ids=lambda value: type(value).__name__,  # not repr: no addresses, the same in every process
)
def test_values_that_are_not_text_are_refused(value: object) -> None:
    assert_refused(value)


# -------------------------------------------------------------------------------- QR size


def test_ticket_token_fits_qr_version_6_at_medium_error_correction() -> None:
    for token in make_tokens(12, seed=6):
        code = segno.make(token, error="m", boost_error=False)
        assert code.mode == "numeric"
        assert code.error == "M"
        assert isinstance(code.version, int)  # a full QR code, not a micro one
        assert code.version <= 6
