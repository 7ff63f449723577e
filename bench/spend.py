"""Spend feed benchmark: a real `soca-server serve` on PostgreSQL ingesting bar transactions.

    uv run python bench/spend.py                                 # 20,000 in batches of 500
    uv run python bench/spend.py --transactions 5000 --clients 2 --engine sqlite

The world (one event, `--users` attendees, two ACTIVE rewards: spend 150 → 10
recharge, up to 3 per person, and every 10 purchases → 5 bonus) and an
integration credential are written straight into the database before the
server starts. Then `--clients` bar systems post `--transactions` spend
transactions (random attendee, 5.00-60.00, unique external ids) to
`POST /api/v1/integrations/spend` in batches of `--batch`, concurrently:
transactions per second over the whole run, p50 and p95 per batch, and the
redemptions earned. Then the very same batches again (every transaction
already known: each answered as a duplicate with its first result).
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
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select

from server.db import migrate
from server.db.models import Event, RewardRedemption, User
from server.db.session import make_session_factory, unit_of_work
from server.devtools import ServerProcess, scratch_database
from server.domain import event_rewards, integrations

PORT = 18143


def _world(engine: Engine, users: int) -> tuple[str, list[str]]:
    """The event, its rewards and attendees; returns the credential's token and the user ids."""
    migrate.upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        event = Event(name="Bench Fête", starts_at=datetime.now(UTC), country_code="TT")
        session.add(event)
        people = [User(username=f"bench_{n}", display_name=f"Fan {n}") for n in range(users)]
        session.add_all(people)
        session.flush()
        rewards: list[tuple[str, str, Decimal | None, int | None, Decimal, int | None]] = [
            ("Spend 150, get 10", "MINIMUM_SPEND", Decimal("150"), None, Decimal("10"), 3),
            ("10 rounds, get 5", "TRANSACTION_COUNT", None, 10, Decimal("5"), None),
        ]
        for name, trigger, spend, rounds, amount, per_user in rewards:
            event_rewards.create(
                session,
                event_id=event.id,
                name=name,
                trigger_type=trigger,
                minimum_spend=spend,
                minimum_transactions=rounds,
                reward_type="RECHARGE",
                reward_amount=amount,
                max_redemptions_per_user=per_user,
                status="ACTIVE",
            )
        token = integrations.create(session, event_id=event.id, name="Bench bar").token
        return token, [str(person.id) for person in people]


def _batches(users: list[str], total: int, size: int) -> list[dict[str, Any]]:
    chooser = random.Random(18)
    start = datetime(2026, 2, 14, 22, 0, tzinfo=UTC)
    transactions = [
        {
            "external_id": f"bar-{number:07d}",
            "user_id": chooser.choice(users),
            "amount": f"{chooser.randint(500, 6000) / 100:.2f}",
            "currency": "EUR",
            "occurred_at": (start + timedelta(seconds=number)).isoformat(),
        }
        for number in range(total)
    ]
    return [
        {"transactions": transactions[at : at + size]} for at in range(0, len(transactions), size)
    ]


def _post_all(
    base: str, token: str, batches: list[dict[str, Any]], clients: int
) -> tuple[float, list[float], dict[str, int]]:
    """Post every batch, `clients` at a time: wall seconds, seconds per batch, result counts."""
    headers = {"Authorization": f"Bearer {token}"}
    counts = {"recorded": 0, "duplicates": 0, "rejected": 0, "redemptions": 0}

    def send(batch: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        with httpx.Client(base_url=base, timeout=300, headers=headers) as client:
            started = time.perf_counter()
            answer = client.post("/api/v1/integrations/spend", json=batch)
            elapsed = time.perf_counter() - started
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            return elapsed, body

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(send, batches))
    wall = time.perf_counter() - started
    for _elapsed, body in answers:
        for key in ("recorded", "duplicates", "rejected"):
            counts[key] += body[key]
        counts["redemptions"] += sum(len(r["redemptions"]) for r in body["results"])
    return wall, [elapsed for elapsed, _body in answers], counts


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_engine(kind: str, args: argparse.Namespace) -> None:
    """Build the world, start the server, ingest, replay, and print one row each."""
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database(kind, args.postgres_url, Path(folder)) as (url, engine),
    ):
        token, users = _world(engine, args.users)
        batches = _batches(users, args.transactions, args.batch)
        server = ServerProcess(url, port=args.port, workers=args.workers)
        server.start()
        try:
            for label in ("ingest", "replay"):
                wall, times, counts = _post_all(server.base_url, token, batches, args.clients)
                print(
                    f"{kind:<11} {label:<7} {args.transactions / wall:>10,.0f} "
                    f"{statistics.median(times) * 1000:>8.0f} {_pct(times, 0.95) * 1000:>8.0f} "
                    f"{counts['recorded']:>9,} {counts['duplicates']:>10,} "
                    f"{counts['rejected']:>8,} {counts['redemptions']:>12,}",
                    flush=True,
                )
        finally:
            server.stop()
        with unit_of_work(make_session_factory(engine)) as session:
            stored = session.scalar(select(func.count()).select_from(RewardRedemption))
        print(f"{'':<11} {'stored redemptions':<19} {stored:,}", flush=True)


def main() -> None:
    """Parse arguments, run each engine, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    print(
        f"{args.transactions:,} spend transactions from {args.clients} bar systems in batches "
        f"of {args.batch}; {args.users:,} attendees; {args.workers} server worker(s)"
    )
    print(
        f"{'engine':<11} {'run':<7} {'tx/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'recorded':>9} "
        f"{'duplicates':>10} {'rejected':>8} {'redemptions':>12}",
        flush=True,
    )
    for kind in kinds:
        run_engine(kind, args)


if __name__ == "__main__":
    main()
