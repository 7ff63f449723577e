"""A pooled PostgreSQL connection is tested before it is lent only after it has idled.

Real PostgreSQL: a backend is ended with `pg_terminate_backend`, as a
database restart would end it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from server.db import session as sessions
from tests.conftest import postgres_url


@pytest.fixture
def engine() -> Iterator[Engine]:
    made = sessions.make_engine(postgres_url(), pool_size=1, max_overflow=0)
    yield made
    made.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def _end_backend(pid: int) -> None:
    other = sessions.make_engine(postgres_url(), pool_size=1, max_overflow=0)
    try:
        with other.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        other.dispose()


def test_a_connection_that_idled_is_pinged_and_a_dead_one_replaced_unseen(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(engine)
    _end_backend(first)
    monkeypatch.setattr(sessions, "PING_AFTER_IDLE_S", 0.0)  # every return counts as idle
    second = _backend(engine)  # no error: the ping found it gone, the pool lent a new one
    assert second != first


def test_a_busy_connection_is_lent_without_a_ping(engine: Engine) -> None:
    """Without a ping, a connection lost just after use fails its next statement once; the pool
    is replaced then, so the request after it is served."""
    first = _backend(engine)
    _end_backend(first)
    with pytest.raises(OperationalError):
        _backend(engine)
    assert _backend(engine) != first
