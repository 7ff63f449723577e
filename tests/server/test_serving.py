"""`soca-server serve --workers N` as a real process: what its own sockets do."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import httpx

from server.devtools import ServerProcess
from server.serving import worker_count
from server.settings import ServerSettings


def _median_ms(call: object, samples: int = 25) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        assert call() == 200  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def test_kept_alive_requests_on_two_workers_are_not_slower_than_new_connections(
    tmp_path: Path,
) -> None:
    """Nagle's algorithm is off on the workers' sockets: no delayed-ACK wait (~40 ms) on a
    kept-alive connection, which browsers and the kiosk's client both use."""
    server = ServerProcess(f"sqlite:///{tmp_path / 'nodelay.sqlite3'}", workers=2)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            for _ in range(3):  # warm up: the connection, the route, the database
                client.get("/health")
            kept = _median_ms(lambda: client.get("/health").status_code)
        single = httpx.Limits(max_keepalive_connections=0)  # a new connection per request
        with httpx.Client(base_url=server.base_url, timeout=10, limits=single) as fresh_client:
            fresh = _median_ms(lambda: fresh_client.get("/health").status_code)
    finally:
        server.stop()
    # Before the fix: kept-alive about 44 ms against 4 ms on a new connection.
    assert kept < fresh + 15, (kept, fresh)


def test_worker_count_is_the_setting_else_one_per_core_on_postgresql() -> None:
    postgres = "postgresql://postgres@127.0.0.1:5432/test"
    cores = len(os.sched_getaffinity(0))
    assert worker_count(ServerSettings(database_url=postgres, secret_key="k")) == cores
    assert worker_count(ServerSettings(database_url=postgres, secret_key="k", workers=3)) == 3
    assert worker_count(ServerSettings(database_url="sqlite://", secret_key="k")) == 1
