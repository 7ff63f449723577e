"""The sync worker on its own QThread (superqt's pattern), and what the door strip shows.

Store operations run through `kiosk.ui.ops` (`StoreOp` on a window's
`StoreThread`). `SyncWorker` runs `Synchronizer.sync_once` every interval or
when triggered, with its own connections and HTTP client; it reports only
through signals (reaching widgets through bound slots), stops by a flag, and
turns an exception into `failed(message)`: a visible state, never a dead
thread nobody noticed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from kiosk.app import Kiosk, open_synchronizer
from kiosk.services.counters import DoorCounters, get_counters
from kiosk.services.status import KioskStatus
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import Synchronizer, SyncReport
from kiosk.ui.ops import describe_error

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DoorSnapshot:
    """What the door screen's always-visible strip shows after each operation or sync."""

    status: KioskStatus
    counters: DoorCounters


def door_snapshot(kiosk: Kiosk) -> DoorSnapshot:
    """The door strip's status and counters as the store holds them now."""
    door = kiosk.require_door()
    counters = get_counters(
        door.outbox, door.cache, event_id=door.event_id, gate=door.gate, device_id=door.device_id
    )
    return DoorSnapshot(kiosk.status.get_status(), counters)


class SyncWorker(QObject):
    """Syncs every `interval_s` or on `trigger()`, on its own thread, until `stop()`.

    Threading contract: `run` is connected to `QThread.started` and loops on
    the worker thread, which builds its own `Synchronizer` through `factory`.
    `trigger()` and `stop()` only set events, so they are safe from any thread;
    a cycle already talking to the server finishes first (bounded by the HTTP
    deadlines). `report_ready(SyncReport)` after each cycle; `failed(str)` when
    the loop cannot start or a cycle raises; `finished` always, last.
    """

    report_ready = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, factory: Callable[[], Synchronizer], *, interval_s: float) -> None:
        super().__init__()
        self._factory = factory
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.cycles = 0

    @classmethod
    def for_settings(cls, settings: KioskSettings) -> SyncWorker:
        """A worker that opens the paired device's synchronizer."""
        return cls(lambda: open_synchronizer(settings), interval_s=settings.sync_interval_s)

    def trigger(self) -> None:
        """Ask for a cycle now."""
        self._wake.set()

    def stop(self) -> None:
        """Ask the loop to end; safe from any thread."""
        self._stopping.set()
        self._wake.set()

    @Slot()
    def run(self) -> None:
        """The loop: a first cycle at once, then one per interval or trigger."""
        synchronizer: Synchronizer | None = None
        try:
            synchronizer = self._factory()
            synchronizer.on_remote_change = self.trigger  # a waiting pull saw a change
            self._wake.set()
            while not self._stopping.is_set():
                self._wake.wait(self._interval_s)
                self._wake.clear()
                if self._stopping.is_set():
                    break
                try:
                    report: SyncReport = synchronizer.sync_once()
                except Exception as exc:
                    logger.exception("sync cycle failed")
                    self.failed.emit(f"sync failed: {describe_error(exc)}")
                    continue
                self.cycles += 1
                self.report_ready.emit(report)
                if report.revoked:
                    self.failed.emit("this device was revoked: sync stopped, scans are kept")
                    break
        except Exception as exc:
            logger.exception("the sync loop stopped")
            self.failed.emit(f"sync stopped: {describe_error(exc)}")
        finally:
            if synchronizer is not None:
                synchronizer.close()
            self.finished.emit()


def start_worker(worker: QObject, entry: Callable[[], None], name: str) -> QThread:
    """Move `worker` to a new QThread started at `entry` (superqt's pattern).

    The worker's `finished` quits the thread; the thread's `finished` deletes
    the worker in its own thread (`deleteLater`). The caller waits for the
    thread with `wait_for_thread`, which then deletes the thread.
    """
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(entry)
    finished = getattr(worker, "finished", None)
    if finished is not None:
        finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(worker.deleteLater)
    thread.start()
    return thread
