"""Time as both programs see it: aware UTC datetimes from an injectable clock.

A kiosk stamps every op with two times: `device_clock`, its raw clock, kept for
audit, and `occurred_at`, its best estimate of true time — the raw clock
corrected by the offset it measured at its last sync (`measure_offset`, the
NTP midpoint rule). Code that needs "now" takes a `Clock`, so tests pass a
`FixedClock` instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware datetime."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    """Return `moment` in UTC; raise ValueError if it is naive."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and replays."""

    def __init__(self, at: datetime) -> None:
        self._at = require_aware(at, "at")

    def now(self) -> datetime:
        """The time it was set to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Jump to another time."""
        self._at = require_aware(at, "at")

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (or back, with a negative delta) and return the new time."""
        self._at += delta
        return self._at


class CorrectedClock:
    """A clock shifted by a measured offset: `base.now() + offset` estimates true time."""

    def __init__(self, base: Clock, offset: timedelta = timedelta(0)) -> None:
        self.base = base
        self.offset = offset

    def now(self) -> datetime:
        """The base clock's time corrected by the offset, in UTC."""
        return require_aware(self.base.now(), "base clock time") + self.offset


def measure_offset(sent_at: datetime, server_time: datetime, received_at: datetime) -> timedelta:
    """Offset to add to the local clock: server time minus the request's round-trip midpoint."""
    sent = require_aware(sent_at, "sent_at")
    received = require_aware(received_at, "received_at")
    if received < sent:
        raise ValueError("received_at is before sent_at: the local clock jumped during the request")
    midpoint = sent + (received - sent) / 2
    return require_aware(server_time, "server_time") - midpoint
