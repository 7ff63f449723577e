"""CPU of one page request in process: a signed-in attendee's crowd pages, no HTTP.

    uv run python bench/page_cpu.py                       # this tree
    uv run python bench/page_cpu.py --base 7b1b4de        # and a base revision, in turn

A crowd's latency on this 2-core host is its CPU over two cores, and a
page's share of it hides under the noise of whole crowds. Here one attendee
(signed up through the form, on a scratch PostgreSQL schema) requests each
page through the app's ASGI callable, one request at a time, with no
socket, HTTP parser or client in the way. For every request it reads
`time.process_time()` (every thread of the process: the event loop and the
worker threads) and `time.thread_time()` of the event loop's thread, and it
prints their p50 per page. The paths take turns request by request, so they
share the minute.

With `--base`, the same measurement runs on a base revision (a temporary
worktree) and on this tree in separate processes, `--runs` times each, in
turn (base first), so a change's effect on a page shows run against run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("/passport", "/socaport-app", "/events", "/health")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _call(app: Any, path: str, cookie: bytes) -> int:
    """One GET through the app's ASGI callable; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"accept", b"text/html"), (b"cookie", cookie)],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


async def _signed_up_cookie(app: Any, email: str, password: str) -> bytes:
    """Sign one attendee up through the form; the Cookie header their browser sends."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        page = await client.get("/register")
        found = _CSRF.search(page.text)
        assert found is not None, "no CSRF token on /register"
        form = {
            "csrf_token": found.group(1),
            "username": "fan0",
            "email": email,
            "password": password,
            "next": "/passport",
        }
        answer = await client.post("/register", data=form)
        assert answer.status_code == 303, answer.status_code
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items()).encode()


async def _measure(app: Any, cookie: bytes, paths: list[str], samples: int) -> dict[str, Any]:
    for path in paths:
        for _ in range(30):  # warm: compiled statements, pooled connections, threads
            status = await _call(app, path, cookie)
            assert status == 200, f"{path}: {status}"
    cpu: dict[str, list[float]] = {path: [] for path in paths}
    loop_thread: dict[str, list[float]] = {path: [] for path in paths}
    for turn in range(samples * len(paths)):
        path = paths[turn % len(paths)]
        started, started_here = time.process_time(), time.thread_time()
        await _call(app, path, cookie)
        cpu[path].append(time.process_time() - started)
        loop_thread[path].append(time.thread_time() - started_here)
    return {
        path: (statistics.median(cpu[path]) * 1000, statistics.median(loop_thread[path]) * 1000)
        for path in paths
    }


def _run_here(args: argparse.Namespace, tree: Path) -> dict[str, Any]:
    """Measure `tree` (this one, or `--tree`'s): its bench helpers put it first on the path."""
    sys.path.insert(0, str(tree / "bench"))
    import web_load  # inserts `tree` ahead of everything, so `server` below is tree's

    from server.app import create_app
    from server.devtools import scratch_database
    from server.settings import ServerSettings

    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database("postgresql", args.postgres_url, Path(folder)) as (url, engine),
    ):
        web_load.crowd_world(engine, 1)
        app = create_app(ServerSettings(database_url=url, secret_key="page-cpu-" * 4))
        try:

            async def measure() -> dict[str, Any]:
                email, password = web_load._email(0), web_load.PASSWORD.format(n=0)
                cookie = await _signed_up_cookie(app, email, password)
                return await _measure(app, cookie, args.paths, args.samples)

            return uvloop.run(measure())
        finally:
            app.state.engine.dispose()


def _table(title: str, figures: dict[str, Any]) -> None:
    print(
        f"{title:<14} "
        + "  ".join(f"{path} {cpu:.2f} ({loop:.2f})" for path, (cpu, loop) in figures.items())
    )


def _in_turn(args: argparse.Namespace) -> None:
    """Run this script on the base's worktree and on this tree, `--runs` times each, in turn."""
    sys.path.insert(0, str(ROOT / "bench"))
    from web_load_pair import base_tree

    command = [sys.executable, str(Path(__file__).resolve()), "--samples", str(args.samples)]
    command += ["--postgres-url", args.postgres_url, "--paths", *args.paths]
    with base_tree(args.base) as base:
        for run in range(args.runs):
            for name, tree in (("base", base), ("this", ROOT)):
                shown = subprocess.run(
                    [*command, "--tree", str(tree), "--title", f"{name} run {run}"],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                print(shown.stdout.strip(), flush=True)


def main() -> None:
    """Measure this tree, or a base revision and this tree in turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", default=list(PATHS))
    parser.add_argument("--samples", type=int, default=500, help="requests per path")
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/soca_d_load"
    )
    parser.add_argument(
        "--base", help="a git revision or a folder to measure in turn with this tree"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each tree with --base")
    parser.add_argument("--tree", help=argparse.SUPPRESS)  # the tree a --base run measures
    parser.add_argument("--title", default="this", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.base:
        print("p50 CPU ms per request (of which the event loop's thread)")
        _in_turn(args)
        return
    if not args.tree:
        print("p50 CPU ms per request (of which the event loop's thread)")
    tree = Path(args.tree).resolve() if args.tree else ROOT
    figures = _run_here(args, tree)
    import server

    assert Path(server.__file__).resolve().is_relative_to(tree), server.__file__
    _table(args.title, figures)


if __name__ == "__main__":
    main()
