"""Domain benchmark: stamp awarding throughput and recompute time, on SQLite and PostgreSQL.

    uv run python bench/domain.py                      # the issue's sizes, both engines
    uv run python bench/domain.py --stamps 10000 --engine sqlite

Awards go through `award_stamp_for_event_scan` exactly as a sync batch would,
committing every `--batch` awards. Each engine gets a fresh database: a
SQLite file in a temp folder, and a throw-away schema on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.db import migrate
from server.db.models import Event, PassportProfile, User
from server.db.session import make_session_factory, unit_of_work
from server.devtools import scratch_database
from server.domain import passport
from server.domain.recompute import recompute

COUNTRIES = ["TT", "US", "CA", "GB", "BB", "JM", "GD", "LC", "VC", "AG"]


def _populate(engine: Engine, users: int, events: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    now = datetime.now(UTC)
    user_rows = [
        {
            "id": uuid.uuid4(),
            "username": f"fan{i}",
            "display_name": f"Fan {i}",
            "role": "ATTENDEE",
            "created_at": now,
        }
        for i in range(users)
    ]
    event_rows = [
        {
            "id": uuid.uuid4(),
            "name": f"Fête {i}",
            "starts_at": now,
            "is_soca_passport_enabled": True,
            "stamp_points_default": 25 + (i % 8) * 25,
            "country_code": COUNTRIES[i % len(COUNTRIES)],
            "carnival_circuit": f"Circuit {i % 12}",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(events)
    ]
    profile_rows = [
        {
            "id": uuid.uuid4(),
            "user_id": row["id"],
            "handle": row["username"],
            "created_at": now,
            "updated_at": now,
        }
        for row in user_rows
    ]
    with engine.begin() as connection:
        connection.execute(insert(User), user_rows)
        connection.execute(insert(Event), event_rows)
        connection.execute(insert(PassportProfile), profile_rows)
    user_ids: list[uuid.UUID] = [row["id"] for row in user_rows]  # type: ignore[misc]
    event_ids: list[uuid.UUID] = [row["id"] for row in event_rows]  # type: ignore[misc]
    return user_ids, event_ids


def run_engine(kind: str, args: argparse.Namespace) -> dict[str, float]:
    """Run the awards and the recompute on one engine; return the figures."""
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database(kind, args.postgres_url, Path(folder)) as (_url, engine),
    ):
        migrate.upgrade(engine)
        users, events = _populate(engine, args.users, args.events)
        factory = make_session_factory(engine)
        rng = random.Random(7)
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < args.stamps:
            pairs.add((rng.randrange(args.users), rng.randrange(args.events)))
        work = list(pairs)
        rng.shuffle(work)
        batch_seconds = []
        started = time.perf_counter()
        for start in range(0, len(work), args.batch):
            batch_start = time.perf_counter()
            with unit_of_work(factory) as session:
                for user_index, event_index in work[start : start + args.batch]:
                    passport.award_stamp_for_event_scan(
                        session, user_id=users[user_index], event_id=events[event_index]
                    )
            batch_seconds.append(time.perf_counter() - batch_start)
        award_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with unit_of_work(factory) as session:
            report = recompute(session, inactivity_days=90)
        recompute_seconds = time.perf_counter() - started
        assert report.drift == [], f"drift after awarding: {report.drift[:3]}"
        return {
            "stamps": len(work),
            "seconds": award_seconds,
            "per_second": len(work) / award_seconds,
            "batch_p50_ms": statistics.median(batch_seconds) * 1000,
            "recompute_s": recompute_seconds,
            "profiles": report.checked["passport_profiles"],
        }


def main() -> None:
    """Parse arguments, run each engine, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stamps", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    print(
        f"awarding {args.stamps:,} stamps over {args.users:,} users and {args.events} events, "
        f"commit every {args.batch}"
    )
    print(
        f"{'engine':<11} {'stamps':>8} {'seconds':>8} {'stamps/s':>9} "
        f"{'batch p50 ms':>13} {'recompute s':>12} {'passports':>10}",
        flush=True,
    )
    for kind in kinds:
        figures = run_engine(kind, args)
        print(
            f"{kind:<11} {figures['stamps']:>8,.0f} {figures['seconds']:>8.1f} "
            f"{figures['per_second']:>9,.0f} {figures['batch_p50_ms']:>13.0f} "
            f"{figures['recompute_s']:>12.2f} {figures['profiles']:>10,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
