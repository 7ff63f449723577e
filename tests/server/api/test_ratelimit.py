"""The per-address sliding window for failed attempts."""

from __future__ import annotations

import pytest

from server.api.errors import TooManyRequests
from server.api.ratelimit import SlidingWindowLimiter


def _limiter(now: list[float], **kwargs: int) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(
        limit=kwargs.get("limit", 3),
        window=60,
        what="test",
        clock=lambda: now[0],
        max_keys=kwargs.get("max_keys", 100),
    )


def test_refuses_at_the_limit_until_the_oldest_failure_leaves_the_window() -> None:
    now = [0.0]
    limiter = _limiter(now)
    for second in (0.0, 10.0, 20.0):
        now[0] = second
        limiter.check("a")
        limiter.record_failure("a")
    now[0] = 30.0
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 30
    assert refused.value.headers == {"Retry-After": "30"}
    limiter.check("b")
    now[0] = 60.0
    limiter.check("a")  # the failure at 0 s has left the window
    limiter.record_failure("a")
    with pytest.raises(TooManyRequests):
        limiter.check("a")


def test_forgets_the_least_recent_addresses_beyond_max_keys() -> None:
    now = [0.0]
    limiter = _limiter(now, limit=1, max_keys=2)
    for key in ("a", "b", "c"):
        limiter.record_failure(key)
    limiter.check("a")
    with pytest.raises(TooManyRequests):
        limiter.check("c")
    limiter.clear()
    limiter.check("c")
