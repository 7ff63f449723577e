"""The scanner's threads: capture on one QThread, decode on another, a facade that owns both.

    FrameSource --read--> CaptureWorker --put newest--> mailbox --take--> DecodeWorker
                               |                                              |
                      frame_ready(QImage)                            code_accepted(str)
                               v                                              v
                                      Scanner (GUI thread) relays both

Capture runs as fast as the source delivers and never waits for decoding; the
decoder always takes the newest frame (older ones are dropped, never queued);
previews are copies at a capped rate, and at most one is in flight to the GUI,
so a busy GUI never makes frames pile up (Friture's capture/paint split). The
workers follow superqt's pattern: a QObject moved to its own QThread, started
by `QThread.started`, stopped by a flag, `finished -> quit` and
`finished -> deleteLater`.
"""

from __future__ import annotations

import enum
import logging
import threading
import time

import numpy as np
import shiboken6
from numpy.typing import NDArray
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage

from kiosk.errors import CameraNotFound
from kiosk.scanner._signals import emit
from kiosk.scanner.decoders import Decoder, make_decoder, pick_nearest_centre, to_gray
from kiosk.scanner.mailbox import LatestOnlyMailbox
from kiosk.scanner.sources import FrameSource
from kiosk.scanner.validator import ScanValidator

logger = logging.getLogger(__name__)

Frame = NDArray[np.uint8]
FrameMailbox = LatestOnlyMailbox[Frame]

_TAKE_TIMEOUT_SECONDS = 0.05  # how often an idle decode loop looks at its stop flag


class ScannerState(enum.StrEnum):
    """What `state_changed` reports; the message of an error comes on `error_occurred`."""

    RUNNING = "running"
    CAMERA_LOST = "camera_lost"
    RECOVERING = "recovering"
    STOPPED = "stopped"
    ERROR = "error"


def frame_to_qimage(frame: Frame) -> QImage:
    """A QImage that owns a copy of a BGR or gray frame (safe to send to another thread)."""
    frame = np.ascontiguousarray(frame)
    height, width = frame.shape[:2]
    if frame.ndim == 2:
        image_format = QImage.Format.Format_Grayscale8
    elif frame.shape[2] == 3:
        image_format = QImage.Format.Format_BGR888
    else:
        raise ValueError(f"cannot preview a frame of shape {frame.shape}")
    return QImage(frame.data, width, height, frame.strides[0], image_format).copy()


class PreviewGate:
    """Lets one preview at a time travel to the GUI; the GUI side opens it again."""

    def __init__(self) -> None:
        self._in_flight = threading.Event()

    def try_send(self) -> bool:
        """Claim the slot for a preview; False while the last one is still undelivered."""
        if self._in_flight.is_set():
            return False
        self._in_flight.set()
        return True

    def delivered(self) -> None:
        """The GUI received the preview in flight."""
        self._in_flight.clear()


