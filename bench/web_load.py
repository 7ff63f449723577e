"""Event-end load: a crowd with web sessions opens /passport at once, against a real server.

    uv run python bench/web_load.py                          # 200 attendees x 5, 2 workers
    uv run python bench/web_load.py --attendees 1000 --repeat 2
    uv run python bench/web_load.py --workers 1 --env SOCA_DB_POOL_SIZE=5
    uv run python bench/web_load.py --cpu                    # also CPU of the load (Linux)

The client is a small asyncio program rather than a load tool such as locust:
the whole crowd must fire at the same instant (locust ramps users up), and
each attendee needs its own cookie jar and a CSRF round trip to sign up
(aiohttp). The load itself goes out through `crowd_client`, a GET per new
connection parsed by httptools, at about half of aiohttp's CPU per request,
and the client runs on uvloop, as the server does (about 40 % less CPU than
asyncio's own loop for the crowd): the client shares two cores with the
server it measures, and every cycle it spends shows up as server latency.

Steps, each timed:

1. the world: a scratch PostgreSQL schema (in `--postgres-url`'s database),
   migrated, with one upcoming passport-enabled event and one ticket held for
   each attendee's email, written straight into the database;
2. `soca-server serve --workers N` on it, as a separate process;
3. registration: every attendee at once fetches /register and posts it (a
   new account that claims its ticket, a passport, a web session); a 503's
   `Retry-After` is waited out and the form sent again, as a person would,
   at most `SIGN_UP_TRIES` times (the status of every POST is printed);
4. the load: every attendee requests /passport `--repeat` times, all at once,
   each on its own connection with its session's cookies: pages/s,
   p50/p95/max, and every status other than 200 (503s with `Retry-After` counted apart);
5. per-page time: one signed-in attendee loads /passport, /socaport-app and
   the event page `--samples` times each, one after another on a kept-alive
   connection, with the server otherwise idle (p50 of the round trip on
   loopback, which is the server's time plus well under a millisecond);
6. /health on a kept-alive connection against a new connection per request.

With `--cpu`, step 4 also reports the CPU seconds the load cost the server's
processes, the local PostgreSQL's and this client, read from /proc
(`proc_cpu`): two cores' worth of the three together is about the p95.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import uvloop
from sqlalchemy import Engine, update
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import crowd_client
import proc_cpu

from server.db.models import Event
from server.db.session import make_session_factory, unit_of_work
from server.devtools import ServerProcess, build_world, scratch_database
from server.domain import tickets

POSTGRES = "postgresql://postgres@127.0.0.1:5432/soca_d_load"
PASSWORD = "Steelpan-J'ouvert-{n}-Morning!"
#: Sign-up attempts per attendee: a 503 with Retry-After is sent again after the wait.
SIGN_UP_TRIES = 3
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Results:
    """What one run measured."""

    registration_s: float = 0.0
    registration_statuses: Counter[str] = field(default_factory=Counter)  # of every POST
    signed_up: int = 0
    load_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    retry_after: int = 0
    pages_ms: dict[str, float] = field(default_factory=dict)
    health_ms: dict[str, float] = field(default_factory=dict)
    load_cpu_s: dict[str, float] = field(default_factory=dict)  # with --cpu


def _email(n: int) -> str:
    return f"fan{n}@bench.example"


async def _register(session: aiohttp.ClientSession, base: str, n: int) -> list[str]:
    """Sign attendee `n` up through the web form, as a person would: sent again after a 503's
    `Retry-After` (at most `SIGN_UP_TRIES` times). The status of each POST (or the error)."""
    statuses: list[str] = []
    for _ in range(SIGN_UP_TRIES):
        try:
            status, retry_after = await _sign_up(session, base, n)
        except (aiohttp.ClientError, TimeoutError) as exc:
            statuses.append(type(exc).__name__)
            break
        statuses.append(status)
        if status != "503" or retry_after is None:
            break
        await asyncio.sleep(retry_after)
    return statuses


def _retry_after(answer: aiohttp.ClientResponse) -> int | None:
    """The seconds an answer's Retry-After asks for (None: no header)."""
    value = answer.headers.get("Retry-After")
    return int(value) if value else None


