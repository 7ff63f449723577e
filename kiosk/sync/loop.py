"""The background sync loop: a cycle every interval or when triggered, beside the scan path."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.errors import KioskError
from kiosk.sync.synchronizer import Synchronizer, SyncReport

logger = logging.getLogger(__name__)


class SyncLoop:
    """Runs `Synchronizer.sync_once` on its own thread, every `interval_s` or on `trigger()`.

    Threading contract: `start`, `trigger` and `stop` may be called from any
    thread. The loop thread builds its own `Synchronizer` through `factory`
    (its own SQLite connections and HTTP client) and closes it on exit, so it
    never touches the scan path's objects; the two share only the outbox
    file's write lock, which each holds for milliseconds. Scanning therefore
    never waits for the network. `on_report` runs on the loop thread after
    each cycle (a Qt shell relays it to the GUI thread with a signal). A
    revoked device ends the loop: the outbox is kept and `status` says why.
    """

    def __init__(
        self,
        factory: Callable[[], Synchronizer],
        *,
        interval_s: float,
        on_report: Callable[[SyncReport], None] | None = None,
    ) -> None:
        self._factory = factory
        self._interval_s = interval_s
        self._on_report = on_report
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_report: SyncReport | None = None
        self.cycles = 0

    @property
    def running(self) -> bool:
        """True while the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the loop thread (a first cycle runs at once)."""
        if self.running:
            return
        self._stopping.clear()
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name="soca-sync", daemon=True)
        self._thread.start()

    def trigger(self) -> None:
        """Ask for a cycle now (triggers during a cycle coalesce into one more)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the loop to end after its current cycle; True when it ended within `timeout`."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        try:
            synchronizer = self._factory()
        except KioskError as exc:
            logger.error("sync loop cannot start: %s", exc.message)
            return
        synchronizer.on_remote_change = self.trigger  # a waiting pull saw a change
        try:
            while not self._stopping.is_set():
                self._wake.wait(self._interval_s)
                self._wake.clear()
                if self._stopping.is_set():
                    break
                try:
                    report = synchronizer.sync_once()
                except Exception:  # a bug or a broken disk must not kill the loop silently
                    logger.exception("sync cycle failed")
                    continue
                self.cycles += 1
                self.last_report = report
                if self._on_report is not None:
                    self._on_report(report)
                if report.revoked:
                    logger.warning("device revoked: sync loop stopped, outbox kept")
                    break
        except KioskError as exc:
            logger.error("sync loop stopped: %s", exc.message)
        finally:
            synchronizer.close()
