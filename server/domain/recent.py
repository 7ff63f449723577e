"""A value a crowd's pages all show and that rarely changes, read at most once every few seconds.

The landing page's counts and the point tiers every /passport shows are the
same for every visitor: one app (one worker process) keeps the last reading
for a few seconds, so a crowd costs the database one reading per interval.
A change made through the app calls `forget`; the app's other worker
processes show it within the interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


class Recent(Generic[T]):
    """`load(session)`, read again when the last reading is older than `ttl` seconds.

    Thread-safe: requests on the worker threads of one app share it. Two threads
    that find it stale at once both read; the later reading is kept. The value
    is shared, so it must not be changed by its readers.
    """

    def __init__(
        self, load: Callable[[Session], T], ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._load = load
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._read_at = 0.0

    def get(self, session: Session) -> T:
        """The value, read again when the last reading is older than `ttl`."""
        with self._lock:
            if self._value is not None and self._clock() - self._read_at < self.ttl:
                return self._value
        value = self._load(session)
        with self._lock:
            self._value, self._read_at = value, self._clock()
        return value

    def forget(self) -> None:
        """Drop the reading (the app has just changed what it was read from)."""
        with self._lock:
            self._value = None
