"""Venue benchmark: four door kiosks with HQ unreachable, with and without a venue hub.

    uv run python bench/venue.py                         # 2,000 tickets, first scans over 120 s
    uv run python bench/venue.py --tickets 500 --window 30

Each ticket is presented at two different random doors, the second 0-10 s
after the first. HQ (`soca-server serve`) is up while the doors and the hub
load the event, then stopped. Two runs:

- alone: each door decides from its own copy (HQ unreachable, no hub). No
  door can learn another's scans, so the run is replayed without waiting for
  the clock (the outcome does not depend on it);
- hub: the doors sync with `soca-server hub` (pushing after each scan, and a
  waiting pull), in real time. For every first admission the other three
  doors' caches are watched until each knows it: the time to learn.

Then HQ comes back: the alone doors sync with it, the hub relays. Every op
the doors made must be at HQ exactly once, and HQ's conflict list must hold
exactly the double admissions the doors made. Printed as a table. Kiosks run
in this process (one thread per door, its sync loop on its own), the servers
as processes; ports from --port (HQ) and --port + 1 (hub).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.wire import DeviceRole, DeviceScope, HubInfo
from kiosk.app import open_kiosk, start_sync_loop, sync_once
from kiosk.services.headless import PrizeAction, ScanMode
from kiosk.settings import KioskSettings, load_settings
from kiosk.store.cache import Cache
from kiosk.store.config import new_config, save_config
from kiosk.sync.route import learn_route
from server.db.models import SyncOp
from server.db.session import make_session_factory, unit_of_work
from server.devtools import HubProcess, ServerProcess, World, build_world, scratch_database
from server.domain import devices

DOORS = 4
GAP_S = 10.0


@dataclass(frozen=True, order=True)
class Presentation:
    """One ticket shown at one door at `at` seconds into the run."""

    at: float
    door: int
    ticket: int
    first: bool


@dataclass
class Outcome:
    """What one run measured."""

    verdicts: dict[tuple[int, bool], str] = field(default_factory=dict)  # (ticket, first)
    op_ids: list[str] = field(default_factory=list)
    admitted_at: dict[int, tuple[int, float]] = field(default_factory=dict)  # door, monotonic
    learned: list[float] = field(default_factory=list)
    unlearned: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def schedule(tickets: int, window: float, seed: int) -> list[Presentation]:
    """Two presentations per ticket at two different doors, 0-10 s apart."""
    rng = random.Random(seed)
    shows = []
    for ticket in range(tickets):
        first_door, second_door = rng.sample(range(DOORS), 2)
        at = rng.uniform(0, window)
        shows.append(Presentation(at, first_door, ticket, True))
        shows.append(Presentation(at + rng.uniform(0, GAP_S), second_door, ticket, False))
    return sorted(shows)


def door_settings(folder: Path, door: int) -> KioskSettings:
    """A door's settings: its own folder, no hub discovery (loopback), a 20 s sync interval."""
    return load_settings(
        data_dir=folder / f"door{door + 1}", gate=f"Gate {door + 1}", discover_hub=False
    )


def install_doors(folder: Path, world: World, server: str, upstream: str | None) -> list[Any]:
    """Write each door's pairing (the world's device tokens) pointing at `server`."""
    made = []
    for door in range(DOORS):
        settings = door_settings(folder, door)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        config = new_config(
            server_url=server,
            device_id=world.device_ids[door],
            token=world.tokens[door],
            role=DeviceRole.DOOR,
            scope=DeviceScope(event_id=world.event_id),
            name=f"Gate {door + 1}",
            paired_at=datetime.now(UTC),
        )
        save_config(settings.config_path, config)
        if upstream is not None:
            learn_route(settings.data_dir, server, HubInfo(hub=True, upstream=upstream))
        report = sync_once(settings)
        assert report.ok, report.error
        made.append(settings)
    return made


