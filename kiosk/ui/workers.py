"""The shell's two worker QObjects, each on its own QThread (superqt's pattern).

`DatabaseWorker` owns the one `Kiosk` (outbox and cache connections): it is
opened on the worker's thread when it starts and every operation runs there,
one at a time, so the GUI thread never waits for SQLite (Anki's single DB
executor). `SyncWorker` runs `Synchronizer.sync_once` every interval or when
triggered, with its own connections and HTTP client. Both report only through
signals, stop by a flag, and turn an exception into `failed(message)`: a
visible state, never a dead thread nobody noticed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from kiosk.app import Kiosk, open_kiosk, open_synchronizer
from kiosk.errors import KioskError
from kiosk.scanner._signals import emit
from kiosk.services.counters import DoorCounters, get_counters
from kiosk.services.status import KioskStatus
from kiosk.settings import KioskSettings
from kiosk.sync.synchronizer import Synchronizer, SyncReport
from kiosk.ui.i18n import tr

logger = logging.getLogger(__name__)


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, KioskError) else f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class DoorSnapshot:
    """What the door screen's always-visible strip shows after each operation or sync."""

    status: KioskStatus
    counters: DoorCounters


class DatabaseWorker(QObject):
    """Runs the door's operations on the database thread; results come back as signals.

    Threading contract: constructed in the GUI thread, moved to its thread by
    `start_worker`; its slots are invoked through queued signals (the GUI
    never calls them directly). `verdict_ready(Verdict)`, `matches_ready(list)`,
    `snapshot_ready(DoorSnapshot)` and `failed(str)` arrive in the GUI thread.
    """

    verdict_ready = Signal(object)
    matches_ready = Signal(object)
    snapshot_ready = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, settings: KioskSettings, *, opener: Callable[[], Kiosk] | None = None):
        super().__init__()
        self._opener = opener or (lambda: open_kiosk(settings))
        self._kiosk: Kiosk | None = None

    @Slot()
    def open(self) -> None:
        """Open the store on this thread (connected to `QThread.started`)."""
        try:
            self._kiosk = self._opener()
            self._kiosk.require_door()
        except Exception as exc:
            logger.exception("cannot open the kiosk store")
            emit(self.failed, _message(exc))
            return
        self.refresh()

    @Slot(str)
    def scan(self, code: str) -> None:
        """`DoorService.scan(code)`, then a fresh snapshot."""
        self._run(lambda kiosk: emit(self.verdict_ready, kiosk.require_door().scan(code)))

    @Slot(str)
    def check_in(self, ticket_id: str) -> None:
        """`DoorService.check_in(ticket_id)` (a manual check-in), then a fresh snapshot."""
        self._run(
            lambda kiosk: emit(
                self.verdict_ready, kiosk.require_door().check_in(uuid.UUID(ticket_id))
            )
        )

    @Slot(str)
    def search(self, query: str) -> None:
        """`TicketSearch.search(query)`; an empty query gives no matches."""
        if not query.strip():
            emit(self.matches_ready, [])
            return
        self._run(
            lambda kiosk: emit(self.matches_ready, kiosk.require_search().search(query)),
            refresh=False,
        )

    @Slot()
    def refresh(self) -> None:
        """Emit the status and counters as they are now."""
        self._run(lambda _kiosk: None)

    @Slot()
    def close(self) -> None:
        """Close the store and end (connected from the GUI when the window closes)."""
        if self._kiosk is not None:
            self._kiosk.close()
            self._kiosk = None
        emit(self.finished)

    def _run(self, work: Callable[[Kiosk], object], *, refresh: bool = True) -> None:
        kiosk = self._kiosk
        if kiosk is None:
            emit(self.failed, "the kiosk store is not open")
            return
        try:
            work(kiosk)
            if refresh:
                door = kiosk.require_door()
                counters = get_counters(
                    door.outbox,
                    door.cache,
                    event_id=door.event_id,
                    gate=door.gate,
                    device_id=door.device_id,
                )
                emit(self.snapshot_ready, DoorSnapshot(kiosk.status.get_status(), counters))
        except Exception as exc:
            logger.exception("a kiosk operation failed")
            emit(self.failed, _message(exc))


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
                    emit(self.failed, f"sync failed: {_message(exc)}")
                    continue
                self.cycles += 1
                emit(self.report_ready, report)
                if report.revoked:
                    emit(self.failed, "this device was revoked: sync stopped, scans are kept")
                    break
        except Exception as exc:
            logger.exception("the sync loop stopped")
            emit(self.failed, f"sync stopped: {_message(exc)}")
        finally:
            if synchronizer is not None:
                synchronizer.close()
            emit(self.finished)


class StoreReader(QObject):
    """A worker that opens the kiosk store for each request, on its own thread.

    Threading contract: built in the GUI thread and moved by `start_worker`;
    its slots run through queued signals, open the store, do one thing and
    close it, so it holds no connection between requests. `failed(str)` and
    `finished()` arrive in the GUI thread; subclasses add their result signals.
    """

    failed = Signal(str)
    finished = Signal()

    def __init__(self, settings: KioskSettings) -> None:
        super().__init__()
        self._settings = settings

    def _with_store(self, work: Callable[[Kiosk], None], failure: str = "{error}") -> None:
        """Run `work` with a freshly opened store; a failure is emitted in words, never raised."""
        try:
            with open_kiosk(self._settings) as kiosk:
                work(kiosk)
        except Exception as exc:
            logger.exception("a store request failed")
            emit(self.failed, tr(failure, error=_message(exc)))

    @Slot()
    def close(self) -> None:
        """End (connected from the GUI when the window closes)."""
        emit(self.finished)


def start_worker(worker: QObject, entry: Callable[[], None], name: str) -> QThread:
    """Move `worker` to a new QThread started at `entry`; `finished → quit` (superqt's pattern)."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(entry)
    finished = getattr(worker, "finished", None)
    if finished is not None:
        finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread
