"""One sync cycle and the loop, against the in-process fake server: every op exactly once."""

from __future__ import annotations

import os
import stat
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.clock import FixedClock
from core.reasons import Reason
from core.wire import DeletionRow, DeviceRole, DeviceScope, Op, OpResult, OpStatus
from kiosk.app import Kiosk, open_kiosk, open_synchronizer, pair_device, start_sync_loop
from kiosk.errors import ConfigError, RequestRefused
from kiosk.services.verdict import Colour
from kiosk.settings import KioskSettings
from kiosk.store.config import load_config
from kiosk.sync.synchronizer import SyncReport
from tests.kiosk.fake_server import FakeServer, reject_type
from tests.kiosk.world import World, install

FAST: dict[str, Any] = {
    "push_batch_size": 3,
    "retry_attempts": 5,
    "backoff_initial_s": 0.001,
    "backoff_max_s": 0.005,
    "request_deadline_s": 5.0,
}


@pytest.fixture
def paired(tmp_path: Path, world: World) -> KioskSettings:
    settings, _ = install(tmp_path / "kiosk", world, page=world.page(cursor=None), **FAST)
    return settings


@pytest.fixture
def server(world: World) -> FakeServer:
    whole = world.page()
    first = whole.model_copy(update={"tickets": whole.tickets[:4], "passports": []})
    second = whole.model_copy(
        update={"tickets": whole.tickets[4:], "keys": [], "events": [], "offers": []}
    )
    return FakeServer([first, second])


@pytest.fixture
def kiosk(paired: KioskSettings, clock: FixedClock) -> Iterator[Kiosk]:
    with open_kiosk(paired, clock=clock) as opened:
        yield opened


def sync(settings: KioskSettings, server: FakeServer) -> SyncReport:
    synchronizer = open_synchronizer(settings, transport=server.transport())
    try:
        return synchronizer.sync_once()
    finally:
        synchronizer.close()


def scan_all(kiosk: Kiosk, world: World) -> list[uuid.UUID]:
    verdicts = [kiosk.require_door().scan(a.ticket_qr) for a in world.attendees]
    return [v.op_id for v in verdicts if v.op_id is not None]


def test_sync_pushes_in_batches_marks_each_op_then_pulls_every_page(
    kiosk: Kiosk, world: World, server: FakeServer, paired: KioskSettings
) -> None:
    op_ids = scan_all(kiosk, world)
    report = sync(paired, server)
    assert report.ok and report.pushed == 8 and report.results == {"applied": 8}
    assert report.pages == 2 and report.pending == 0
    assert server.requests.count("POST /api/v1/sync/push") == 3  # 3 + 3 + 2
    assert set(server.results) == set(op_ids)
    assert kiosk.outbox.state_counts()["applied"] == 8
    assert kiosk.cache.cursor() == "2" and kiosk.cache.counts()["tickets"] == 8
    status = kiosk.status.get_status()
    assert status.online is True and status.last_success_at is not None and status.pending == 0
    again = sync(paired, server)
    assert again.pushed == 0 and server.requests[-1] == "GET /api/v1/sync/pull"


def test_a_response_lost_after_the_server_committed_is_resent_and_applied_once(
    kiosk: Kiosk, world: World, server: FakeServer, paired: KioskSettings
) -> None:
    op_ids = scan_all(kiosk, world)
    server.faults = ["drop", "500", "drop"]
    report = sync(paired, server)
    assert report.ok, report.error
    assert len(server.received) > len(op_ids)  # some ops arrived twice
    assert sorted(server.results) == sorted(op_ids)  # each applied exactly once
    assert kiosk.outbox.state_counts()["applied"] == 8


def test_server_down_keeps_ops_pending_and_says_offline_until_it_returns(
    kiosk: Kiosk, world: World, server: FakeServer, paired: KioskSettings
) -> None:
    op_ids = scan_all(kiosk, world)
    server.faults = ["connect"] * 10
    report = sync(paired, server)
    assert not report.ok and report.error_code == "server_unavailable"
    assert report.pending == 8
    status = kiosk.status.get_status()
    assert status.online is False and status.last_error and status.pending == 8
    server.faults = []
    assert sync(paired, server).ok
    assert sorted(server.results) == sorted(op_ids)
    assert kiosk.status.get_status().online is True