async def _sign_up(session: aiohttp.ClientSession, base: str, n: int) -> tuple[str, int | None]:
    async with session.get(f"{base}/register") as page:
        found = _CSRF.search(await page.text())
    if found is None:
        return str(page.status), _retry_after(page)
    form = {
        "csrf_token": found.group(1),
        "username": f"fan{n}",
        "email": _email(n),
        "password": PASSWORD.format(n=n),
        "next": "/passport",
    }
    async with session.post(f"{base}/register", data=form, allow_redirects=False) as answer:
        await answer.read()
        return str(answer.status), _retry_after(answer)


#: What a phone's browser sends with a page request besides its cookies.
_BROWSER_HEADERS = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br"}


def crowd_world(engine: Engine, attendees: int) -> uuid.UUID:
    """The world a crowd meets: an upcoming passport-enabled event, with a ticket held for
    each attendee's email (written straight into the database); the event's id."""
    world = build_world(engine, tickets=0, devices=0)
    with unit_of_work(make_session_factory(engine)) as session:
        session.execute(
            update(Event)
            .where(Event.id == world.event_id)
            .values(starts_at=datetime.now(UTC) + timedelta(days=1))
        )
        for n in range(attendees):
            tickets.issue_to_email(session, event_id=world.event_id, email=_email(n))
    return world.event_id


async def sign_up(clients: list[aiohttp.ClientSession], base: str) -> list[list[str]]:
    """Every attendee at once signs up with its own browser; each one's POST statuses."""
    return await asyncio.gather(*(_register(client, base, n) for n, client in enumerate(clients)))


def browser_headers(client: aiohttp.ClientSession, base: str) -> dict[str, str]:
    """What a signed-up attendee's phone sends with a page request to `base`."""
    return _BROWSER_HEADERS | _cookie_header(client, base)


async def load_crowd(
    server: tuple[str, int],
    browsers: list[dict[str, str]],
    repeat: int,
    timeout: float,
    results: Results,
) -> None:
    """Every browser loads /passport `repeat` times, all at once, each on its own connection
    (with this client's collector set aside: `collector_aside`)."""
    with collector_aside():
        await asyncio.gather(
            *(
                _load_one(server, "/passport", headers, timeout, results)
                for headers in browsers
                for _ in range(repeat)
            )
        )