def run_door(
    settings: KioskSettings,
    shows: list[Presentation],
    world: World,
    outcome: Outcome,
    start: float | None,
    loop: Any,
) -> None:
    """Present this door's codes at their times (None: at once) and record the verdicts."""
    with open_kiosk(settings) as kiosk:
        handle = kiosk.scan_handler(ScanMode.DOOR, PrizeAction.AUTO)
        for show in shows:
            if start is not None:
                time.sleep(max(0.0, start + show.at - time.monotonic()))
            verdict = handle(world.tickets[show.ticket]["qr_token"])
            done = time.monotonic()
            with outcome.lock:
                outcome.verdicts[(show.ticket, show.first)] = verdict.colour.value
                if verdict.op_id is not None:
                    outcome.op_ids.append(str(verdict.op_id))
                if verdict.colour.value == "green" and show.ticket not in outcome.admitted_at:
                    outcome.admitted_at[show.ticket] = (show.door, done)
            if loop is not None and verdict.op_id is not None:
                loop.trigger()


def watch_door(
    settings: KioskSettings, door: int, world: World, outcome: Outcome, stop: threading.Event
) -> None:
    """Time how long each admission at another door takes to reach this door's cache."""
    cache = Cache.open(settings.cache_path, busy_timeout_ms=settings.busy_timeout_ms)
    seen: set[int] = set()
    try:
        while not stop.is_set():
            with outcome.lock:
                waiting = {t: at for t, (d, at) in outcome.admitted_at.items() if d != door}
            now = time.monotonic()
            for ticket, at in waiting.items():
                if ticket in seen:
                    continue
                row = cache.ticket(world.tickets[ticket]["id"])
                if row is not None and row.checked_in_at is not None:
                    seen.add(ticket)
                    with outcome.lock:
                        outcome.learned.append(now - at)
            stop.wait(0.05)
        with outcome.lock:
            outcome.unlearned += len({t for t, (d, _a) in outcome.admitted_at.items() if d != door})
            outcome.unlearned -= len(seen)
    finally:
        cache.close()


def hq_counts(engine: Any, op_ids: list[str]) -> dict[str, int]:
    """At HQ: how many of the doors' ops it holds, and their statuses."""
    factory = make_session_factory(engine)
    wanted = {uuid.UUID(op_id) for op_id in op_ids}
    with unit_of_work(factory) as session:
        rows = session.execute(select(SyncOp.op_id, SyncOp.status)).all()
        total = session.scalar(select(func.count()).select_from(SyncOp))
    held = [status for op_id, status in rows if op_id in wanted]
    return {
        "ops": len(held),
        "total": int(total or 0),
        "applied": held.count("applied"),
        "duplicate": held.count("duplicate"),
        "conflict": held.count("conflict"),
    }


