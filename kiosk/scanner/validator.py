"""Turning a stream of per-frame reads into scans: one attendee, one scan.

Pure logic with an injectable clock; the decode thread feeds it one result per
decoded frame. Two rules, after Electrum's QR validator:

1. A code is accepted once it has been read in `required_frames` consecutive
   decoded frames, so a single misread frame never becomes a scan.
2. After a code is accepted it is suppressed while it stays in view and for
   `suppress_seconds` after it was last seen, so a phone held up for ten
   seconds is still one scan. The window is per code: a different code is
   accepted at once, and going back and forth between two phones does not
   re-admit either within the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_REQUIRED_FRAMES = 2
DEFAULT_SUPPRESS_SECONDS = 5.0


class ScanValidator:
    """Accepts a code after consecutive sightings and suppresses repeats of it for a window."""

    def __init__(
        self,
        *,
        required_frames: int = DEFAULT_REQUIRED_FRAMES,
        suppress_seconds: float = DEFAULT_SUPPRESS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if required_frames < 1:
            raise ValueError(f"required_frames must be at least 1, got {required_frames}")
        if suppress_seconds < 0:
            raise ValueError(f"suppress_seconds must not be negative, got {suppress_seconds}")
        self.required_frames = required_frames
        self.suppress_seconds = suppress_seconds
        self._clock = clock
        self._streak_text: str | None = None
        self._streak_length = 0
        self._last_seen: dict[str, float] = {}  # accepted codes -> last time one was read

    def feed(self, text: str | None) -> str | None:
        """Record one decoded frame's code (None: no code) and return it if it is a new scan."""
        now = self._clock()
        self._forget_expired(now)
        if text is None:
            self._streak_text, self._streak_length = None, 0
            return None
        if text == self._streak_text:
            self._streak_length += 1
        else:
            self._streak_text, self._streak_length = text, 1

        if text in self._last_seen:
            self._last_seen[text] = now  # still in view: the window restarts
            return None
        if self._streak_length < self.required_frames:
            return None
        self._last_seen[text] = now
        return text

    def reset(self) -> None:
        """Forget streaks and suppressed codes (e.g. when the door mode changes)."""
        self._streak_text, self._streak_length = None, 0
        self._last_seen.clear()

    def _forget_expired(self, now: float) -> None:
        expired = [
            text for text, seen in self._last_seen.items() if now - seen >= self.suppress_seconds
        ]
        for text in expired:
            del self._last_seen[text]
