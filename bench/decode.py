"""QR decoding benchmark: decoder x door condition, the no-code cost, and scan latency.

    uv run python bench/decode.py                 # 40 frames per condition, all decoders
    uv run python bench/decode.py --frames 10 --decoders zxing,pyzbar --e2e-attendees 6

Frames come from kiosk.scanner.synth with our own signed ticket tokens as
payloads (a fixed key, so every run sees the same frames). For each frame
size, condition and decoder it prints the share read correctly (the code
nearest the centre is the expected one) and the median and p95 decode time of
a gray frame. Each frame's time is the best of `--repeat` runs, so that other
work on the machine does not pass for decoder cost (one run for frames slower
than 20 ms, where that noise is small). Then the cost of a frame with no code,
and the end-to-end latency from the moment a camera delivers the first frame
showing a code to `code_accepted` arriving in the GUI thread, through the real
capture and decode threads at 30 fps with the default two-frame acceptance.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.tokens import SigningKey, TokenKind, issue_token
from kiosk.scanner.decoders import DECODERS, Decoder, make_decoder, pick_nearest_centre, to_gray
from kiosk.scanner.synth import Condition, render_blank, render_frame

Frame = NDArray[np.uint8]
T = TypeVar("T")
SIZES = {"1280x720": (1280, 720), "640x480": (640, 480)}
REPEAT_BELOW_MS = 20.0


def make_tickets(count: int) -> list[str]:
    """Signed ticket tokens from a fixed key: the same frames on every run."""
    key = SigningKey.from_private_bytes(1, bytes(range(32, 64)))
    event = uuid.UUID("5eca0000-0000-4000-8000-000000000001")
    doors = datetime(2026, 2, 16, 20, 0, tzinfo=UTC)
    return [
        issue_token(key, TokenKind.TICKET, uuid.UUID(int=number + 1), event, doors)
        for number in range(count)
    ]


def timed(work: Callable[[Frame], T], frame: Frame, repeat: int) -> tuple[T, float]:
    """Run `work(frame)` up to `repeat` times; its result and its best time in ms."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = work(frame)
        best = min(best, (time.perf_counter() - started) * 1000)
        if best > REPEAT_BELOW_MS:
            break
    return result, best


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` percentile (0..100) of `values`."""
    return float(np.percentile(values, share))


def cell(read: int | None, total: int, times: Sequence[float]) -> str:
    """One table cell: read share, median ms, p95 ms."""
    share = "    -  " if read is None else f"{100 * read / total:6.1f}%"
    return f"{share} {statistics.median(times):6.2f} {percentile(times, 95):6.2f}"


def bench_size(
    label: str, width: int, height: int, decoders: Sequence[Decoder], frames: int, repeat: int
) -> None:
    """Print the condition table of one frame size."""
    tickets = make_tickets(12)
    columns = "".join(f" | {decoder.name:^21}" for decoder in decoders)
    print(f"\n{label}: {frames} frames per condition; read %, median ms, p95 ms per decoder")
    print(f"{'condition':<13}{columns}")
    print(f"{'':<13}" + " | read %  median    p95" * len(decoders))
    reads = dict.fromkeys((decoder.name for decoder in decoders), 0)
    all_times: dict[str, list[float]] = {decoder.name: [] for decoder in decoders}
    for index, condition in enumerate(Condition):
        rendered = []
        for number in range(frames):
            payloads = [tickets[(number + offset) % len(tickets)] for offset in range(3)]
            frame = render_frame(
                condition, payloads, width=width, height=height, seed=10_000 * index + number
            )
            rendered.append((to_gray(frame.image), frame.expected))
        row = f"{condition.value:<13}"
        for decoder in decoders:
            read, times = 0, []
            for gray, expected in rendered:
                codes, ms = timed(decoder.decode, gray, repeat)
                picked = pick_nearest_centre(codes, width, height)
                read += picked is not None and picked.text == expected
                times.append(ms)
            row += " | " + cell(read, frames, times)
            reads[decoder.name] += read
            all_times[decoder.name] += times
        print(row, flush=True)
    row = f"{'all codes':<13}"
    for decoder in decoders:
        times = all_times[decoder.name]
        row += " | " + cell(reads[decoder.name], len(times), times)
    print(row)
    blanks = [
        to_gray(render_blank(width=width, height=height, seed=seed)) for seed in range(frames)
    ]
    row = f"{'no code':<13}"
    for decoder in decoders:
        times = []
        for gray in blanks:
            _, ms = timed(decoder.decode, gray, repeat)
            times.append(ms)
        row += " | " + cell(None, len(times), times)
    print(row, flush=True)


def bench_conversion(repeat: int) -> None:
    """The BGR-to-gray conversion every camera frame pays before decoding."""
    for label, (width, height) in SIZES.items():
        frame = render_blank(width=width, height=height, seed=1)
        times = [timed(to_gray, frame, repeat)[1] for _ in range(50)]
        print(f"BGR to gray at {label}: median {statistics.median(times):.2f} ms")


class AcceptanceClock(dict[str, float]):
    """When each code was first accepted (monotonic seconds)."""

    def record(self, text: str) -> None:
        """Note the time `text` arrived, the first time only."""
        self.setdefault(text, time.monotonic())


class CameraSimulator:
    """A FrameSource at 30 fps: each attendee's phone appears after a stretch of empty door.

    It records when it hands over the first frame that shows each attendee's code.
    """

    def __init__(self, attendees: Sequence[tuple[str, Frame]], blank: Frame, fps: float) -> None:
        self._script: list[tuple[str | None, Frame]] = []
        for text, frame in attendees:
            self._script += [(None, blank)] * int(0.5 * fps)
            self._script += [(text, frame)] * int(1.0 * fps)
        self._script += [(None, blank)] * int(0.5 * fps)
        self._interval = 1 / fps
        self._position = 0
        self._next_due = 0.0
        self.first_seen: dict[str, float] = {}

    @property
    def name(self) -> str:
        return "simulated camera"

    @property
    def exhausted(self) -> bool:
        return self._position >= len(self._script)

    def open(self) -> None:
        self._next_due = time.monotonic()

    def read(self) -> Frame | None:
        if self.exhausted:
            return None
        delay = self._next_due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_due += self._interval
        text, frame = self._script[self._position]
        self._position += 1
        if text is not None:
            self.first_seen.setdefault(text, time.monotonic())
        return frame

    def close(self) -> None:
        pass


def bench_latency(decoder_names: Sequence[str], attendee_count: int) -> None:
    """Frame-to-accepted-code latency through the real capture and decode threads."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from kiosk.scanner.worker import Scanner

    _app = QCoreApplication.instance() or QCoreApplication([])  # queued signals need one
    tickets = make_tickets(3 * attendee_count)
    conditions = list(Condition)
    attendees: list[tuple[str, Frame]] = []
    for number in range(attendee_count):
        # Each attendee gets two bystanders of their own, for the MULTIPLE condition; the
        # code to expect is whichever is nearest the centre.
        payloads = tickets[3 * number : 3 * number + 3]
        frame = render_frame(conditions[number % len(conditions)], payloads, seed=500 + number)
        assert frame.expected is not None
        attendees.append((frame.expected, frame.image))
    blank = render_blank(seed=3)
    print(
        f"\nEnd to end, 1280x720 camera at 30 fps, {attendee_count} attendees (conditions in "
        "turn), 2 consecutive frames to accept: first frame showing the code -> code_accepted "
        "in the GUI thread"
    )
    for name in decoder_names:
        camera = CameraSimulator(attendees, blank, fps=30)
        scanner = Scanner(camera, make_decoder(name))
        accepted = AcceptanceClock()
        scanner.code_accepted.connect(accepted.record)
        loop = QEventLoop()
        scanner.finished.connect(loop.quit)
        QTimer.singleShot(120_000, loop.quit)
        scanner.start()
        loop.exec()
        scanner.stop()
        latencies = [
            (accepted[text] - camera.first_seen[text]) * 1000
            for text, _ in attendees
            if text in accepted and text in camera.first_seen
        ]
        if not latencies:
            print(f"{name:<8} no code accepted")
            continue
        print(
            f"{name:<8} accepted {len(latencies)}/{len(attendees)}; latency median "
            f"{statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 95):.0f} ms, "
            f"max {max(latencies):.0f} ms"
        )


def main() -> None:
    """Parse the options and print every table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per condition and size")
    parser.add_argument("--decoders", default=",".join(DECODERS), help="comma-separated")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated WxH")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per frame")
    parser.add_argument("--e2e-attendees", type=int, default=12, help="0 skips the latency run")
    parser.add_argument("--e2e-decoders", default="zxing,pyzbar", help="comma-separated")
    args = parser.parse_args()

    decoders = [make_decoder(name) for name in args.decoders.split(",")]
    started = time.monotonic()
    print(
        f"QR decode benchmark: {os.cpu_count()} CPUs, numpy {np.__version__}, "
        f"time per frame is the best of {args.repeat} runs"
    )
    for label in args.sizes.split(","):
        width, height = (int(part) for part in label.split("x"))
        bench_size(label, width, height, decoders, args.frames, args.repeat)
    print()
    bench_conversion(args.repeat)
    if args.e2e_attendees > 0:
        bench_latency(args.e2e_decoders.split(","), args.e2e_attendees)
    print(f"\n(bench took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
