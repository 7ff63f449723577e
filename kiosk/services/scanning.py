"""What door and prize mode share: cleaning a scanned code, verifying it, refusing it politely."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec, TypeVar

from core.reasons import Reason
from core.tokens import TokenClaims, TokenKind, verify_token
from core.wire import MAX_QR_LENGTH
from kiosk.errors import StoreError
from kiosk.services.verdict import Verdict, refused
from kiosk.store.cache import Cache

P = ParamSpec("P")
T = TypeVar("T")

_KIND_NAMES = {
    TokenKind.TICKET: "ticket",
    TokenKind.PASSPORT: "passport",
    TokenKind.PURCHASE: "package purchase",
}

_TOKEN_HEADLINES = {
    Reason.BAD_FORMAT: "Not a Soca Passport code",
    Reason.UNKNOWN_KEY: "Unknown code key: sync, then scan again",
    Reason.BAD_SIGNATURE: "Invalid code: forged or damaged",
}


def clean_code(code: object) -> str | None:
    """The scanned text without surrounding whitespace (a keyboard wedge adds a newline).

    Returns None for anything that cannot be a QR code's text: not text, empty,
    or longer than any QR code holds.
    """
    if isinstance(code, bytes | bytearray):
        try:
            code = bytes(code).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(code, str):
        return None
    text = code.strip()
    if not text or len(text) > MAX_QR_LENGTH:
        return None
    return text


def kind_name(kind: TokenKind) -> str:
    """A token kind as people say it."""
    return _KIND_NAMES[kind]


def verify_scan(
    code: object, cache: Cache, expected: tuple[TokenKind, ...]
) -> tuple[str, TokenClaims] | Verdict:
    """The code's text and claims when authentic, of an expected kind and not revoked; else red."""
    text = clean_code(code)
    if text is None:
        return refused(Reason.BAD_FORMAT, _TOKEN_HEADLINES[Reason.BAD_FORMAT])
    verification = verify_token(text, cache.active_keys())
    claims = verification.claims
    if claims is None:
        reason = verification.reason or Reason.BAD_FORMAT
        return refused(reason, _TOKEN_HEADLINES.get(reason, "Code refused"))
    if claims.kind not in expected:
        wanted = " or ".join(kind_name(kind) for kind in expected)
        return refused(
            Reason.WRONG_KIND,
            f"This is a {kind_name(claims.kind)} code",
            actual=kind_name(claims.kind),
            expected=wanted,
        )
    if cache.is_token_revoked(claims.kind, claims.subject_id, claims.issued_at):
        what = kind_name(claims.kind)
        return refused(
            Reason.REVOKED,
            f"This {what} has been revoked",
            what=what,
            subject_id=claims.subject_id,  # whose: a door names the ticket's holder
        )
    return text, claims


def describe_when(moment: datetime, now: datetime) -> str:
    """A time as a door person reads it, in the kiosk's local time: '21:04' or '3 Mar 21:04'."""
    local, local_now = moment.astimezone(), now.astimezone()
    if local.date() == local_now.date():
        return local.strftime("%H:%M")
    return f"{local.day} {local.strftime('%b %H:%M')}"


def storage_errors(function: Callable[P, T]) -> Callable[P, T]:
    """Translate SQLite failures inside an operation into `StoreError` (the kiosk's error tree)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"the kiosk database failed: {exc}") from exc

    return wrapper
