"""Door window benchmark: a frame showing a code → the verdict painted, and the preview rate.

    uv run python bench/kiosk_ui.py                  # 200 scans, 1280x720 frames at 30 fps
    uv run python bench/kiosk_ui.py --scans 50 --width 640 --height 480
    xvfb-run -a uv run python bench/kiosk_ui.py --platform xcb   # painted by a real X server

A paired door kiosk whose cache holds `--scans` ticket holders (filled as a
pull fills it, no server) runs the real `DoorWindow` offscreen: a camera
source delivers frames at `--fps` through the real capture and decode
threads; each scan's clock starts when the source hands out the first frame
showing a new ticket and stops when the window has painted that ticket's
verdict card (the database thread committed the op, the GUI thread filled the
card and the card's paint event arrived). Every ticket is new, so every scan is green.
The preview rate is the number of frames handed to the preview label per
second while all this runs (the scanner sends the next one only once the GUI
thread took the last, so this is the rate the GUI keeps up with). Qt draws
offscreen unless `--platform` (or QT_QPA_PLATFORM) names another platform.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from kiosk.scanner.synth import Condition, render_frame
from kiosk.scanner.worker import Scanner
from kiosk.services.verdict import Verdict
from kiosk.ui.door import DoorWindow
from kiosk.ui.sounds import Sounds
from tests.kiosk.world import install, make_world

Frame = NDArray[np.uint8]


class SwitchingCamera:
    """A camera at `fps` that shows whichever frame `show()` chose last; notes when it first did."""

    name = "bench camera"
    exhausted = False

    def __init__(self, first: Frame, fps: float) -> None:
        self._frame = first
        self._interval = 1 / fps
        self._next = 0.0
        self._lock = threading.Lock()
        self._new = False
        self.first_shown_at = 0.0

    def show(self, frame: Frame) -> None:
        """Show `frame` from the next tick on."""
        with self._lock:
            self._frame = frame
            self._new = True

    def open(self) -> None:
        """Nothing to open."""
        self._next = time.monotonic()

    def read(self) -> Frame | None:
        """The current frame, paced at the camera's rate."""
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + self._interval, time.monotonic())
        with self._lock:
            if self._new:
                self._new = False
                self.first_shown_at = time.monotonic()
            return np.array(self._frame, copy=True)

    def close(self) -> None:
        """Nothing to release."""


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument(
        "--platform", help="Qt platform plugin, e.g. xcb under xvfb-run (default: offscreen)"
    )
    args = parser.parse_args()
    if args.platform:
        os.environ["QT_QPA_PLATFORM"] = args.platform

    app = QApplication.instance() or QApplication([])
    world = make_world(args.scans)
    frames = [
        render_frame(
            Condition.CLEAN, [a.ticket_qr], width=args.width, height=args.height, seed=i
        ).image
        for i, a in enumerate(world.attendees)
    ]
    blank = np.full_like(frames[0], 128)
    with tempfile.TemporaryDirectory() as folder:
        settings, _ = install(
            Path(folder), world, retry_attempts=1, sync_interval_s=3600.0, connect_timeout_s=0.5
        )
        camera = SwitchingCamera(blank, args.fps)
        window = DoorWindow(settings, None, scanner=Scanner(camera), sounds=Sounds(audible=False))
        window.resize(1280, 800)
        window.show()
        latencies: list[float] = []
        previews = 0
        done = threading.Event()

        waiting = threading.Event()

        def arrived(_verdict: Verdict) -> None:
            waiting.set()

        class PaintWatch(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
                if event.type() == QEvent.Type.Paint and waiting.is_set():
                    waiting.clear()
                    latencies.append((time.monotonic() - camera.first_shown_at) * 1000)
                    done.set()
                return False

        watch = PaintWatch()
        window.card.installEventFilter(watch)

        def preview(_image: QImage) -> None:
            nonlocal previews
            previews += 1

        window.verdict_shown.connect(arrived)
        if window.scanner is not None:
            window.scanner.frame_ready.connect(preview)
        window.start()
        started = time.monotonic()
        for frame in frames:
            done.clear()
            camera.show(frame)
            deadline = time.monotonic() + 10
            while not done.is_set() and time.monotonic() < deadline:
                loop = QEventLoop()
                QTimer.singleShot(2, loop.quit)
                loop.exec()
        elapsed = time.monotonic() - started
        window.stop()
        app.processEvents()

    print(
        f"door window ({QApplication.platformName()}), {args.width}x{args.height} camera at "
        f"{args.fps:.0f} fps, {len(frames)} scans of new tickets (all green)"
    )
    print(f"{'frame with code -> verdict painted':36} {'p50':>8} {'p95':>8} {'max':>8}")
    print(
        f"{'':36} {statistics.median(latencies):6.1f}ms {percentile(latencies, 0.95):6.1f}ms "
        f"{max(latencies):6.1f}ms   ({len(latencies)}/{len(frames)} scans)"
    )
    print(f"preview frames shown while decoding: {previews / elapsed:.1f} fps over {elapsed:.1f} s")


if __name__ == "__main__":
    main()
