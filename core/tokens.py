"""Signed QR tokens that a kiosk verifies offline.

A token is the text a QR code carries: a one-digit format version followed by
the decimal digits of a fixed 103-byte record

    kind (1) | key id (2) | subject UUID (16) | scope UUID (16) | issued (4) | signature (64)

Decimal digits put the whole token in QR *numeric* mode, which costs 3.33 bits
per digit: 8.03 bits per byte of payload, against 8.8 for upper-case base32 in
alphanumeric mode. A ticket token is 250 digits and fits QR version 6 at
error correction M (41x41 modules); base32 of the same bytes would need
version 7. The signature covers a domain-separation tag and the first 39
bytes. Verification never raises on hostile input: it returns a
`Verification` whose `reason` says what is wrong.
"""

from __future__ import annotations

import enum
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.reasons import Reason

FORMAT_VERSION = "1"
_SIGNED_TAG = b"soca-passport/qr-token/v1\x00"
_BODY = struct.Struct(">BH16s16sI")  # kind, key id, subject, scope, issued (unix seconds)
_SIGNATURE_BYTES = 64
RECORD_BYTES = _BODY.size + _SIGNATURE_BYTES  # 103
_DIGITS = len(str(2 ** (RECORD_BYTES * 8) - 1))  # 249 digits hold any 103-byte record
TOKEN_LENGTH = len(FORMAT_VERSION) + _DIGITS  # 250
_RECORD_LIMIT = 2 ** (RECORD_BYTES * 8)
NIL_SCOPE = uuid.UUID(int=0)


class TokenKind(enum.IntEnum):
    """What a token admits: a ticket to an event, a passport (stamp cards), a package purchase."""

    TICKET = 1
    PASSPORT = 2
    PURCHASE = 3


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The signed facts in a token."""

    kind: TokenKind
    key_id: int
    subject_id: uuid.UUID
    scope_id: uuid.UUID
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class Verification:
    """Outcome of verifying a token: `claims` when valid, otherwise a `reason`."""

    claims: TokenClaims | None
    reason: Reason | None

    @property
    def ok(self) -> bool:
        """True when the token is authentic and of the expected kind."""
        return self.claims is not None and self.reason is None


class SigningKey:
    """An Ed25519 private key with the small integer id tokens carry."""

    def __init__(self, key_id: int, private_key: Ed25519PrivateKey) -> None:
        if not 0 < key_id < 2**16:
            raise ValueError(f"key id must be in 1..65535, got {key_id}")
        self.key_id = key_id
        self._private_key = private_key

    @classmethod
    def generate(cls, key_id: int) -> SigningKey:
        """Create a fresh random key."""
        return cls(key_id, Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, key_id: int, raw: bytes) -> SigningKey:
        """Load a key from its 32 raw private bytes."""
        return cls(key_id, Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        """The 32 raw private bytes, for storage on the server only."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        return self._private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def public_bytes(self) -> bytes:
        """The 32 raw public bytes kiosks receive in their pull."""
        return self._private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        """Sign raw bytes."""
        return self._private_key.sign(message)


def issue_token(
    key: SigningKey,
    kind: TokenKind,
    subject_id: uuid.UUID,
    scope_id: uuid.UUID | None = None,
    issued_at: datetime | None = None,
) -> str:
    """Sign the claims and return the token text for a QR code."""
    issued = issued_at or datetime.now(UTC)
    body = _BODY.pack(
        int(kind),
        key.key_id,
        subject_id.bytes,
        (scope_id or NIL_SCOPE).bytes,
        int(issued.timestamp()),
    )
    record = body + key.sign(_SIGNED_TAG + body)
    return FORMAT_VERSION + str(int.from_bytes(record, "big")).zfill(_DIGITS)


def _fail(reason: Reason) -> Verification:
    return Verification(claims=None, reason=reason)


@dataclass(frozen=True, slots=True)
class _Parsed:
    claims: TokenClaims
    body: bytes
    signature: bytes


def _parse(text: object) -> _Parsed | None:
    """Split a well-formed token into claims, signed body and signature; None if malformed."""
    if not isinstance(text, str) or len(text) != TOKEN_LENGTH:
        return None
    if not text.startswith(FORMAT_VERSION) or not text.isascii() or not text.isdigit():
        return None
    value = int(text[len(FORMAT_VERSION) :])
    if value >= _RECORD_LIMIT:
        return None
    record = value.to_bytes(RECORD_BYTES, "big")
    body, signature = record[: _BODY.size], record[_BODY.size :]
    kind_value, key_id, subject, scope, issued = _BODY.unpack(body)
    if kind_value not in TokenKind._value2member_map_:
        return None
    claims = TokenClaims(
        kind=TokenKind(kind_value),
        key_id=key_id,
        subject_id=uuid.UUID(bytes=subject),
        scope_id=uuid.UUID(bytes=scope),
        issued_at=datetime.fromtimestamp(issued, UTC),
    )
    return _Parsed(claims, body, signature)


def peek_claims(text: object) -> TokenClaims | None:
    """What a well-formed token claims, NOT verified: only for prefetching, never for decisions."""
    parsed = _parse(text)
    return parsed.claims if parsed else None


def verify_token(
    text: object,
    public_keys: Mapping[int, bytes],
    expected_kind: TokenKind | None = None,
) -> Verification:
    """Check a token's format and signature against known public keys; never raises."""
    parsed = _parse(text)
    if parsed is None:
        return _fail(Reason.BAD_FORMAT)
    raw_public = public_keys.get(parsed.claims.key_id)
    if raw_public is None:
        return _fail(Reason.UNKNOWN_KEY)
    try:
        Ed25519PublicKey.from_public_bytes(raw_public).verify(
            parsed.signature, _SIGNED_TAG + parsed.body
        )
    except (InvalidSignature, ValueError):
        return _fail(Reason.BAD_SIGNATURE)
    if expected_kind is not None and parsed.claims.kind is not expected_kind:
        return _fail(Reason.WRONG_KIND)
    return Verification(claims=parsed.claims, reason=None)
