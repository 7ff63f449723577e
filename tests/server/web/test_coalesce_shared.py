"""Reloads that land on different worker processes join one run through the shared folder."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from pathlib import Path

from starlette.types import Message

from server.web.auth import SESSION_COOKIE
from server.web.coalesce import Coalesce
from server.web.coalesce_shared import SharedFlights
from tests.server.web.test_coalesce import SlowPage, _call, _scope


def _worker(page: SlowPage, folder: Path) -> Coalesce:
    """One worker process's middleware (each has its own table of requests in flight)."""
    return Coalesce(page, session_cookie=SESSION_COOKIE, paths={"/passport"}, shared_folder=folder)


def test_a_twin_running_in_another_worker_answers_this_one(tmp_path: Path) -> None:
    first, second = SlowPage(b"first"), SlowPage(b"second")

    async def crowd() -> list[list[Message]]:
        calls = [
            asyncio.ensure_future(_call(_worker(first, tmp_path), _scope())),
            asyncio.ensure_future(_call(_worker(second, tmp_path), _scope())),
        ]
        await asyncio.sleep(0.02)
        first.release.set()
        return await asyncio.gather(*calls)

    answers = asyncio.run(crowd())
    assert (first.runs, second.runs) == (1, 0)
    assert [answer[-1]["body"] for answer in answers] == [b"first", b"first"]
    assert answers[1][0]["headers"] == [(b"x-run", b"1")]
    assert not list(tmp_path.glob("*.lock"))  # the leader let go


def test_other_browsers_in_other_workers_run_on_their_own(tmp_path: Path) -> None:
    first, second = SlowPage(), SlowPage()

    async def crowd() -> None:
        other = _scope(cookie=f"{SESSION_COOKIE}=other".encode())
        calls = [
            asyncio.ensure_future(_call(_worker(first, tmp_path), _scope())),
            asyncio.ensure_future(_call(_worker(second, tmp_path), other)),
        ]
        await asyncio.sleep(0.02)
        first.release.set()
        second.release.set()
        await asyncio.gather(*calls)

    asyncio.run(crowd())
    assert (first.runs, second.runs) == (1, 1)


def test_an_answer_finished_before_the_request_came_is_not_used(tmp_path: Path) -> None:
    first, second = SlowPage(b"first"), SlowPage(b"second")
    first.release.set()
    second.release.set()

    async def one_after_the_other() -> list[Message]:
        await _call(_worker(first, tmp_path), _scope())
        return await _call(_worker(second, tmp_path), _scope())

    later = asyncio.run(one_after_the_other())
    assert later[-1]["body"] == b"second" and second.runs == 1
    assert list(tmp_path.glob("*.answer"))  # the earlier answer was there, and not taken


def test_when_the_other_worker_s_leader_fails_this_one_runs(tmp_path: Path) -> None:
    first, second = SlowPage(fail=True), SlowPage(b"second")
    second.release.set()

    async def crowd() -> list[object]:
        calls = [
            asyncio.ensure_future(_call(_worker(first, tmp_path), _scope())),
            asyncio.ensure_future(_call(_worker(second, tmp_path), _scope())),
        ]
        await asyncio.sleep(0.02)
        first.release.set()
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(crowd())
    assert isinstance(results[0], RuntimeError)
    assert second.runs == 1 and results[1][-1]["body"] == b"second"  # type: ignore[index]


def test_a_worker_whose_folder_is_gone_runs_its_pages_alone(tmp_path: Path) -> None:
    """A temp cleaner that removes the folder under a long-running server costs only joins."""
    page = SlowPage(b"alone")
    page.release.set()
    folder = tmp_path / "join"
    folder.mkdir()
    worker = _worker(page, folder)
    folder.rmdir()
    answer = asyncio.run(_call(worker, _scope()))
    assert answer[-1]["body"] == b"alone" and page.runs == 1


def _lead_in_a_process(folder: Path, digest: str, ready: object, go: object) -> None:
    """A real other process: hold the lease until told, then publish an answer."""

    async def lead() -> None:
        lease = SharedFlights(folder).lead(digest)
        assert lease is not None
        ready.set()  # type: ignore[attr-defined]
        while not go.is_set():  # type: ignore[attr-defined]
            await asyncio.sleep(0.005)
        lease.publish([{"type": "http.response.body", "body": b"from the other process"}])
        await asyncio.sleep(0.2)  # the answer stays while this process lives

    asyncio.run(lead())


def test_the_lock_and_the_answer_cross_real_processes(tmp_path: Path) -> None:
    flights = SharedFlights(tmp_path)
    digest = flights.digest(("/passport", b"", (b"cookie",)))
    context = multiprocessing.get_context("spawn")
    ready, go = context.Event(), context.Event()
    other = context.Process(target=_lead_in_a_process, args=(tmp_path, digest, ready, go))
    other.start()
    try:
        assert ready.wait(30)
        assert flights.lead(digest) is None  # the other process runs it

        async def wait() -> list[Message] | None:
            arrived = time.monotonic()
            go.set()
            return await flights.wait(digest, arrived)

        answer = asyncio.run(wait())
    finally:
        other.join(30)
    assert answer == [{"type": "http.response.body", "body": b"from the other process"}]
    assert other.exitcode == 0