def test_a_slow_server_dripping_bytes_times_out_and_the_batch_is_resent_later(
    tmp_path: Path, world: World, server: FakeServer, clock: FixedClock
) -> None:
    settings, _ = install(tmp_path / "slow", world, **(FAST | {"request_deadline_s": 0.5}))
    with open_kiosk(settings, clock=clock) as kiosk:
        op_ids = scan_all(kiosk, world)
        server.faults = ["drip"]
        first = sync(settings, server)
        assert not first.ok and "still arriving" in (first.error or "")
        assert kiosk.outbox.pending_count() == 8
        assert sync(settings, server).ok
        assert sorted(server.results) == sorted(op_ids)
        assert kiosk.outbox.pending_count() == 0


def test_rejected_and_conflicting_ops_are_stored_shown_and_never_resent(
    tmp_path: Path, world: World, clock: FixedClock
) -> None:
    settings, _ = install(tmp_path / "k", world, **FAST)
    reject = reject_type("package.activate", Reason.REVOKED)

    def decide(op: Op) -> OpResult:
        if op.payload.get("verdict") == "amber":
            return OpResult(op_id=op.op_id, status=OpStatus.CONFLICT, reason=Reason.ALREADY_SCANNED)
        return reject(op)

    server = FakeServer([world.page()], decide=decide)
    with open_kiosk(settings, clock=clock) as kiosk:
        scan_all(kiosk, world)
        reentry = kiosk.require_door().scan(world.attendees[0].ticket_qr)
        activation = kiosk.require_door().scan(world.purchase_qrs[world.purchases[0].id])
        report = sync(settings, server)
        assert report.results == {"applied": 8, "rejected": 1, "conflict": 1}
        received = len(server.received)
        assert sync(settings, server).pushed == 0 and len(server.received) == received
        problems = kiosk.status.list_problems()
        assert [(p.op_id, p.state, p.reason) for p in problems] == [
            (activation.op_id, "rejected", "revoked"),
            (reentry.op_id, "conflict", "already_scanned"),
        ]
        text = kiosk.status.get_status().to_text()
        assert "rejected: package.activate" in text and "conflict: ticket.scan" in text


