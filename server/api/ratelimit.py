"""A small sliding-window limiter for failed attempts (login, pairing), keyed by client address.

It is **per process and in memory**: each server process counts on its own
and a restart forgets. That is enough for one `soca-server serve`; several
workers behind a balancer multiply the allowance by the number of
processes (a shared store would be needed there).

Only failures count. While an address has `limit` failures inside the last
`window` seconds, `check` refuses it with 429 and a `Retry-After` of the
seconds until its oldest failure leaves the window. Success does not clear
the count, so a valid login cannot be used to reset a guessing run.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from server.api.errors import TooManyRequests


class SlidingWindowLimiter:
    """Failures per key in the last `window` seconds, refused once they reach `limit`."""

    def __init__(
        self,
        *,
        limit: int,
        window: float,
        what: str,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.what = what
        self.clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if len(times) < self.limit:
                return None
            return max(1, math.ceil(times[0] + self.window - now))

    def check(self, key: str) -> None:
        """Raise TooManyRequests while `key` is over its allowance."""
        wait = self.retry_after(key)
        if wait is not None:
            raise TooManyRequests(
                f"Too many failed {self.what} attempts from this address; "
                f"try again in {wait} seconds.",
                retry_after=wait,
            )

    def record_failure(self, key: str) -> None:
        """Count one failed attempt for `key`."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def clear(self) -> None:
        """Forget every count."""
        with self._lock:
            self._failures.clear()
