"""The scanner's threads: capture on one QThread, decode on another, a facade that owns both.

    FrameSource --read--> CaptureWorker --put newest--> mailbox --take--> DecodeWorker
                               |                                              |
                      frame_ready(QImage)                            code_accepted(str)
                               v                                              v
                                      Scanner (GUI thread) relays both

Capture runs as fast as the source delivers and never waits for decoding; the
decoder always takes the newest frame (older ones are dropped, never queued);
previews are copies at a capped rate, and at most one is in flight to the GUI,
so a busy GUI never makes frames pile up (Friture's capture/paint split). A
preview is made ready to paint on the capture thread: shrunk to the size the
GUI shows it at and converted to the display's 32-bit format, so the GUI thread
only hands it to its label. Both rates are paced by a `Pacer`, whose timetable
tolerates a camera's jitter: a 30 fps camera under a 30 fps cap is previewed
and decoded frame for frame. The workers follow superqt's pattern: a QObject
moved to its own QThread, started by `QThread.started`, stopped by a flag,
`finished -> quit` and `finished -> deleteLater`.
"""

from __future__ import annotations

import enum
import logging
import math
import sys
import threading
import time
from typing import cast

import cv2
import numpy as np
import shiboken6
from numpy.typing import NDArray
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage

from kiosk.errors import CameraNotFound
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


DEFAULT_PREVIEW_FPS = 30.0
DEFAULT_MAX_DECODE_FPS = 30.0
# QImage.Format_RGB32 is 0xffRRGGBB per pixel: the bytes B, G, R, 0xff on a little-endian machine.
_BGRA_IS_RGB32 = sys.byteorder == "little"


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


def preview_image(frame: Frame, fit: tuple[int, int] | None = None) -> QImage:
    """A copied QImage of `frame` ready to paint: shrunk to fit inside `fit`, in RGB32.

    Both steps are the costly part of showing a frame, and both run here, on the
    capture thread (OpenCV releases the GIL), instead of on the GUI thread:
    `QPixmap.fromImage` of an RGB32 image is a plain hand-over, where a BGR888
    one is converted pixel by pixel, and a frame already at the label's size
    needs no scaling. Linear interpolation matches what the GUI used to do
    (`Qt.FastTransformation`) at a fraction of `INTER_AREA`'s cost.
    """
    height, width = frame.shape[:2]
    if fit is not None:
        scale = min(fit[0] / width, fit[1] / height)
        if scale < 1:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            frame = cast(Frame, cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR))
    if not _BGRA_IS_RGB32 or (frame.ndim == 3 and frame.shape[2] != 3):
        return frame_to_qimage(frame)  # big-endian, or a shape it refuses with a clear error
    code = cv2.COLOR_GRAY2BGRA if frame.ndim == 2 else cv2.COLOR_BGR2BGRA
    bgra = cast(Frame, cv2.cvtColor(frame, code))
    height, width = bgra.shape[:2]
    return QImage(bgra.data, width, height, bgra.strides[0], QImage.Format.Format_RGB32).copy()