def test_an_op_the_server_refuses_outright_is_isolated_and_the_rest_go_through(
    kiosk: Kiosk, world: World, server: FakeServer, paired: KioskSettings
) -> None:
    op_ids = scan_all(kiosk, world)
    poison = op_ids[4]
    original = server.handle

    def refuse_poison(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/push") and str(poison).encode() in request.content:
            return httpx.Response(422, json={"detail": "ops.1.payload: bad"})
        return original(request)

    server.handle = refuse_poison  # type: ignore[method-assign]
    report = sync(paired, server)
    assert report.ok and report.results == {"applied": 7, "rejected": 1}
    record = kiosk.outbox.get_op(poison)
    assert record is not None and record.state == "rejected" and record.reason == "invalid_op"
    assert record.message is not None and "ops.1.payload: bad" in record.message


def test_a_revoked_device_keeps_its_outbox_says_so_and_stops_syncing(
    kiosk: Kiosk, world: World, server: FakeServer, paired: KioskSettings
) -> None:
    scan_all(kiosk, world)
    server.revoked = True
    report = sync(paired, server)
    assert report.revoked and not report.ok and report.pending == 8
    requests = len(server.requests)
    again = sync(paired, server)
    assert again.revoked and len(server.requests) == requests  # no more calls
    status = kiosk.status.get_status()
    assert status.revoked and status.pending == 8
    assert "DEVICE REVOKED" in status.to_text() and "8 unsent op(s) are kept" in status.to_text()
    # A revoked kiosk admits nobody any more (issue 14); what it holds stays to be sent.
    refused = kiosk.require_door().scan(world.attendees[0].ticket_qr)
    assert refused.colour is Colour.RED and refused.headline == "This kiosk has been revoked"
    assert kiosk.outbox.pending_count() == 8


def test_clock_offset_is_measured_stored_and_warned_about_beyond_two_minutes(
    kiosk: Kiosk, world: World, paired: KioskSettings
) -> None:
    server = FakeServer([world.page()], server_offset=timedelta(minutes=5))
    assert sync(paired, server).ok
    offset = kiosk.outbox.clock().offset
    assert abs(offset - timedelta(minutes=5)) < timedelta(seconds=2)
    status = kiosk.status.get_status()
    assert status.clock_warning and "WARNING" in status.to_text()
    verdict = kiosk.require_door().scan(world.attendees[0].ticket_qr)
    op = kiosk.outbox.get_op(verdict.op_id or uuid.uuid4())
    assert op is not None and op.occurred_at - op.device_clock == offset


def test_pull_resumes_from_the_stored_cursor_and_applies_deletions(
    kiosk: Kiosk, world: World, server: FakeServer, paired: KioskSettings
) -> None:
    assert sync(paired, server).ok
    gone = world.attendees[0].ticket_id
    server.pages.append(
        world.page(
            keys=[],
            events=[],
            tickets=[],
            passports=[],
            offers=[],
            purchases=[],
            deletions=[DeletionRow(entity="tickets", id=str(gone))],
        )
    )
    assert sync(paired, server).ok
    assert "GET /api/v1/sync/pull" in server.requests
    assert kiosk.cache.ticket(gone) is None and kiosk.cache.cursor() == "3"
    assert kiosk.require_search().search(world.attendees[0].name) == []


def test_the_sync_loop_never_blocks_scanning(
    kiosk: Kiosk, world: World, paired: KioskSettings
) -> None:
    server = FakeServer([world.page()])
    answer = server.handle
    in_flight, release = threading.Event(), threading.Event()

    def hang(request: httpx.Request) -> httpx.Response:
        in_flight.set()  # the loop is now inside a request the server is not answering
        release.wait(60)
        return answer(request)

    server.handle = hang  # type: ignore[method-assign]
    reports: list[SyncReport] = []
    loop = start_sync_loop(paired, transport=server.transport(), on_report=reports.append)
    try:
        assert in_flight.wait(30)
        verdicts = [kiosk.require_door().scan(a.ticket_qr) for a in world.attendees]
        # Every scan was decided and committed while the sync request still hung.
        assert not release.is_set()
        assert [v.colour for v in verdicts] == ["green"] * len(world.attendees)
    finally:
        release.set()
        loop.trigger()
        assert loop.stop(timeout=60)
    assert reports and all(report.error is None for report in reports)


def test_pairing_saves_a_private_config_clears_revocation_and_empties_the_cache(
    tmp_path: Path, world: World, clock: FixedClock
) -> None:
    settings, old = install(tmp_path / "re", world, **FAST)
    server = FakeServer([world.page()])
    server.pair_scope = DeviceScope(event_id=world.event.id)
    with open_kiosk(settings, clock=clock) as kiosk:
        scan_all(kiosk, world)
        server.revoked = True
        assert sync(settings, server).revoked
    with pytest.raises(RequestRefused, match="unknown or used pairing code"):
        pair_device(settings, server_url="http://fake", code="WRONG", transport=server.transport())
    config = pair_device(
        settings, server_url="http://fake/", code="GOOD-CODE", transport=server.transport()
    )
    assert config.device_id != old.device_id and config.server_url == "http://fake"
    assert stat.S_IMODE(os.stat(settings.config_path).st_mode) == 0o600
    assert load_config(settings.config_path) == config
    server.revoked = False
    with open_kiosk(settings, clock=clock) as kiosk:
        assert kiosk.cache.counts()["tickets"] == 0  # emptied for the new pairing
        status = kiosk.status.get_status()
        assert not status.revoked and status.pending == 8  # ops kept for the new pairing
    assert sync(settings, server).results == {"applied": 8}


def test_a_corrupt_config_is_a_clear_error_naming_the_file_and_pairing_fixes_it(
    tmp_path: Path, world: World, clock: FixedClock
) -> None:
    settings, _ = install(tmp_path / "corrupt", world, **FAST)
    settings.config_path.write_text('{"server_url": "http://x", "token": ', encoding="utf-8")
    with pytest.raises(ConfigError, match=str(settings.config_path)):
        open_kiosk(settings, clock=clock)
    server = FakeServer([world.page()])
    server.pair_role, server.pair_scope = DeviceRole.BRANCH, DeviceScope(branch_id=world.branch_id)
    pair_device(settings, server_url="http://fake", code="GOOD-CODE", transport=server.transport())
    with open_kiosk(settings, clock=clock) as kiosk:
        assert kiosk.prize is not None and kiosk.door is None


def test_ops_reach_the_server_exactly_once_under_concurrent_scans_and_faults(
    kiosk: Kiosk, world: World, paired: KioskSettings
) -> None:
    server = FakeServer([world.page()])
    server.faults = ["drop", "500", "connect", "drop", "429", "drop"] * 3
    loop = start_sync_loop(paired, transport=server.transport())
    scanned: list[uuid.UUID] = []
    try:
        for _ in range(30):
            scanned.extend(scan_all(kiosk, world))
            loop.trigger()
    finally:
        loop.stop(timeout=10)
    for _ in range(5):
        if sync(paired, server).pending == 0:
            break
    assert sorted(server.results) == sorted(scanned)
    assert kiosk.outbox.state_counts()["applied"] == len(scanned)
    assert all(r.status is OpStatus.APPLIED for r in server.results.values())
