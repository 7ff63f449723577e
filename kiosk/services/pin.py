"""Kiosk mode's PIN: stored as a salted scrypt hash, checked with a growing wait after misses.

`hash_pin` makes the stored form, `scrypt$<n>$<r>$<p>$<salt>$<hash>` (base64,
stdlib `hashlib.scrypt`, so the kiosk needs no server-side dependency);
`verify_pin` compares in constant time. `PinGuard` is what a lock screen asks:
after `free_attempts` wrong PINs in a row each further miss makes the next try
wait twice as long (5 s, 10 s, ... up to 5 minutes). Like the lock itself this
keeps a guest from leaving the door screen; it is no defence against someone
with the machine's keyboard and the OS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.errors import PinError

PIN_MIN_LENGTH = 4
PIN_MAX_LENGTH = 32
_SCHEME = "scrypt"
_N, _R, _P = 2**14, 8, 1  # about 16 MiB and a few tens of ms: fine for one check per attempt
_DKLEN = 32


def check_new_pin(pin: str, confirmation: str | None = None) -> str:
    """The PIN to store, or PinError when it is too short/long or the confirmation differs."""
    if not PIN_MIN_LENGTH <= len(pin) <= PIN_MAX_LENGTH:
        raise PinError(f"the PIN must be {PIN_MIN_LENGTH} to {PIN_MAX_LENGTH} characters long")
    if pin.strip() != pin:
        raise PinError("the PIN must not start or end with a space")
    if confirmation is not None and not hmac.compare_digest(pin.encode(), confirmation.encode()):
        raise PinError("the two PINs differ; nothing was changed")
    return pin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=2**26)


def hash_pin(pin: str) -> str:
    """The stored form of `pin`: a fresh salt and its scrypt hash."""
    salt = secrets.token_bytes(16)
    digest = _derive(pin, salt, _N, _R, _P)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches the stored hash; False for a wrong PIN or a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _derive(pin, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:  # a hand-edited config: wrong field count, bad base64 or numbers
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True, slots=True)
class PinCheck:
    """One attempt's outcome: `ok`, or wrong; `wait_s` > 0 while further tries must wait."""

    ok: bool
    wait_s: float = 0.0


class PinGuard:
    """Checks PIN attempts against a stored hash (or a plain PIN), slowing down repeated misses.

    Not thread-safe: one lock screen owns it, in the GUI thread.
    """

    def __init__(
        self,
        verify: Callable[[str], bool],
        *,
        free_attempts: int = 3,
        first_wait_s: float = 5.0,
        max_wait_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verify = verify
        self._free_attempts = free_attempts
        self._first_wait_s = first_wait_s
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._misses = 0
        self._blocked_until = 0.0

    @classmethod
    def from_hash(cls, stored: str, *, clock: Callable[[], float] = time.monotonic) -> PinGuard:
        """A guard for a PIN stored by `hash_pin` (what `soca-kiosk pin set` saves)."""
        return cls(lambda pin: verify_pin(pin, stored), clock=clock)

    @classmethod
    def from_pin(cls, pin: str, *, clock: Callable[[], float] = time.monotonic) -> PinGuard:
        """A guard for a PIN given in plain text (`--pin`)."""
        expected = pin.encode()
        return cls(lambda typed: hmac.compare_digest(typed.encode(), expected), clock=clock)

    def wait_s(self) -> float:
        """Seconds before the next attempt is allowed (0 when it is allowed now)."""
        return max(0.0, self._blocked_until - self._clock())

    def check(self, pin: str) -> PinCheck:
        """Try `pin`: right resets the misses, wrong counts one; nothing is tried while waiting."""
        waiting = self.wait_s()
        if waiting > 0:
            return PinCheck(ok=False, wait_s=waiting)
        if self._verify(pin):
            self._misses = 0
            return PinCheck(ok=True)
        self._misses += 1
        extra = self._misses - self._free_attempts
        if extra <= 0:
            return PinCheck(ok=False)
        wait = min(self._first_wait_s * 2 ** (extra - 1), self._max_wait_s)
        self._blocked_until = self._clock() + wait
        return PinCheck(ok=False, wait_s=wait)