class Pacer:
    """Paces a stream of frames to at most `rate` a second on average, tolerating jitter.

    Frames are due on a timetable one interval apart; a frame is let through
    when it arrives no earlier than half an interval before its slot, and the
    next slot is then one interval after this one (or after now, following a
    pause, so a pause never turns into a burst). A camera delivering at the cap
    itself, a little early or late each time, therefore has every frame let
    through, where "one interval after the last one" would skip every other
    frame that came a millisecond early; a faster camera is thinned to the
    cap. `rate <= 0` lets everything through. Pure: the caller passes `now`.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self._slot = -math.inf

    def wait(self, now: float) -> float:
        """Seconds until a frame would be let through (0 when one would be now)."""
        return max(0.0, self._slot - self.interval / 2 - now)

    def take(self, now: float) -> bool:
        """Let a frame arriving at `now` through (True, and book the next slot) or not."""
        if self.wait(now) > 0:
            return False
        self._slot = max(self._slot, now) + self.interval
        return True


class PreviewGate:
    """Lets one preview at a time travel to the GUI; the GUI side opens it again.

    `fit` is the size (width, height) the GUI shows previews at, or None for
    full frames; the GUI thread sets it and the capture thread reads it (one
    attribute holding an immutable tuple, so no lock is needed).
    """

    def __init__(self) -> None:
        self._in_flight = threading.Event()
        self.fit: tuple[int, int] | None = None

    @property
    def in_flight(self) -> bool:
        """True while a preview is on its way to the GUI."""
        return self._in_flight.is_set()

    def try_send(self) -> bool:
        """Claim the slot for a preview; False while the last one is still undelivered."""
        if self._in_flight.is_set():
            return False
        self._in_flight.set()
        return True

    def delivered(self) -> None:
        """The GUI received the preview in flight."""
        self._in_flight.clear()


class _LoopWorker(QObject):
    """What both workers share: their status signals and the stop flag their loop watches."""

    state_changed = Signal(str)
    error_occurred = Signal(str)
    finished = Signal()

    def __init__(self, stop_event: threading.Event | None) -> None:
        super().__init__()
        self._stop_requested = stop_event if stop_event is not None else threading.Event()

    def stop(self) -> None:
        """Ask the loop to end after the current step; safe from any thread."""
        self._stop_requested.set()

    def _failed(self, message: str) -> None:
        """Report the exception being handled: logged, `error_occurred`, then the error state."""
        logger.exception("%s", message)
        self.error_occurred.emit(message)
        self.state_changed.emit(ScannerState.ERROR)


class CaptureWorker(_LoopWorker):
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
    widget; `frame_ready` carries a copied QImage (`preview_image`) at most
    `preview_fps` times a second on average (paced by a `Pacer`), and, with a
    `PreviewGate`, only once the last one was delivered, shrunk to the gate's `fit`.
    Any exception ends the loop with `error_occurred(message)` and
    `state_changed("error")`; `finished` is always emitted last.
    """

    frame_ready = Signal(QImage)

    def __init__(
        self,
        source: FrameSource,
        mailbox: FrameMailbox,
        *,
        preview_fps: float = DEFAULT_PREVIEW_FPS,
        preview_gate: PreviewGate | None = None,
        reopen_delays: tuple[float, float] = (0.1, 2.0),
        stop_event: threading.Event | None = None,
    ) -> None:
        super().__init__(stop_event)
        self._source = source
        self._mailbox = mailbox
        self._preview_pacer = Pacer(preview_fps) if preview_fps > 0 else None
        self._preview_gate = preview_gate
        self._first_delay, self._max_delay = reopen_delays
        self.frames_read = 0

    @Slot()
    def run(self) -> None:
        """The capture loop; runs on the worker thread until stopped or the source ends."""
        try:
            self.state_changed.emit(ScannerState.RUNNING)
            while not self._stop_requested.is_set():
                frame = self._source.read()
                if frame is None:
                    if self._source.exhausted:
                        break
                    self._recover()
                    continue
                self.frames_read += 1
                self._mailbox.put(frame)
                self._preview(frame)
            self.state_changed.emit(ScannerState.STOPPED)
        except Exception as exc:
            self._failed(f"Capture from {self._source.name} failed: {exc}")
        finally:
            try:
                self._source.close()
            finally:
                self._mailbox.close()
                self.finished.emit()

    def _preview(self, frame: Frame) -> None:
        gate = self._preview_gate
        if self._preview_pacer is None or (gate is not None and gate.in_flight):
            return  # the GUI has the last one still to paint: this frame is not previewed
        if self._preview_pacer.take(time.monotonic()) and (gate is None or gate.try_send()):
            self.frame_ready.emit(preview_image(frame, None if gate is None else gate.fit))

    def _recover(self) -> None:
        """Close the lost source and reopen it with backoff until it answers or we stop."""
        logger.warning("%s stopped delivering frames; reopening", self._source.name)
        self.state_changed.emit(ScannerState.CAMERA_LOST)
        self._source.close()
        delay = self._first_delay
        self.state_changed.emit(ScannerState.RECOVERING)
        while not self._stop_requested.wait(delay):
            try:
                self._source.open()
            except CameraNotFound:
                delay = min(delay * 2, self._max_delay)
                continue
            logger.info("%s is back", self._source.name)
            self.state_changed.emit(ScannerState.RUNNING)
            return