@contextmanager
def collector_aside() -> Iterator[None]:
    """Keep the objects this client holds (200 browsers' sessions and cookie jars) out of
    its garbage collector's passes for the block.

    The load's thousand connections allocate enough to set off the collector's
    oldest generation, which then walks every browser's objects: about 0.1 s of
    this client's CPU in every other crowd, taken from the two cores it shares with the
    server (0.17-0.21 s a crowd frozen against 0.18-0.34 s, six crowds each on two servers).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _cookie_header(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    """The Cookie header `session`'s browser would send to `base`."""
    cookies = session.cookie_jar.filter_cookies(URL(base))
    return {"Cookie": "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())}


async def _load_one(
    server: tuple[str, int], path: str, headers: dict[str, str], timeout: float, results: Results
) -> None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            answer = await crowd_client.get(*server, path, headers)
        status = str(answer.status)
        if answer.status == 503 and "retry-after" in answer.headers:
            results.retry_after += 1
    except (OSError, TimeoutError, crowd_client.HttpParserError) as exc:
        status = type(exc).__name__
    results.latencies_ms.append((time.perf_counter() - started) * 1000)
    results.statuses[status] += 1


def browser_client(repeat: int, timeout: float) -> aiohttp.ClientSession:
    """One attendee's browser for the sign-up: its own cookie jar, `repeat` connections."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=repeat, force_close=False),
        timeout=aiohttp.ClientTimeout(total=timeout),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )


async def _sequential_p50(session: aiohttp.ClientSession, url: str, samples: int) -> float:
    times = []
    for index in range(samples + 3):
        started = time.perf_counter()
        async with session.get(url, allow_redirects=False) as answer:
            await answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{url} answered {answer.status}")
        if index >= 3:  # warm-up requests are not counted
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _settle(base: str, limit_s: float = 180) -> None:
    """Wait until the server is idle again: requests the clients gave up on still run there."""
    deadline = time.monotonic() + limit_s
    async with browser_client(1, limit_s) as session:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(f"{base}/health") as answer:
                await answer.read()
            if time.perf_counter() - started < 0.05:
                return
            await asyncio.sleep(1)


async def _health(base: str, samples: int) -> dict[str, float]:
    kept = browser_client(1, 10)
    fresh = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
    async with kept, fresh:
        return {
            "kept-alive": await _sequential_p50(kept, f"{base}/health", samples),
            "new connection": await _sequential_p50(fresh, f"{base}/health", samples),
        }


async def _run(
    base: str, event_id: uuid.UUID, server_session: int, args: argparse.Namespace
) -> Results:
    results = Results()
    clients = [browser_client(args.repeat, args.timeout) for _ in range(args.attendees)]
    try:
        started = time.perf_counter()
        attempts = await sign_up(clients, base)
        results.registration_s = time.perf_counter() - started
        results.registration_statuses.update(status for tried in attempts for status in tried)
        statuses = [tried[-1] for tried in attempts]  # where each attendee ended up
        browsers = [browser_headers(client, base) for client in clients]
        server = (URL(base).raw_host or "127.0.0.1", URL(base).port or 80)
        await asyncio.sleep(1)
        before = _cpu_now(server_session) if args.cpu else {}
        started = time.perf_counter()
        await load_crowd(server, browsers, args.repeat, args.timeout, results)
        results.load_s = time.perf_counter() - started
        if args.cpu:
            after = _cpu_now(server_session)
            results.load_cpu_s = {name: after[name] - before[name] for name in after}
        await _settle(base)
        signed_in = [
            client for client, status in zip(clients, statuses, strict=True) if status == "303"
        ]
        results.signed_up = len(signed_in)
        for name, path in (
            ("/passport", "/passport"),
            ("/socaport-app", "/socaport-app"),
            ("event page", f"/events/{event_id}"),
        ):
            if signed_in:  # an attendee whose sign-up went through
                results.pages_ms[name] = await _sequential_p50(
                    signed_in[0], base + path, args.samples
                )
        results.health_ms = await _health(base, args.samples)
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return results


def _cpu_now(server_session: int) -> dict[str, float]:
    """CPU seconds used so far by the server's processes, PostgreSQL's and this client."""
    server, database = proc_cpu.cpu_seconds(server_session)
    return {"server": server, "PostgreSQL": database, "client": time.process_time()}


def percentile(values: list[float], fraction: float) -> float:
    """The value at `fraction` of the sorted values (0.95: the p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _report(args: argparse.Namespace, results: Results) -> None:
    total = args.attendees * args.repeat
    ok = results.statuses.get("200", 0)
    others = {status: n for status, n in sorted(results.statuses.items()) if status != "200"}
    registered = dict(sorted(results.registration_statuses.items()))
    print(
        f"{args.attendees} attendees x {args.repeat} /passport, "
        f"soca-server serve --workers {args.workers}, PostgreSQL {' '.join(args.env)}".rstrip()
    )
    print(f"{'registration (all at once)':<34}{results.registration_s:>9.1f} s  {registered}")
    print(f"{'signed up (303)':<34}{results.signed_up:>9}")
    print(f"{'pages/s':<34}{ok / results.load_s:>9.1f}")
    for label, value in (
        ("p50", statistics.median(results.latencies_ms)),
        ("p95", percentile(results.latencies_ms, 0.95)),
        ("max", max(results.latencies_ms)),
    ):
        print(f"{label + ' ms':<34}{value:>9.0f}")
    print(f"{'200 of ' + str(total):<34}{ok:>9}")
    print(f"{'503 with Retry-After':<34}{results.retry_after:>9}")
    print(f"{'other statuses':<34}{others or '-'!s:>9}")
    for name, seconds in results.load_cpu_s.items():
        print(f"{'load CPU s ' + name:<34}{seconds:>9.2f}")
    for name, value in results.pages_ms.items():
        print(f"{'page p50 ms ' + name:<34}{value:>9.1f}")
    for name, value in results.health_ms.items():
        print(f"{'/health p50 ms ' + name:<34}{value:>9.1f}")


def main() -> None:
    """Build the world, serve it, run the crowd, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5, help="/passport loads per attendee")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=30, help="per-page sequential loads")
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout, s")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="server setting"
    )
    parser.add_argument("--cpu", action="store_true", help="also the load's CPU (Linux)")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database("postgresql", args.postgres_url, Path(folder)) as (url, engine),
    ):
        event_id = crowd_world(engine, args.attendees)
        server = ServerProcess(url, port=args.port, workers=args.workers, env=env)
        try:
            server.start(timeout=180)  # a loaded machine starts two workers slowly
            assert server.process is not None
            server_session = server.process.pid  # its own session: see ServerProcess.start
            results = uvloop.run(_run(server.base_url, event_id, server_session, args))
        finally:
            server.stop()
    _report(args, results)


if __name__ == "__main__":
    main()
