"""One store thread per window and one operation runner, in the style of Anki's `CollectionOp`.

    store = StoreThread("kiosk-database", open_store=lambda: open_kiosk(settings))
    store.start()
    StoreOp(lambda: store.kiosk().require_door().scan(code)).success(
        self.show_verdict
    ).failure(self.show_problem).run_in_background(store)
    ...
    store.stop()  # runs what was queued, closes the store, waits, deleteLater

`fn` runs on the store thread, one operation at a time, in the order they
were queued; `success(value)` or `failure(message)` then runs on the GUI
thread (a queued call to a bound slot), so callbacks may touch widgets. An
exception becomes words in one place, `describe_error`. After `stop()` no
callback runs.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal, Slot

from kiosk.app import Kiosk
from kiosk.errors import KioskError

logger = logging.getLogger(__name__)

T = TypeVar("T")


def describe_error(exc: BaseException) -> str:
    """An exception in words: a KioskError's message, else its type and text."""
    return exc.message if isinstance(exc, KioskError) else f"{type(exc).__name__}: {exc}"


def wait_for_thread(thread: QThread, timeout: float) -> bool:
    """Wait for `thread` to end (warning after `timeout` s, never abandoning it), then delete it.

    True when it ended within `timeout`. A running QThread must never be
    destroyed (that aborts the process), so this waits as long as it takes:
    what runs there is bounded by the HTTP and SQLite deadlines.
    """
    if not shiboken6.isValid(thread):
        return True
    ended = thread.wait(max(0, int(timeout * 1000)))
    if not ended:
        logger.warning("%s still running after %.1f s: waiting", thread.objectName(), timeout)
        thread.wait()
    thread.deleteLater()
    return ended


class StoreOp(Generic[T]):
    """`fn` to run on a store thread, with what to do on the GUI thread when it ends."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._success: Callable[[T], object] | None = None
        self._failure: Callable[[str], object] | None = None

    def success(self, callback: Callable[[T], object]) -> StoreOp[T]:
        """Call `callback(value)` on the GUI thread when `fn` returns."""
        self._success = callback
        return self

    def failure(self, callback: Callable[[str], object]) -> StoreOp[T]:
        """Call `callback(message)` on the GUI thread when `fn` raises (else it is logged)."""
        self._failure = callback
        return self

    def run_in_background(self, store: StoreThread) -> None:
        """Queue this operation on `store`'s thread (from the GUI thread)."""
        store.submit(self)

    def _execute(self) -> tuple[bool, object]:
        try:
            return True, self._fn()
        except Exception as exc:
            logger.exception("a store operation failed")
            return False, describe_error(exc)

    def _finish(self, ok: bool, value: object) -> None:
        if ok:
            if self._success is not None:
                self._success(value)  # type: ignore[arg-type]
        elif self._failure is not None:
            self._failure(str(value))


class _Executor(QObject):
    """Lives on the store thread; runs each queued operation and reports back."""

    done = Signal(object, bool, object)

    @Slot(object)
    def execute(self, op: StoreOp[object]) -> None:
        """Run `op` here and emit its outcome."""
        ok, value = op._execute()
        self.done.emit(op, ok, value)


_RUNNING: set[StoreThread] = set()


@atexit.register
def _stop_all() -> None:
    """At exit, stop what is still running (its owner first, if it can stop)."""
    for store in list(_RUNNING):
        stop = getattr(store._owner, "stop", None)
        if callable(stop):
            stop()
        store.stop()


class StoreThread(QObject):
    """A window's one store thread: it runs `StoreOp`s in order and may hold one open `Kiosk`.

    Threading contract: built, started, fed and stopped in the GUI thread.
    `kiosk()` may only be called inside an operation (on the store thread);
    it opens the store with `open_store` on first use and keeps it open until
    `stop()`, which queues the close after everything already queued, then
    waits for the thread to end (however long a running operation takes;
    a warning after `timeout` seconds) and deletes the thread and executor.
    """

    _submitted = Signal(object)

    def __init__(self, name: str, *, open_store: Callable[[], Kiosk] | None = None) -> None:
        super().__init__()
        self._open_store = open_store
        self._kiosk: Kiosk | None = None
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._executor = _Executor()
        self._executor.moveToThread(self._thread)
        self._thread.finished.connect(self._executor.deleteLater)
        self._submitted.connect(self._executor.execute)
        self._executor.done.connect(self._deliver)
        self._started = False
        self._stopped = False
        self._owner: QObject | None = None
        self.pending = 0

    def start(self, owner: QObject | None = None) -> None:
        """Start the thread (operations queued before this wait for it).

        `owner` (the window) is kept alive until `stop()`: a window dropped
        without being closed must not take a running thread down with it.
        """
        if not self._started and not self._stopped:
            self._started = True
            self._owner = owner
            _RUNNING.add(self)
            self._thread.start()

    def submit(self, op: StoreOp[T]) -> None:
        """Queue `op` (what `StoreOp.run_in_background` calls); ignored once stopped."""
        if self._stopped:
            logger.info("a store operation after stop() was dropped")
            return
        self.pending += 1
        self._submitted.emit(op)

    def kiosk(self) -> Kiosk:
        """The open store, opened on first use (only inside an operation)."""
        if QThread.currentThread() is not self._thread:
            raise RuntimeError("StoreThread.kiosk() called off the store thread")
        if self._kiosk is None:
            if self._open_store is None:
                raise RuntimeError("this StoreThread has no store to open")
            self._kiosk = self._open_store()
        return self._kiosk

    def running(self) -> bool:
        """True while the thread runs."""
        return shiboken6.isValid(self._thread) and self._thread.isRunning()

    def stop(self, timeout: float = 1.0) -> bool:
        """Finish what is queued, close the store, end the thread; True if within `timeout`."""
        if self._stopped:
            return True
        self._stopped = True
        if not self._started:
            self._thread.deleteLater()
            self._executor.deleteLater()
            return True
        self._submitted.emit(StoreOp(self._close_and_quit))
        ended = wait_for_thread(self._thread, timeout)
        _RUNNING.discard(self)
        self._owner = None
        return ended

    def _close_and_quit(self) -> None:
        kiosk, self._kiosk = self._kiosk, None
        try:
            if kiosk is not None:
                kiosk.close()
        finally:
            QThread.currentThread().quit()

    @Slot(object, bool, object)
    def _deliver(self, op: StoreOp[object], ok: bool, value: object) -> None:
        self.pending = max(0, self.pending - 1)
        if not self._stopped:
            op._finish(ok, value)