class DecodeWorker(_LoopWorker):
    """Decodes the newest frame from the mailbox and emits each accepted code once.

    Threading contract: as for CaptureWorker — move to its own QThread, connect
    `thread.started` to `run`, end with `stop()` from any thread (a flag). The
    decoder and validator are used only on the worker thread after `run`
    starts. Decoding is capped at `max_decode_fps` on average (a `Pacer`) to
    leave CPU for the GUI and sync; a frame arriving on time is decoded at
    once, never held back to a schedule of its own. Each decoded frame feeds
    the validator with the code nearest the frame centre (or None);
    `code_accepted(text)` carries text only. The loop also ends when the
    mailbox is closed and drained (the source ended).
    Exceptions become `error_occurred` + `state_changed("error")`; `finished`
    is always emitted last.
    """

    code_accepted = Signal(str)

    def __init__(
        self,
        mailbox: FrameMailbox,
        decoder: Decoder,
        validator: ScanValidator,
        *,
        max_decode_fps: float = DEFAULT_MAX_DECODE_FPS,
        stop_event: threading.Event | None = None,
    ) -> None:
        super().__init__(stop_event)
        self._mailbox = mailbox
        self._decoder = decoder
        self._validator = validator
        self._pacer = Pacer(max_decode_fps)
        self.frames_decoded = 0

    @Slot()
    def run(self) -> None:
        """The decode loop; runs on the worker thread until stopped or the frames end."""
        try:
            while not self._stop_requested.is_set():
                rest = self._pacer.wait(time.monotonic())
                if rest > 0 and self._stop_requested.wait(rest):
                    break
                frame = self._mailbox.take(_TAKE_TIMEOUT_SECONDS)
                if frame is None:
                    if self._mailbox.drained:
                        break
                    continue
                self._pacer.take(time.monotonic())
                self._decode(frame)
        except Exception as exc:
            self._failed(f"Decoding with {self._decoder.name} failed: {exc}")
        finally:
            self.finished.emit()

    def _decode(self, frame: Frame) -> None:
        gray = to_gray(frame)
        height, width = gray.shape
        nearest = pick_nearest_centre(self._decoder.decode(gray), width, height)
        self.frames_decoded += 1
        accepted = self._validator.feed(nearest.text if nearest is not None else None)
        if accepted is not None:
            self.code_accepted.emit(accepted)


class Scanner(QObject):
    """Owns the capture and decode threads; the one object the kiosk's GUI talks to.

    Lives in the GUI thread. `start()` opens the source there (raising
    `CameraNotFound` at once when there is no camera), then starts both
    threads. Signals are relayed from the workers and arrive in the GUI thread:
    `code_accepted(text)`, `frame_ready(QImage)`, `state_changed(state)` (a
    `ScannerState` value), `error_occurred(message)`, and `finished` once both
    threads have ended (stopped, source exhausted, or an error). An error in
    either thread stops the other. `stop()` returns within `timeout` seconds.
    Previews come at most `preview_fps` a second and one at a time (the next
    is made only once the last reached the GUI thread); `fit_previews` makes
    the capture thread shrink them to the size they are shown at.
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
        preview_fps: float = DEFAULT_PREVIEW_FPS,
        max_decode_fps: float = DEFAULT_MAX_DECODE_FPS,
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

    def fit_previews(self, width: int, height: int) -> None:
        """Make previews no larger than `width` x `height` (the label showing them); any thread.

        The capture thread shrinks each preview before sending it, so the GUI
        thread paints it as it comes. A size of zero sends full frames again.
        """
        self._preview_gate.fit = (width, height) if width > 0 and height > 0 else None

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
        self.frame_ready.emit(image)

    @Slot(str)
    def _on_worker_error(self, message: str) -> None:
        self._stop_requested.set()  # one thread without the other is no scanner
        self.error_occurred.emit(message)

    @Slot()
    def _on_worker_finished(self) -> None:
        self._running_workers -= 1
        if self._running_workers == 0:
            self._release_threads()
            self.finished.emit()

    def _release_threads(self) -> None:
        """Forget the ended run's threads once they have really returned."""
        for thread in self._threads:
            # The worker's last signal can arrive a moment before its thread returns.
            if shiboken6.isValid(thread):
                thread.wait(1000)
        self._threads = []
        self._workers = []
