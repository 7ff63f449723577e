"""`soca-server serve --workers N` as a real process: what its own sockets do."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from server.devtools import ServerProcess, build_world
from server.serving import join_folder_parent, worker_count
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


@pytest.mark.parametrize("workers", [1, 2])
def test_a_server_asked_to_stop_answers_its_waiting_pulls_and_ends_at_once(
    tmp_path: Path, workers: int
) -> None:
    """uvicorn lets open requests finish before it stops: a door's waiting pull (up to 30 s)
    answers at once instead, so a restart takes seconds, not the wait."""
    url = f"sqlite:///{tmp_path / 'restart.sqlite3'}"
    engine = create_engine(url)
    world = build_world(engine, tickets=1, devices=1)
    engine.dispose()
    server = ServerProcess(url, workers=workers)
    server.start()
    answers: list[int] = []

    def wait_for_a_change() -> None:
        headers = {"Authorization": f"Bearer {world.tokens[0]}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            cursor = client.get("/api/v1/sync/pull", params={"limit": 1000}).json()["cursor"]
            ready.set()
            params = {"cursor": cursor, "wait": 30}
            answers.append(client.get("/api/v1/sync/pull", params=params).status_code)

    ready = threading.Event()
    door = threading.Thread(target=wait_for_a_change)
    door.start()
    try:
        assert ready.wait(30)
        time.sleep(1.0)  # the waiting pull has reached the server
        assert server.process is not None
        started = time.monotonic()
        server.process.terminate()
        status = server.process.wait(timeout=25)
        stopped_in = time.monotonic() - started
    finally:
        server.stop()
        door.join(timeout=40)
    assert status in (0, -signal.SIGTERM)  # uvicorn ends by re-raising the signal it caught
    assert answers == [200]  # the wait ended with an answer, not a dropped connection
    assert stopped_in < 5, stopped_in  # before: the whole 30 s wait


def _join_folders(parent: Path) -> set[Path]:
    return set(parent.glob("soca-join-*"))


def test_the_workers_join_folder_is_made_in_memory_and_removed_at_the_end(
    tmp_path: Path,
) -> None:
    """Every coalesced page creates and removes files in the join folder: on /dev/shm, not
    in the temporary folder on the disk, when the machine has it (the test machines do)."""
    url = f"sqlite:///{tmp_path / 'join.sqlite3'}"
    disk = tmp_path / "tmp"
    disk.mkdir()
    memory = Path("/dev/shm")
    before = _join_folders(memory)
    server = ServerProcess(url, workers=2, env={"TMPDIR": str(disk)})
    server.start()
    try:
        made = _join_folders(memory) - before  # another test's server may make one too
        assert made, "no join folder in /dev/shm"
        assert not _join_folders(disk)
    finally:
        server.stop()
    assert not _join_folders(disk)
    assert made - _join_folders(memory), "the server's folder outlived it"


def test_the_join_folder_falls_back_to_the_temporary_folder_without_a_memory_one(
    tmp_path: Path,
) -> None:
    assert join_folder_parent() == "/dev/shm"
    missing, read_only = tmp_path / "missing", tmp_path / "read-only"
    read_only.mkdir(mode=0o500)
    assert join_folder_parent([str(missing)]) is None
    if os.geteuid() != 0:  # root may write anywhere
        assert join_folder_parent([str(read_only)]) is None
    assert join_folder_parent([str(missing), str(tmp_path)]) == str(tmp_path)
