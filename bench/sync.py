"""Sync benchmark: a real `soca-server serve` driven over HTTP, on SQLite and PostgreSQL.

    uv run python bench/sync.py                          # the issue's sizes, both engines
    uv run python bench/sync.py --ops 5000 --engine sqlite
    uv run python bench/sync.py --workers 1              # one server process
    uv run python bench/sync.py --cpu                    # also CPU per ingest batch (Linux)

Three measurements per engine:

1. ingest: `--ops` ticket scans (about 10 % of them re-scans of a ticket another
   device admitted) from `--devices` door devices, pushed concurrently in
   batches of `--batch`: ops per second over the whole run, p50 and p95 per batch;
2. replay: the same batches pushed a second time (every op already known);
3. pull: a fresh door device pulling the whole `--tickets`-ticket event.

With `--cpu`, ingest also reports the CPU time per batch of the server's
processes and of the local PostgreSQL server's processes, and the largest
resident memory of a server process at the end of the run, read from /proc
(so only for a PostgreSQL on this machine; on SQLite the database works
inside the server's processes).

The world (one event, its tickets and holders' passports, the devices) is
written straight into the database before the server starts, so only sync is
timed. The server runs as a separate process on a free port.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import proc_cpu

from core.wire import TicketScanPayload, build_op
from server.devtools import World, build_world, scratch_database, serve
from server.sync.pull import MAX_PAGE


def _batches(world: World, ops: int, devices: int, batch: int) -> list[tuple[int, dict[str, Any]]]:
    """Per device, batches of scan ops; about 10 % re-scan a ticket another device admitted."""
    rng = random.Random(11)
    tickets = world.tickets
    start = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
    per_device: list[list[Any]] = [[] for _ in range(devices)]
    for index in range(ops):
        device = index % devices
        ticket = tickets[index % len(tickets)] if rng.random() > 0.1 else rng.choice(tickets)
        when = start + timedelta(milliseconds=index * 37)
        payload = TicketScanPayload(
            qr=ticket["qr_token"],
            event_id=world.event_id,
            gate=f"Gate {device + 1}",
            verdict="green",
        )
        per_device[device].append(
            build_op(payload, seq=len(per_device[device]) + 1, occurred_at=when, device_clock=when)
        )
    batches = []
    for device, device_ops in enumerate(per_device):
        for begin in range(0, len(device_ops), batch):
            chunk = device_ops[begin : begin + batch]
            body = {
                "device_time": datetime.now(UTC).isoformat(),
                "ops": [op.model_dump(mode="json") for op in chunk],
            }
            batches.append((device, body))
    return batches


def _push_all(
    base: str, tokens: list[str], batches: list[tuple[int, dict[str, Any]]], devices: int
) -> tuple[float, list[float]]:
    by_device: dict[int, list[dict[str, Any]]] = {}
    for device, body in batches:
        by_device.setdefault(device, []).append(body)

    def run(device: int) -> list[float]:
        timings = []
        headers = {"Authorization": f"Bearer {tokens[device]}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for body in by_device[device]:
                began = time.perf_counter()
                response = client.post("/api/v1/sync/push", json=body)
                response.raise_for_status()
                timings.append(time.perf_counter() - began)
        return timings

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=devices) as pool:
        results = list(pool.map(run, range(devices)))
    return time.perf_counter() - began, [t for timings in results for t in timings]


#: The tables a pull reads (analysed once the world is written).
_PULLED_TABLES = ("sync_changes", "tickets", "passport_profiles", "ticket_scans", "events")

#: What a kiosk asks for (`KioskSettings.pull_page_size`'s default; the server's maximum).
PULL_PAGE = MAX_PAGE


def _pull_all(base: str, token: str) -> tuple[float, int, int]:
    headers = {"Authorization": f"Bearer {token}"}
    began = time.perf_counter()
    requests = tickets = 0
    cursor: str | None = None
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        while True:
            params: dict[str, str | int] = {"limit": PULL_PAGE}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/sync/pull", params=params)
            page.raise_for_status()
            data = page.json()
            requests += 1
            tickets += len(data["tickets"])
            cursor = data["cursor"]
            if not data["more"]:
                return time.perf_counter() - began, requests, tickets


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_engine(kind: str, args: argparse.Namespace) -> dict[str, float]:
    """Build the world, start the server, measure ingest, replay and pull."""
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database(kind, args.postgres_url, Path(folder)) as (url, engine),
    ):
        world = build_world(engine, args.tickets, args.devices + 1)
        if kind == "postgresql":
            # The world is written in one go; a database whose autovacuum is on (as a
            # deployed one is) would have analysed it long before a door pulls it. This
            # host's PostgreSQL runs without autovacuum, so the bench does it.
            with engine.begin() as connection:
                connection.exec_driver_sql(f"ANALYZE {', '.join(_PULLED_TABLES)}")
        batches = _batches(world, args.ops, args.devices, args.batch)
        with serve(url, workers=args.workers) as server:
            assert server.process is not None
            session_id = server.process.pid  # the server leads its own session
            base = server.base_url
            cpu_before = proc_cpu.cpu_seconds(session_id) if args.cpu else (0.0, 0.0)
            ingest_s, ingest = _push_all(base, world.tokens, batches, args.devices)
            cpu_after = proc_cpu.cpu_seconds(session_id) if args.cpu else (0.0, 0.0)
            replay_s, replay = _push_all(base, world.tokens, batches, args.devices)
            pull_s, requests, pulled = _pull_all(base, world.tokens[-1])
            resident = proc_cpu.resident_mb(session_id) if args.cpu else 0.0
        return {
            "server_cpu_ms": (cpu_after[0] - cpu_before[0]) * 1000 / len(batches),
            "database_cpu_ms": (cpu_after[1] - cpu_before[1]) * 1000 / len(batches),
            "resident_mb": resident,
            "ingest_ops_s": args.ops / ingest_s,
            "ingest_p50": statistics.median(ingest) * 1000,
            "ingest_p95": _pct(ingest, 0.95) * 1000,
            "replay_ops_s": args.ops / replay_s,
            "replay_p50": statistics.median(replay) * 1000,
            "pull_s": pull_s,
            "pull_requests": requests,
            "pulled": pulled,
        }


_CPU_HEADER = f" {'server CPU/batch':>16} {'db CPU/batch':>12} {'worker RSS':>10}"


def _cpu_columns(kind: str, figures: dict[str, float]) -> str:
    server = f"{figures['server_cpu_ms']:.0f} ms"
    database = f"{figures['database_cpu_ms']:.0f} ms" if kind == "postgresql" else "(in server)"
    return f" {server:>16} {database:>12} {figures['resident_mb']:>7.0f} MB"


def main() -> None:
    """Parse arguments, run each engine, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=50_000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="soca-server worker processes (default: one per core, as deployed)",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also print CPU ms per ingest batch (server processes, local PostgreSQL) and "
        "the largest server process's resident memory at the end (Linux)",
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    print(
        f"{args.ops:,} scan ops from {args.devices} devices in batches of {args.batch}; "
        f"pull of a {args.tickets:,}-ticket event; {args.workers} server worker(s)"
    )
    print(
        f"{'engine':<11} {'ingest ops/s':>12} {'p50 ms':>8} {'p95 ms':>8} {'replay ops/s':>13} "
        f"{'replay p50':>11} {'pull s':>7} {'requests':>9} {'tickets':>8}"
        + (_CPU_HEADER if args.cpu else ""),
        flush=True,
    )
    for kind in kinds:
        f = run_engine(kind, args)
        print(
            f"{kind:<11} {f['ingest_ops_s']:>12,.0f} {f['ingest_p50']:>8.0f} "
            f"{f['ingest_p95']:>8.0f} {f['replay_ops_s']:>13,.0f} {f['replay_p50']:>11.0f} "
            f"{f['pull_s']:>7.2f} {f['pull_requests']:>9} {f['pulled']:>8,}"
            + (_cpu_columns(kind, f) if args.cpu else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
