"""Two servers, one crowd in turn: a change's effect on the event-end load, on a noisy host.

    uv run python bench/web_load_pair.py --base 271d783            # 8 rounds of 200 x 5
    uv run python bench/web_load_pair.py --base /path/to/tree --rounds 12

On this shared 2-core host the same code's 200 x 5 p95 moves between about
0.9 and 2 s from one minute to the next, so runs of `bench/web_load.py` one
after the other can hide a change worth a tenth. Here two servers run at
once: `soca-server serve --workers 2` from `--base` (a git revision, checked
out into a temporary worktree, or a folder holding another tree) and one from
this tree, each on its own scratch PostgreSQL schema with its own signed-up
attendees. Every round sends the crowd to one, then the other (the order
swaps every round), and reads /proc around each crowd (`proc_cpu`). It prints
each crowd, the medians, and the per-round ratios of this tree's server CPU
and p95 to the base's: ratios of crowds a few seconds apart share the minute.
The first round is each server's first crowd (cold caches; the base's goes
first unless `--this-first`); later rounds are not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import proc_cpu
import web_load

from server.devtools import ServerProcess, scratch_database

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Crowd:
    """One crowd's figures."""

    p95_ms: float
    server_s: float
    database_s: float
    client_s: float


@contextmanager
def base_tree(base: str) -> Iterator[Path]:
    """The base tree: `base` itself when it is a folder, else a worktree of that revision."""
    if Path(base).is_dir():
        yield Path(base).resolve()
        return
    with tempfile.TemporaryDirectory(prefix="soca-base-") as folder:
        worktree = Path(folder) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(worktree), base], check=True)
        try:
            yield worktree
        finally:
            subprocess.run([*git, "remove", "--force", str(worktree)], check=False)


def _server(stack: ExitStack, args: argparse.Namespace, env: dict[str, str]) -> ServerProcess:
    """`soca-server serve` on its own scratch schema holding the crowd's world."""
    folder = stack.enter_context(tempfile.TemporaryDirectory())
    url, engine = stack.enter_context(
        scratch_database("postgresql", args.postgres_url, Path(folder))
    )
    web_load.crowd_world(engine, args.attendees)
    server = ServerProcess(url, workers=args.workers, env=env)
    server.start(timeout=180)
    stack.callback(server.stop)
    return server


async def _sign_up(server: ServerProcess, args: argparse.Namespace) -> list[dict[str, str]]:
    """Every attendee signs up through the form; each one's request headers for the crowd."""
    clients = [web_load.browser_client(args.repeat, args.timeout) for _ in range(args.attendees)]
    try:
        await web_load.sign_up(clients, server.base_url)
        return [web_load.browser_headers(client, server.base_url) for client in clients]
    finally:
        await asyncio.gather(*(client.close() for client in clients))


async def _crowd(
    server: ServerProcess, browsers: list[dict[str, str]], args: argparse.Namespace
) -> Crowd:
    assert server.process is not None
    results = web_load.Results()
    server_before, database_before = proc_cpu.cpu_seconds(server.process.pid)
    client_before = time.process_time()
    await web_load.load_crowd(
        ("127.0.0.1", server.port), browsers, args.repeat, args.timeout, results
    )
    server_after, database_after = proc_cpu.cpu_seconds(server.process.pid)
    served = results.statuses.get("200", 0)
    if served != len(browsers) * args.repeat:
        raise RuntimeError(f"not every load was served: {dict(results.statuses)}")
    return Crowd(
        web_load.percentile(results.latencies_ms, 0.95),
        server_after - server_before,
        database_after - database_before,
        time.process_time() - client_before,
    )


async def _rounds(
    servers: dict[str, ServerProcess], args: argparse.Namespace
) -> dict[str, list[Crowd]]:
    browsers = {name: await _sign_up(server, args) for name, server in servers.items()}
    crowds: dict[str, list[Crowd]] = {name: [] for name in servers}
    names = list(servers)
    if args.this_first:
        names.reverse()
    for number in range(args.rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            await asyncio.sleep(args.pause)  # the last crowd's connections close
            crowd = await _crowd(servers[name], browsers[name], args)
            crowds[name].append(crowd)
            print(
                f"{time.strftime('%H:%M:%S')} round {number} {name:<5} p95 {crowd.p95_ms:6.0f} ms"
                f"  CPU s server {crowd.server_s:.2f}  PostgreSQL {crowd.database_s:.2f}"
                f"  client {crowd.client_s:.2f}",
                flush=True,
            )
    return crowds


def _report(crowds: dict[str, list[Crowd]]) -> None:
    for name, rows in crowds.items():
        print(
            f"{name:<5} medians: p95 {statistics.median(c.p95_ms for c in rows):.0f} ms, CPU s "
            f"server {statistics.median(c.server_s for c in rows):.2f}, "
            f"PostgreSQL {statistics.median(c.database_s for c in rows):.2f}"
        )
    for label, figure in (("server CPU", "server_s"), ("p95", "p95_ms")):
        ratios = [
            getattr(new, figure) / getattr(base, figure)
            for base, new in zip(crowds["base"], crowds["this"], strict=True)
        ]
        lower = sum(ratio < 1 for ratio in ratios)
        print(
            f"{label} this/base by round: {' '.join(f'{r:.2f}' for r in ratios)}"
            f"  (median {statistics.median(ratios):.2f}; lower in {lower} of {len(ratios)})"
        )


def main() -> None:
    """Serve both trees, sign their crowds up, run the rounds, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="a git revision, or a folder with a tree")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--attendees", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5, help="/passport loads per attendee")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.7, help="seconds between crowds")
    parser.add_argument(
        "--this-first", action="store_true", help="this tree's crowd first in the first round"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout, s")
    parser.add_argument("--postgres-url", default=web_load.POSTGRES)
    args = parser.parse_args()
    with ExitStack() as stack:
        base = stack.enter_context(base_tree(args.base))
        # Each server imports its own tree first: PYTHONSAFEPATH keeps the working folder
        # (this tree, when run from it) off the front of its path.
        servers = {
            name: _server(stack, args, {"PYTHONPATH": str(tree), "PYTHONSAFEPATH": "1"})
            for name, tree in (("base", base), ("this", ROOT))
        }
        crowds = uvloop.run(_rounds(servers, args))
    _report(crowds)


if __name__ == "__main__":
    main()
