"""The kiosk files: pragmas asserted, migrations, one transaction per op and effect, two writers."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils.migrations import Migrations

from core.clock import FixedClock
from core.wire import OpResult, OpStatus, TicketScanPayload
from kiosk.app import Kiosk, open_kiosk
from kiosk.errors import StoreError
from kiosk.settings import KioskSettings
from kiosk.store.cache import Cache
from kiosk.store.database import Synchronous, open_database, pragma_report
from kiosk.store.outbox import LocalCheckin, Outbox, SyncRecord
from kiosk.store.schema import OUTBOX_MIGRATIONS, _outbox_0001
from tests.kiosk.world import NOW, World


def test_both_files_open_with_wal_sync_foreign_keys_and_busy_timeout(door: Kiosk) -> None:
    outbox = pragma_report(door.outbox.db)
    cache = pragma_report(door.cache.db)
    assert outbox["journal_mode"] == "wal" and cache["journal_mode"] == "wal"
    assert outbox["synchronous"] == Synchronous.FULL
    assert cache["synchronous"] == Synchronous.NORMAL  # re-downloadable
    assert outbox["foreign_keys"] == 1 and cache["foreign_keys"] == 1
    assert outbox["busy_timeout"] == 10_000 and cache["busy_timeout"] == 10_000
    assert outbox["integrity_check"] == "ok" and cache["integrity_check"] == "ok"
    assert door.outbox.path != door.cache.path


def test_a_file_that_cannot_use_wal_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="journal_mode"):
        open_database(
            Path(":memory:"), OUTBOX_MIGRATIONS, synchronous=Synchronous.FULL, busy_timeout_ms=100
        )


def test_a_corrupt_file_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=str(path)):
        Cache.open(path, busy_timeout_ms=100)


def test_migrations_run_once_and_reopening_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    Outbox.open(path, busy_timeout_ms=100).close()
    outbox = Outbox.open(path, busy_timeout_ms=100)
    names = [row[0] for row in outbox.db.execute("SELECT name FROM _sqlite_migrations")]
    outbox.close()
    assert names == [
        "0001_ops_and_effects",
        "0002_second_wave_op_types",
        "0003_card_entry_unstamps",
    ]


def test_an_outbox_of_the_first_schema_takes_unstamps_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    first = Migrations("soca-kiosk-outbox")
    first(name="0001_ops_and_effects")(_outbox_0001)
    old = open_database(path, first, synchronous=Synchronous.FULL, busy_timeout_ms=100)
    old.execute(
        "INSERT INTO ops (op_id, type, occurred_at, device_clock, payload) "
        "VALUES ('s1', 'pass.stamp', 't', 't', '{}')"
    )
    old.execute(
        "INSERT INTO card_entries (offer_id, user_id, kind, occurred_at, op_id) "
        "VALUES ('o', 'u', 'STAMP', 't', 's1')"
    )
    old.close()
    outbox = Outbox.open(path, busy_timeout_ms=100)
    db = outbox.db
    db.execute(
        "INSERT INTO ops (op_id, type, occurred_at, device_clock, payload) "
        "VALUES ('u1', 'pass.unstamp', 't', 't', '{}')"
    )
    db.execute(
        "INSERT INTO card_entries (offer_id, user_id, kind, occurred_at, op_id, undoes) "
        "VALUES ('o', 'u', 'UNSTAMP', 't', 'u1', 's1')"
    )
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO ops (op_id, type, occurred_at, device_clock, payload) "
            "VALUES ('x', 'pass.bogus', 't', 't', '{}')"
        )
    with pytest.raises(sqlite3.IntegrityError):  # an UNSTAMP names its stamp
        db.execute(
            "INSERT INTO card_entries (offer_id, user_id, kind, occurred_at, op_id) "
            "VALUES ('o', 'u', 'UNSTAMP', 't', 's1')"
        )
    with pytest.raises(sqlite3.IntegrityError):  # the foreign key still holds
        db.execute(
            "INSERT INTO card_entries (offer_id, user_id, kind, occurred_at, op_id) "
            "VALUES ('o', 'u', 'STAMP', 't', 'missing')"
        )
    kinds = [row[0] for row in db.execute("SELECT kind FROM card_entries ORDER BY id")]
    report = pragma_report(db)
    outbox.close()
    assert kinds == ["STAMP", "UNSTAMP"] and report["integrity_check"] == "ok"


def test_several_openers_of_a_fresh_folder_at_once_all_succeed(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_both() -> None:
        try:
            start.wait()
            Outbox.open(tmp_path / "outbox.sqlite3", busy_timeout_ms=5000).close()
            Cache.open(tmp_path / "cache.sqlite3", busy_timeout_ms=5000).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_both) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_an_op_and_its_effect_commit_together_or_not_at_all(door: Kiosk, world: World) -> None:
    payload = TicketScanPayload(qr="1" * 250, event_id=world.event.id, gate="g", verdict="green")

    def admit_then_fail() -> None:
        with door.outbox.transaction():
            op = door.outbox.add_op(payload, device_clock=NOW, device_id=None)
            door.outbox.add_checkin(
                LocalCheckin(uuid.uuid4(), world.event.id, None, "g", NOW, 0, op.op_id)
            )
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        admit_then_fail()
    assert door.outbox.pending_count() == 0
    assert door.outbox.db.execute("SELECT COUNT(*) FROM checkins").fetchone()[0] == 0


def test_an_effect_without_its_op_is_refused_by_the_foreign_key(door: Kiosk, world: World) -> None:
    with pytest.raises(sqlite3.IntegrityError), door.outbox.transaction():
        door.outbox.add_checkin(
            LocalCheckin(uuid.uuid4(), world.event.id, None, "g", NOW, 0, uuid.uuid4())
        )


def test_outbox_writes_outside_a_transaction_are_refused(door: Kiosk, world: World) -> None:
    payload = TicketScanPayload(qr="1", event_id=world.event.id, gate="g")
    with pytest.raises(RuntimeError, match=r"Outbox\.transaction"):
        door.outbox.add_op(payload, device_clock=NOW, device_id=None)


def test_wiping_the_cache_never_loses_unsent_ops(
    door: Kiosk, world: World, clock: FixedClock
) -> None:
    for attendee in world.attendees[:3]:
        door.require_door().scan(attendee.ticket_qr)
    settings: KioskSettings = door.settings
    door.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.cache_path}{suffix}").unlink(missing_ok=True)
    with open_kiosk(settings, clock=clock) as reopened:
        assert reopened.outbox.pending_count() == 3
        assert reopened.cache.counts()["tickets"] == 0
        # Local effects live with the ops, in the outbox file.
        assert reopened.outbox.checkin(world.attendees[0].ticket_id) is not None


def test_scan_path_and_sync_writer_share_the_outbox_without_database_is_locked(
    door: Kiosk, world: World
) -> None:
    """The scan path commits ops while another connection marks acks: nobody sees 'locked'."""
    path = door.outbox.path
    failures: list[BaseException] = []
    stop = threading.Event()

    def sync_writer() -> None:
        outbox = Outbox.open(path, busy_timeout_ms=10_000)
        try:
            while not stop.is_set():
                ops = outbox.pending_ops(50)
                results = [OpResult(op_id=op.op_id, status=OpStatus.APPLIED) for op in ops]
                outbox.mark_results(results, attempted=[op.op_id for op in ops], now=NOW)
                outbox.set_sync_record(SyncRecord(online=True, last_success_at=NOW))
                outbox.set_clock(timedelta(seconds=1), measured_at=NOW)
                time.sleep(0.001)  # a busy sync loop, yet not a tight spin on the write lock
        except BaseException as exc:
            failures.append(exc)
        finally:
            outbox.close()

    thread = threading.Thread(target=sync_writer)
    thread.start()
    latencies = []
    try:
        service = door.require_door()
        for _ in range(100):
            for attendee in world.attendees:
                started = time.perf_counter()
                service.scan(attendee.ticket_qr)
                latencies.append(time.perf_counter() - started)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    counts = door.outbox.state_counts()
    assert sum(counts.values()) == 100 * len(world.attendees)
    assert max(latencies) < 1.0  # waited for the lock at worst, never failed