class CaptureWorker(QObject):
    """Reads frames from a FrameSource on its own thread and posts the newest to a mailbox.

    Threading contract: construct in any thread, `moveToThread(thread)`, connect
    `thread.started` to `run`. `run` loops on the worker thread until the source
    is exhausted or `stop()` is called (from any thread; it only sets a flag);
    `close()` of the source and of the mailbox happen on the worker thread.
    The source must be opened before `run` (so a missing camera raises in the
    caller's thread); a read that returns None is a lost camera: it emits
    `camera_lost`, closes the source and reopens it with exponential backoff
    (`recovering`), then `running` again. Signals are emitted from the worker
    thread, so receivers in the GUI get them queued. The worker never touches a
    widget; `frame_ready` carries a copied QImage at most `preview_fps` times a
    second (and, with a `PreviewGate`, only once the last one was delivered).
    Any exception ends the loop with `error_occurred(message)` and
    `state_changed("error")`; `finished` is always emitted last.
    """

    frame_ready = Signal(QImage)
    state_changed = Signal(str)
    error_occurred = Signal(str)
    finished = Signal()

    def __init__(
        self,
        source: FrameSource,
        mailbox: FrameMailbox,
        *,
        preview_fps: float = 15.0,
        preview_gate: PreviewGate | None = None,
        reopen_delays: tuple[float, float] = (0.1, 2.0),
        stop_event: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        self._mailbox = mailbox
        self._preview_interval = 1 / preview_fps if preview_fps > 0 else None
        self._preview_gate = preview_gate
        self._first_delay, self._max_delay = reopen_delays
        self._stop_requested = stop_event if stop_event is not None else threading.Event()
        self.frames_read = 0

    def stop(self) -> None:
        """Ask the loop to end after the current read; safe from any thread."""
        self._stop_requested.set()

    @Slot()
    def run(self) -> None:
        """The capture loop; runs on the worker thread until stopped or the source ends."""
        try:
            emit(self.state_changed, ScannerState.RUNNING)
            next_preview = 0.0
            while not self._stop_requested.is_set():
                frame = self._source.read()
                if frame is None:
                    if self._source.exhausted:
                        break
                    self._recover()
                    continue
                self.frames_read += 1
                self._mailbox.put(frame)
                now = time.monotonic()
                if self._preview_interval is not None and now >= next_preview:
                    next_preview = now + self._preview_interval
                    if self._preview_gate is None or self._preview_gate.try_send():
                        emit(self.frame_ready, frame_to_qimage(frame))
            emit(self.state_changed, ScannerState.STOPPED)
        except Exception as exc:
            logger.exception("capture from %s failed", self._source.name)
            emit(self.error_occurred, f"Capture from {self._source.name} failed: {exc}")
            emit(self.state_changed, ScannerState.ERROR)
        finally:
            try:
                self._source.close()
            finally:
                self._mailbox.close()
                emit(self.finished)

    def _recover(self) -> None:
        """Close the lost source and reopen it with backoff until it answers or we stop."""
        logger.warning("%s stopped delivering frames; reopening", self._source.name)
        emit(self.state_changed, ScannerState.CAMERA_LOST)
        self._source.close()
        delay = self._first_delay
        emit(self.state_changed, ScannerState.RECOVERING)
        while not self._stop_requested.wait(delay):
            try:
                self._source.open()
            except CameraNotFound:
                delay = min(delay * 2, self._max_delay)
                continue
            logger.info("%s is back", self._source.name)
            emit(self.state_changed, ScannerState.RUNNING)
            return


class DecodeWorker(QObject):
    """Decodes the newest frame from the mailbox and emits each accepted code once.

    Threading contract: as for CaptureWorker — move to its own QThread, connect
    `thread.started` to `run`, end with `stop()` from any thread (a flag). The
    decoder and validator are used only on the worker thread after `run`
    starts. Decoding is capped at `max_decode_fps` to leave CPU for the GUI and
    sync. Each decoded frame feeds the validator with the code nearest the
    frame centre (or None); `code_accepted(text)` carries text only. The loop
    also ends when the mailbox is closed and drained (the source ended).
    Exceptions become `error_occurred` + `state_changed("error")`; `finished`
    is always emitted last.
    """

    code_accepted = Signal(str)
    state_changed = Signal(str)
    error_occurred = Signal(str)
    finished = Signal()

    def __init__(
        self,
        mailbox: FrameMailbox,
        decoder: Decoder,
        validator: ScanValidator,
        *,
        max_decode_fps: float = 30.0,
        stop_event: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self._mailbox = mailbox
        self._decoder = decoder
        self._validator = validator
        self._min_interval = 1 / max_decode_fps if max_decode_fps > 0 else 0.0
        self._stop_requested = stop_event if stop_event is not None else threading.Event()
        self.frames_decoded = 0

    def stop(self) -> None:
        """Ask the loop to end after the current frame; safe from any thread."""
        self._stop_requested.set()

    @Slot()
    def run(self) -> None:
        """The decode loop; runs on the worker thread until stopped or the frames end."""
        try:
            while not self._stop_requested.is_set():
                frame = self._mailbox.take(_TAKE_TIMEOUT_SECONDS)
                if frame is None:
                    if self._mailbox.drained:
                        break
                    continue
                started = time.monotonic()
                self._decode(frame)
                rest = self._min_interval - (time.monotonic() - started)
                if rest > 0 and self._stop_requested.wait(rest):
                    break
        except Exception as exc:
            logger.exception("decoding with %s failed", self._decoder.name)
            emit(self.error_occurred, f"Decoding with {self._decoder.name} failed: {exc}")
            emit(self.state_changed, ScannerState.ERROR)
        finally:
            emit(self.finished)

    def _decode(self, frame: Frame) -> None:
        gray = to_gray(frame)
        height, width = gray.shape
        nearest = pick_nearest_centre(self._decoder.decode(gray), width, height)
        self.frames_decoded += 1
        accepted = self._validator.feed(nearest.text if nearest is not None else None)
        if accepted is not None:
            emit(self.code_accepted, accepted)


class Scanner(QObject):
    """Owns the capture and decode threads; the one object the kiosk's GUI talks to.

    Lives in the GUI thread. `start()` opens the source there (raising
    `CameraNotFound` at once when there is no camera), then starts both
    threads. Signals are relayed from the workers and arrive in the GUI thread:
    `code_accepted(text)`, `frame_ready(QImage)`, `state_changed(state)` (a
    `ScannerState` value), `error_occurred(message)`, and `finished` once both
    threads have ended (stopped, source exhausted, or an error). An error in
    either thread stops the other. `stop()` returns within `timeout` seconds.
    """

    code_accepted = Signal(str)
    frame_ready = Signal(QImage)
    state_changed = Signal(str)
    error_occurred = Signal(str)
    finished = Signal()

    def __init__(
        self,
        source: FrameSource,
        decoder: Decoder | None = None,
        *,
        validator: ScanValidator | None = None,
        preview_fps: float = 15.0,
        max_decode_fps: float = 30.0,
        reopen_delays: tuple[float, float] = (0.1, 2.0),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.decoder = decoder if decoder is not None else make_decoder()
        self.validator = validator if validator is not None else ScanValidator()
        self._preview_fps = preview_fps
        self._max_decode_fps = max_decode_fps
        self._reopen_delays = reopen_delays
        self._preview_gate = PreviewGate()
        self._threads: list[QThread] = []
        # Python must hold the workers while their threads run, or it deletes them mid-loop.
        self._workers: list[CaptureWorker | DecodeWorker] = []
        self._stop_requested = threading.Event()
        self._running_workers = 0

    @property
    def running(self) -> bool:
        """True from `start()` until both threads have ended and reported it."""
        return self._running_workers > 0

    def start(self) -> None:
        """Open the source and start capturing and decoding; raises CameraNotFound."""
        if self._threads:
            raise RuntimeError("the scanner is already started")
        self.source.open()
        self.validator.reset()
        mailbox: FrameMailbox = LatestOnlyMailbox()
        self._stop_requested = threading.Event()  # one per run: a stale run cannot be revived
        capture = CaptureWorker(
            self.source,
            mailbox,
            preview_fps=self._preview_fps,
            preview_gate=self._preview_gate,
            reopen_delays=self._reopen_delays,
            stop_event=self._stop_requested,
        )
        decode = DecodeWorker(
            mailbox,
            self.decoder,
            self.validator,
            max_decode_fps=self._max_decode_fps,
            stop_event=self._stop_requested,
        )
        self._preview_gate.delivered()
        capture.frame_ready.connect(self._relay_preview)
        decode.code_accepted.connect(self.code_accepted)
        self._running_workers = 2
        self._workers = [capture, decode]
        for worker, name in ((capture, "scanner-capture"), (decode, "scanner-decode")):
            worker.state_changed.connect(self.state_changed)
            worker.error_occurred.connect(self._on_worker_error)
            worker.finished.connect(self._on_worker_finished)
            self._threads.append(self._start_thread(worker, name))

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop both threads and wait up to `timeout` seconds; True when both ended in time.

        When they ended, the signals they sent on the way out (the last states,
        `finished`) are delivered before this returns, so a `start()` right after
        cannot receive the old run's signals.
        """
        self._stop_requested.set()
        deadline = time.monotonic() + timeout
        ended = True
        for thread in self._threads:
            if not shiboken6.isValid(thread):
                continue  # it finished earlier and Qt already deleted it
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            ended = thread.wait(remaining_ms) and ended
        if not ended:
            logger.warning("scanner threads did not stop within %.1f s", timeout)
            return False
        QCoreApplication.sendPostedEvents(self)
        self._release_threads()  # usually done already by the finished signals just delivered
        return True

    def _start_thread(self, worker: CaptureWorker | DecodeWorker, name: str) -> QThread:
        thread = QThread()
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit must reach the thread even while the GUI thread is blocked in stop().
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.finished.connect(worker.deleteLater)
        thread.finished.connect(thread.deleteLater)
        thread.start()
        return thread

    @Slot(QImage)
    def _relay_preview(self, image: QImage) -> None:
        self._preview_gate.delivered()
        emit(self.frame_ready, image)

    @Slot(str)
    def _on_worker_error(self, message: str) -> None:
        self._stop_requested.set()  # one thread without the other is no scanner
        emit(self.error_occurred, message)

    @Slot()
    def _on_worker_finished(self) -> None:
        self._running_workers -= 1
        if self._running_workers == 0:
            self._release_threads()
            emit(self.finished)

    def _release_threads(self) -> None:
        """Forget the ended run's threads once they have really returned."""
        for thread in self._threads:
            # The worker's last signal can arrive a moment before its thread returns.
            if shiboken6.isValid(thread):
                thread.wait(1000)
        self._threads = []
        self._workers = []
