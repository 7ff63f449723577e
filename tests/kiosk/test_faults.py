"""Faults between kiosk and the real server, injected by a proxy: every op applied exactly once.

One seeded server per engine serves the whole module; each test pairs its own
door device through a `FaultProxy` and scans its own attendees, so passport
points show whether an admission was applied once, never twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kiosk.app import open_kiosk, open_synchronizer, pair_device, start_sync_loop
from kiosk.cli import app
from kiosk.settings import KioskSettings, load_settings
from kiosk.sync.synchronizer import SyncReport
from tests.kiosk.live import LiveServer, live_server
from tests.kiosk.proxy import FaultProxy


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(request.param, tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.fixture
def proxy(live: LiveServer) -> Iterator[FaultProxy]:
    started = FaultProxy(live.url).start()
    yield started
    started.stop()


def paired(live: LiveServer, proxy: FaultProxy, folder: Path, **overrides: Any) -> KioskSettings:
    quick = {
        "retry_attempts": 5,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
        "request_deadline_s": 10,
    }
    settings = load_settings(data_dir=folder, **(quick | overrides))
    pair_device(settings, server_url=proxy.base_url, code=live.pairing_code(event_id=live.event_id))
    assert sync(settings).ok
    return settings


def sync(settings: KioskSettings) -> SyncReport:
    synchronizer = open_synchronizer(settings)
    try:
        return synchronizer.sync_once()
    finally:
        synchronizer.close()


def admit(
    settings: KioskSettings, live: LiveServer, people: range
) -> tuple[list[str], dict[str, int]]:
    """Scan the people's tickets (each twice); return op ids and their points before."""
    attendees = [live.world["attendees"][index] for index in people]
    before = {a["user_id"]: live.passport(a["user_id"])["total_points"] for a in attendees}
    op_ids = []
    with open_kiosk(settings) as kiosk:
        for attendee in attendees * 2:
            verdict = kiosk.require_door().scan(attendee["tickets"][0]["qr"])
            assert verdict.op_id is not None
            op_ids.append(str(verdict.op_id))
    return op_ids, before


def assert_applied_once(live: LiveServer, op_ids: list[str], before: dict[str, int]) -> None:
    points = live.world["events"][0]["stamp_points_default"]
    for op_id in op_ids:
        recorded = live.op(op_id)
        assert recorded["result"]["status"] in ("applied", "duplicate")
        assert recorded["first_result"]["status"] == recorded["result"]["status"]
    for user_id, total in before.items():
        assert live.passport(user_id)["total_points"] == total + points  # once, not twice


def test_500s_on_push_are_retried_and_each_op_applies_once(
    live: LiveServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    settings = paired(live, proxy, tmp_path)
    op_ids, before = admit(settings, live, range(0, 2))
    proxy.faults = ["500", "500", "500"]
    report = sync(settings)
    assert report.ok and report.pending == 0, report.error
    assert [fault for path, fault in proxy.seen if "push" in path][:4] == ["500"] * 3 + ["pass"]
    assert_applied_once(live, op_ids, before)


def test_a_response_lost_after_the_server_committed_gets_the_first_result_again(
    live: LiveServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    settings = paired(live, proxy, tmp_path)
    op_ids, before = admit(settings, live, range(2, 4))
    proxy.faults = ["drop", "drop"]
    report = sync(settings)
    assert report.ok and report.results == {"applied": 2, "duplicate": 2}, report
    assert_applied_once(live, op_ids, before)


def test_a_slow_server_dripping_bytes_is_cut_off_and_the_batch_is_not_stuck(
    live: LiveServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    settings = paired(live, proxy, tmp_path, request_deadline_s=1.0)
    op_ids, before = admit(settings, live, range(4, 6))
    proxy.faults = ["drip"]
    first = sync(settings)
    assert not first.ok and first.pending == 4 and "still arriving" in (first.error or "")
    second = sync(settings)
    assert second.ok and second.pending == 0, second.error
    assert_applied_once(live, op_ids, before)


def test_an_unreachable_server_keeps_ops_pending_until_it_answers(
    live: LiveServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    settings = paired(live, proxy, tmp_path, retry_attempts=2)
    op_ids, before = admit(settings, live, range(6, 8))
    proxy.faults = ["refuse"] * 2
    down = sync(settings)
    assert down.error_code == "server_unavailable" and down.pending == 4
    with open_kiosk(settings) as kiosk:
        assert kiosk.status.get_status().online is False
    assert sync(settings).ok
    assert_applied_once(live, op_ids, before)


def test_a_revoked_device_keeps_its_outbox_and_says_so(
    live: LiveServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    settings = paired(live, proxy, tmp_path)
    admit(settings, live, range(8, 9))
    with open_kiosk(settings) as kiosk:
        assert kiosk.config is not None
        device_id = kiosk.config.device_id
    assert live.hq("DELETE", f"/devices/{device_id}").status_code == 200
    result = CliRunner().invoke(app, ["sync", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 3 and "revoked" in result.stderr
    with open_kiosk(settings) as kiosk:
        status = kiosk.status.get_status()
        assert status.revoked and status.pending == 2
        assert "DEVICE REVOKED" in status.to_text()
    assert sync(settings).revoked  # and no more calls are made
    assert [path for path, _ in proxy.seen].count("/api/v1/sync/push") == 1


def test_faults_while_the_loop_runs_beside_scanning_lose_nothing(
    live: LiveServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    settings = paired(live, proxy, tmp_path, sync_interval_s=0.05, request_deadline_s=1.5)
    proxy.faults = ["drop", "500", "refuse", "drip", "drop"] * 2
    loop = start_sync_loop(settings)
    op_ids: list[str] = []
    try:
        with open_kiosk(settings) as kiosk:
            for _ in range(10):
                for attendee in live.world["attendees"][9:12]:
                    verdict = kiosk.require_door().scan(attendee["tickets"][0]["qr"])
                    op_ids.append(str(verdict.op_id))
                loop.trigger()
    finally:
        loop.stop(timeout=30)
    proxy.faults = []
    assert sync(settings).pending == 0
    for op_id in op_ids:
        assert live.op(uuid.UUID(op_id))["result"]["status"] in ("applied", "duplicate")