def run(mode: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One scenario, 'alone' or 'hub', from a fresh HQ world."""
    shows = schedule(args.tickets, args.window, args.seed)
    with scratch_database("sqlite", "", folder) as (url, engine):
        world = build_world(engine, args.tickets, DOORS)
        with unit_of_work(make_session_factory(engine)) as session:
            code = devices.create_pairing_code(
                session,
                role=DeviceRole.HUB,
                scope=DeviceScope(event_id=world.event_id),
                now=datetime.now(UTC),
            ).code
        hq = ServerProcess(url, port=args.port)
        hq.start()
        hub = None
        if mode == "hub":
            hub = HubProcess(folder / "hub", hq.base_url, code, port=args.port + 1)
            hub.start()
            wait_for_hub(hub, world, args.tickets)
            doors = install_doors(folder, world, hub.base_url, hq.base_url)
        else:
            doors = install_doors(folder, world, hq.base_url, None)
        hq.stop()  # HQ unreachable from here on
        outcome = Outcome()
        try:
            play(mode, doors, shows, world, outcome)
            hq.start()
            if hub is not None:
                hub.wait_relayed(timeout=600)
            else:
                for settings in doors:
                    report = sync_once(settings)
                    assert report.ok, report.error
            counts = hq_counts(engine, outcome.op_ids)
        finally:
            if hub is not None:
                hub.stop()
            hq.stop()
    return summarize(mode, shows, outcome, counts)


def wait_for_hub(hub: HubProcess, world: World, tickets: int) -> None:
    """Wait until the hub holds the event's tickets (its first pull from HQ)."""
    headers = {"Authorization": f"Bearer {world.tokens[0]}"}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        page = httpx.get(
            f"{hub.base_url}/api/v1/sync/pull", params={"limit": 10000}, headers=headers, timeout=60
        )
        if page.status_code == 200 and len(page.json().get("tickets", [])) >= tickets:
            return
        time.sleep(0.5)
    raise RuntimeError("the hub did not load the event in time")


def play(
    mode: str,
    doors: list[KioskSettings],
    shows: list[Presentation],
    world: World,
    outcome: Outcome,
) -> None:
    """Run every door's presentations (in real time with the hub) and, with it, the watchers."""
    loops = [start_sync_loop(settings) for settings in doors] if mode == "hub" else []
    stop = threading.Event()
    watchers = [
        threading.Thread(target=watch_door, args=(settings, door, world, outcome, stop))
        for door, settings in enumerate(doors)
        if mode == "hub"
    ]
    for watcher in watchers:
        watcher.start()
    start = time.monotonic() + 1.0 if mode == "hub" else None
    threads = [
        threading.Thread(
            target=run_door,
            args=(
                settings,
                [show for show in shows if show.door == door],
                world,
                outcome,
                start,
                loops[door] if loops else None,
            ),
        )
        for door, settings in enumerate(doors)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if mode == "hub":
        time.sleep(GAP_S)  # let the last admissions travel before the watchers stop
    stop.set()
    for watcher in watchers:
        watcher.join()
    for loop in loops:
        loop.stop()


def summarize(
    mode: str, shows: list[Presentation], outcome: Outcome, counts: dict[str, int]
) -> dict[str, Any]:
    """The table's row."""
    gaps: dict[int, list[float]] = {}
    for show in shows:
        gaps.setdefault(show.ticket, []).append(show.at)
    doubles = [
        ticket
        for ticket in gaps
        if outcome.verdicts.get((ticket, True)) == "green"
        and outcome.verdicts.get((ticket, False)) == "green"
    ]
    late = [ticket for ticket in doubles if abs(gaps[ticket][1] - gaps[ticket][0]) >= 2.0]
    learned = sorted(outcome.learned)
    return {
        "mode": mode,
        "scans": len(shows),
        "ops": len(outcome.op_ids),
        "doubles": len(doubles),
        "doubles_2s": len(late),
        "p50": statistics.median(learned) if learned else None,
        "p95": learned[int(0.95 * (len(learned) - 1))] if learned else None,
        "unlearned": outcome.unlearned,
        **{f"hq_{key}": value for key, value in counts.items()},
    }


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def print_table(rows: list[dict[str, Any]]) -> None:
    """One line per run."""
    head = (
        f"{'run':<6} {'scans':>6} {'ops':>6} {'double':>7} {'≥2 s':>5} {'learn p50':>10} "
        f"{'learn p95':>10} {'never':>6} {'at HQ':>6} {'applied':>8} {'dup':>5} {'conflict':>9}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        print(
            f"{row['mode']:<6} {row['scans']:>6} {row['ops']:>6} {row['doubles']:>7} "
            f"{row['doubles_2s']:>5} {_seconds(row['p50']):>10} {_seconds(row['p95']):>10} "
            f"{row['unlearned']:>6} {row['hq_ops']:>6} {row['hq_applied']:>8} "
            f"{row['hq_duplicate']:>5} {row['hq_conflict']:>9}"
        )
    for row in rows:
        exact = row["hq_ops"] == row["ops"] == row["hq_total"]
        matches = row["hq_conflict"] == row["doubles"]
        print(
            f"{row['mode']}: every op at HQ exactly once: {'yes' if exact else 'NO'}; "
            f"conflicts at HQ = double admissions: {'yes' if matches else 'NO'}"
        )


def main() -> None:
    """Parse arguments, run both scenarios, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--window", type=float, default=120.0, help="first scans spread over S s")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--port", type=int, default=18166, help="HQ's port; the hub's is +1")
    parser.add_argument("--only", choices=["alone", "hub"], default=None)
    args = parser.parse_args()
    rows = []
    for mode in ("alone", "hub"):
        if args.only and mode != args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"soca-venue-{mode}-") as folder:
            rows.append(run(mode, args, Path(folder)))
    print_table(rows)


if __name__ == "__main__":
    main()
