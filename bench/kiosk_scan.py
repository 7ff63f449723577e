"""Kiosk scan benchmark: door decisions, manual search and outbox commits on 50,000 cached tickets.

    uv run python bench/kiosk_scan.py                    # 50,000 tickets, 2,000 scans
    uv run python bench/kiosk_scan.py --tickets 10000 --scans 500 --dir /some/disk

A door kiosk's cache is filled through `Cache.apply_page`, exactly as a pull
fills it; scans then go through `DoorService.scan` as a screen calls it:
token verification (Ed25519), the decision against the cache and this
device's own effects, and one outbox transaction committed with
synchronous=FULL (the WAL fsynced). Data lives in a temporary folder on the
same disk as `--dir` (default: the system temp folder).
"""

from __future__ import annotations

import argparse
import functools
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clock import SystemClock
from core.tokens import SigningKey, TokenKind, issue_token, verify_token
from core.wire import (
    DeviceRole,
    DeviceScope,
    EventRow,
    PassportRow,
    PublicKeyInfo,
    PullResponse,
    TicketRow,
    TicketScanPayload,
)
from kiosk.app import open_kiosk
from kiosk.settings import load_settings
from kiosk.store.cache import Cache
from kiosk.store.config import new_config, save_config
from kiosk.store.outbox import LocalCheckin

FIRST = ["Marcus", "Zoë", "Keisha", "Andre", "Shanice", "Kwame", "Aaliyah", "Devon", "Nadia"]
LAST = ["Boyce", "Baptiste", "Charles", "Joseph", "Williams", "Phillip", "Ramsaran", "Ali"]
PAGE = 5000


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def timed(calls: Sequence[Callable[[], object]]) -> list[float]:
    """Seconds per call, in order."""
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def build_cache(
    folder: Path, tickets: int
) -> tuple[SigningKey, uuid.UUID, list[str], list[TicketRow]]:
    """A paired door kiosk whose cache holds `tickets` tickets; returns key, event, QRs, rows."""
    key = SigningKey.generate(1)
    event = EventRow(
        id=uuid.uuid4(),
        name="Benchmark Fête",
        is_soca_passport_enabled=True,
        stamp_points_default=50,
    )
    now = datetime.now(UTC)
    rows, passports, qrs = [], [], []
    for index in range(tickets):
        ticket_id, user_id = uuid.uuid4(), uuid.uuid4()
        name = f"{FIRST[index % len(FIRST)]} {LAST[(index // 9) % len(LAST)]} {index}"
        rows.append(
            TicketRow(
                id=ticket_id,
                event_id=event.id,
                user_id=user_id,
                holder_name=name,
                handle=f"fan{index:06d}",
                code=f"{index:04d}-{(index * 7919) % 10000:04d}",
            )
        )
        passports.append(PassportRow(user_id=user_id, handle=f"fan{index:06d}"))
        qrs.append(issue_token(key, TokenKind.TICKET, ticket_id, event.id, now))
    settings = load_settings(data_dir=folder)
    save_config(
        settings.config_path,
        new_config(
            server_url="http://bench.invalid",
            device_id=uuid.uuid4(),
            token="bench",
            role=DeviceRole.DOOR,
            scope=DeviceScope(event_id=event.id),
            name="bench",
            paired_at=now,
        ),
    )
    cache = Cache.open(settings.cache_path, busy_timeout_ms=settings.busy_timeout_ms)
    keys = [PublicKeyInfo.from_raw(key.key_id, key.public_bytes())]
    for start in range(0, tickets, PAGE):
        cache.apply_page(
            PullResponse(
                cursor=str(start),
                more=start + PAGE < tickets,
                server_time=now,
                keys=keys if start == 0 else [],
                events=[event] if start == 0 else [],
                tickets=rows[start : start + PAGE],
                passports=passports[start : start + PAGE],
            ),
            ack_mark=0,
        )
    cache.close()
    return key, event.id, qrs, rows


def run(tickets: int, scans: int, folder: Path) -> list[tuple[str, int, float, float, float]]:
    """Measure every row of the table."""
    rng = random.Random(7)
    fill_started = time.perf_counter()
    key, event_id, qrs, rows = build_cache(folder, tickets)
    fill_seconds = time.perf_counter() - fill_started
    print(f"cache filled with {tickets:,} tickets in {fill_seconds:.1f} s (pull pages of {PAGE})")
    settings = load_settings(data_dir=folder)
    results = []
    with open_kiosk(settings, clock=SystemClock()) as kiosk:
        door, search = kiosk.require_door(), kiosk.require_search()
        public = {key.key_id: key.public_bytes()}
        picks = rng.sample(range(tickets), scans)
        checks = [functools.partial(verify_token, qrs[i], public) for i in picks[:500]]
        verify_samples = timed(checks)
        results.append(("verify token (Ed25519)", 500, *percentiles(verify_samples)))
        green = timed([functools.partial(door.scan, qrs[i]) for i in picks])
        results.append(("door decision: first scan, green", scans, *percentiles(green)))
        amber = timed([functools.partial(door.scan, qrs[i]) for i in picks[: scans // 2]])
        results.append(("door decision: re-entry, amber", scans // 2, *percentiles(amber)))
        refused = timed(
            [functools.partial(door.scan, "not a code"), functools.partial(door.scan, "9" * 250)]
            * 100
        )
        results.append(("door decision: garbage, red", 200, *percentiles(refused)))
        queries = []
        for _ in range(scans // 4):
            row = rows[rng.randrange(tickets)]
            name = (row.holder_name or "").split()
            queries += [
                name[0][:4],  # a first name's first letters
                f"{name[0]} {name[1][:3]}",  # first name and the start of the last
                row.handle or "",  # a handle
                row.code or "",  # a ticket code as printed
                (row.code or "").replace("-", "")[:5],  # the start of a code
                "nobody matches this",
            ]
        found = timed([functools.partial(search.search, q) for q in queries])
        results.append(("manual search (name, handle, code)", len(queries), *percentiles(found)))
        outbox = kiosk.outbox
        payload = TicketScanPayload(qr=qrs[0], event_id=event_id, gate="Main gate", verdict="green")

        def commit() -> None:
            at = datetime.now(UTC)
            with outbox.transaction():
                op = outbox.add_op(payload, device_clock=at, device_id=None)
                outbox.add_checkin(LocalCheckin(uuid.uuid4(), event_id, None, "g", at, 0, op.op_id))

        commits = timed([commit] * scans)
        results.append(("outbox commit (op + effect, fsync)", scans, *percentiles(commits)))
    return results


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--scans", type=int, default=2_000)
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary data goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="kiosk-bench-") as folder:
        results = run(args.tickets, args.scans, Path(folder))
    print(
        f"\nkiosk scan path, {args.tickets:,} tickets cached, Python {platform.python_version()}, "
        f"{platform.machine()}"
    )
    print(f"{'operation':<38} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, count, p50, p95, p99 in results:
        print(f"{name:<38} {count:>6} {p50:>8.2f} {p95:>8.2f} {p99:>8.2f}")
    door = next(row for row in results if row[0].startswith("door decision: first"))
    search = next(row for row in results if row[0].startswith("manual search"))
    print(
        f"\ntargets: decision p95 <= 10 ms: {'met' if door[3] <= 10 else 'MISSED'} "
        f"({door[3]:.2f}); search p95 <= 50 ms: {'met' if search[3] <= 50 else 'MISSED'} "
        f"({search[3]:.2f})"
    )


if __name__ == "__main__":
    main()
