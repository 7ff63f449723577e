"""The database-backed rate limiter: sliding windows, refusals that do not count, releases,
keys stored hashed, expired rows purged, and bursts from many connections held to the limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.api.errors import TooManyRequests
from server.api.ratelimit import RateLimiter, Rule, Rules, key_of
from server.db.models import RateLimitCounter
from server.settings import ServerSettings

RULE = Rule("test", 3, 60, "Too many tries")


def _limiter(now: list[float]) -> RateLimiter:
    rules = Rules.from_settings(ServerSettings(database_url="sqlite://", secret_key="x"))
    return RateLimiter(rules, clock=lambda: now[0])


def _hits(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(RateLimitCounter.hits), 0))))


def test_refuses_over_the_limit_until_the_window_slides_on(session: Session) -> None:
    now = [6000.0]  # the start of a window
    limiter = _limiter(now)
    for second in (0.0, 10.0, 20.0):
        now[0] = 6000.0 + second
        limiter.reserve(session, [(RULE, "a")])
    now[0] = 6030.0
    with pytest.raises(TooManyRequests) as refused:
        limiter.reserve(session, [(RULE, "a")])
    # One more fits once this window is the previous one and a third of it has slid out.
    assert refused.value.headers == {"Retry-After": "50"}
    assert "Too many tries; try again in 50 seconds." in refused.value.message
    assert _hits(session) == 3  # the refused attempt was not counted
    limiter.reserve(session, [(RULE, "b")])  # another key has its own allowance
    # 45 s into the next window only a quarter of the previous one still counts: 0.75 + 0.
    now[0] = 6060.0 + 45
    limiter.reserve(session, [(RULE, "a")])
    limiter.reserve(session, [(RULE, "a")])
    with pytest.raises(TooManyRequests):
        limiter.reserve(session, [(RULE, "a")])  # 0.75 + 3 > 3


def test_a_released_attempt_does_not_count(session: Session) -> None:
    now = [6000.0]
    limiter = _limiter(now)
    for _ in range(10):
        limiter.release(session, limiter.reserve(session, [(RULE, "winner")]))
    limiter.reserve(session, [(RULE, "winner")])
    assert _hits(session) == 1


def test_one_refused_rule_refuses_the_attempt_and_counts_nothing(session: Session) -> None:
    now = [6000.0]
    limiter = _limiter(now)
    tight = Rule("tight", 1, 60, "Tight")
    limiter.reserve(session, [(tight, "x")])
    with pytest.raises(TooManyRequests) as refused:
        limiter.reserve(session, [(RULE, "y"), (tight, "x")])
    assert refused.value.message.startswith("Tight")
    assert _hits(session) == 1


def test_keys_are_stored_hashed_and_expired_rows_are_purged(session: Session) -> None:
    now = [6000.0]
    limiter = _limiter(now)
    limiter.purge_one_in = 1  # every new window's row purges (1 in 100 when serving)
    limiter.reserve(session, [(RULE, "203.0.113.9|kes@example.com")])
    stored = session.scalars(select(RateLimitCounter.key_hash)).all()
    assert stored == [key_of("203.0.113.9|kes@example.com")]
    assert "203.0.113.9" not in stored[0]
    now[0] = 6000.0 + 3 * 60  # two windows on: the first row no longer matters
    limiter.reserve(session, [(RULE, "someone else")])
    assert session.scalars(select(RateLimitCounter.key_hash)).all() == [key_of("someone else")]


def test_a_watched_rule_refuses_when_over_and_counts_only_what_is_recorded(
    session: Session,
) -> None:
    now = [6000.0]
    limiter = _limiter(now)
    crowd = Rule("crowd", 2, 60, "Too many from your address")
    for n in range(5):  # successes: watched, never counted
        limiter.release(
            session, limiter.reserve(session, [(RULE, f"fan{n}")], watch=[(crowd, "venue")])
        )
    assert _hits(session) == 0
    limiter.record(session, [(crowd, "venue")])
    limiter.record(session, [(crowd, "venue")])
    with pytest.raises(TooManyRequests) as refused:
        limiter.reserve(session, [(RULE, "fan9")], watch=[(crowd, "venue")])
    assert refused.value.message.startswith("Too many from your address")
    assert _hits(session) == 2  # the refused attempt's own charge was taken back


def test_a_burst_from_many_connections_gets_exactly_the_limit(
    committed_factory: sessionmaker[Session],
) -> None:
    limiter = _limiter([6000.0])
    rule = Rule("burst", 5, 60, "Burst")
    start = Barrier(12)

    def attempt(_n: int) -> bool:
        with committed_factory() as session:
            start.wait()
            try:
                limiter.reserve(session, [(rule, "crowd")])
            except TooManyRequests:
                return False
            return True

    with ThreadPoolExecutor(12) as pool:
        admitted = list(pool.map(attempt, range(12)))
    assert admitted.count(True) == 5
    with committed_factory() as session:
        assert _hits(session) == 5
