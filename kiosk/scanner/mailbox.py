"""A one-slot, thread-safe hand-over of the newest frame from capture to decode.

The capture thread `put`s every frame; a frame not yet taken is replaced, so
the decoder always works on the newest picture and nothing ever queues up
behind a slow decode. The decode thread `take`s, waiting a little when the
slot is empty. `close` tells the taker no more frames will come.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestOnlyMailbox(Generic[T]):
    """Holds at most one item: `put` replaces, `take` empties."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.replaced = 0  # items overwritten before anyone took them

    def put(self, item: T) -> None:
        """Leave `item` for the taker, replacing any item still waiting."""
        with self._condition:
            if self._item is not None:
                self.replaced += 1
            self._item = item
            self._condition.notify()

    def take(self, timeout: float) -> T | None:
        """The waiting item, or None if none arrives within `timeout` seconds or it is closed."""
        with self._condition:
            self._condition.wait_for(lambda: self._item is not None or self._closed, timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        """No more items will be put; wakes a waiting taker."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def drained(self) -> bool:
        """True once closed and the last item has been taken."""
        with self._condition:
            return self._closed and self._item is None
