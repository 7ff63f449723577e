"""Reliability over real HTTP: concurrent devices, and a server killed in the middle of pushes."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from core.wire import Op, TicketScanPayload, build_op
from server.db.models import PassportStamp, SyncOp, TicketScan
from server.devtools import ServerProcess, World, build_world, scratch_database
from tests.conftest import postgres_url

T0 = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with scratch_database(request.param, postgres_url(), tmp_path) as found:
        yield found


def scans(world: World, device: int, picks: list[tuple[int, int]]) -> list[Op]:
    """Scan ops for (ticket index, minute) picks, seq in order."""
    return [
        build_op(
            TicketScanPayload(
                qr=world.tickets[ticket]["qr_token"],
                event_id=world.event_id,
                gate=f"Gate {device + 1}",
                verdict="green",
            ),
            seq=seq,
            occurred_at=T0 + timedelta(seconds=second),
            device_clock=T0 + timedelta(seconds=second),
        )
        for seq, (ticket, second) in enumerate(picks, 1)
    ]


def body(ops: list[Op]) -> dict[str, Any]:
    return {
        "device_time": datetime.now(UTC).isoformat(),
        "ops": [op.model_dump(mode="json") for op in ops],
    }


def expected_winners(world: World, per_device: list[list[Op]]) -> dict[str, uuid.UUID]:
    """For each ticket, the op the contract's order says admits it."""
    best: dict[str, tuple[Any, uuid.UUID]] = {}
    for device, ops in enumerate(per_device):
        for op in ops:
            qr = op.payload["qr"]
            key = (op.occurred_at, str(world.device_ids[device]), op.seq)
            if qr not in best or key < best[qr][0]:
                best[qr] = (key, op.op_id)
    by_qr = {t["qr_token"]: str(t["id"]) for t in world.tickets}
    return {by_qr[qr]: op_id for qr, (_key, op_id) in best.items()}


def admitted(engine: Engine) -> dict[str, uuid.UUID]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(TicketScan.ticket_id, TicketScan.op_id).where(TicketScan.outcome == "ADMITTED")
        ).all()
    return {str(ticket): op for ticket, op in rows}


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return (
            connection.scalar(select(func.count()).select_from(SyncOp)) or 0,
            connection.scalar(select(func.count()).select_from(TicketScan)) or 0,
            connection.scalar(select(func.count()).select_from(PassportStamp)) or 0,
        )


def test_ten_devices_pushing_overlapping_ops_at_once(scratch: tuple[str, Engine]) -> None:
    url, engine = scratch
    world = build_world(engine, tickets=120, devices=10)
    rng = random.Random(5)
    per_device = [
        scans(world, d, [(rng.randrange(120), rng.randrange(3600)) for _ in range(60)])
        for d in range(10)
    ]
    server = ServerProcess(url)
    server.start()
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def run(device: int) -> None:
        headers = {"Authorization": f"Bearer {world.tokens[device]}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            barrier.wait()
            for start in range(0, 60, 15):
                response = client.post(
                    "/api/v1/sync/push", json=body(per_device[device][start : start + 15])
                )
                statuses.append(response.status_code)

    try:
        threads = [threading.Thread(target=run, args=(d,)) for d in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        server.stop()
    assert statuses == [200] * 40
    winners = expected_winners(world, per_device)
    assert admitted(engine) == winners
    assert counts(engine) == (600, 600, len(winners))


def test_server_killed_during_pushes_ends_with_every_op_applied_once(
    scratch: tuple[str, Engine],
) -> None:
    url, engine = scratch
    world = build_world(engine, tickets=150, devices=3)
    rng = random.Random(9)
    per_device = [
        scans(world, d, [(rng.randrange(150), rng.randrange(3600)) for _ in range(80)])
        for d in range(3)
    ]
    server = ServerProcess(url)
    server.start()

    def run(device: int) -> None:
        headers = {"Authorization": f"Bearer {world.tokens[device]}"}
        batches = [per_device[device][i : i + 8] for i in range(0, 80, 8)]
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            for batch in batches:
                while True:  # a kiosk retries the same batch until it gets results
                    try:
                        response = client.post("/api/v1/sync/push", json=body(batch))
                        if response.status_code == 200:
                            assert len(response.json()["results"]) == len(batch)
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.05)

    threads = [threading.Thread(target=run, args=(d,)) for d in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            time.sleep(0.6)
            server.kill()
            time.sleep(0.2)
            server.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        server.stop()
    assert all(not thread.is_alive() for thread in threads)
    winners = expected_winners(world, per_device)
    assert counts(engine) == (240, 240, len(winners))
    assert admitted(engine) == winners


def test_same_batch_in_two_concurrent_requests_is_applied_once(
    scratch: tuple[str, Engine],
) -> None:
    url, engine = scratch
    world = build_world(engine, tickets=40, devices=1)
    ops = scans(world, 0, [(i, i) for i in range(40)])
    server = ServerProcess(url)
    server.start()
    answers: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        headers = {"Authorization": f"Bearer {world.tokens[0]}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            barrier.wait()
            response = client.post("/api/v1/sync/push", json=body(ops))
            assert response.status_code == 200
            answers.append(response.json())

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.stop()
    assert len(answers) == 2
    assert answers[0]["results"] == answers[1]["results"]
    assert {r["status"] for r in answers[0]["results"]} == {"applied"}
    assert counts(engine) == (40, 40, 40)
