"""The real capture and decode threads: one scan per attendee, recovery, errors, stopping."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from kiosk.errors import CameraNotFound
from kiosk.scanner.decoders import DecodedCode, ZxingDecoder
from kiosk.scanner.sources import CameraSource, FileSource
from kiosk.scanner.synth import Condition, render_blank, render_frame
from kiosk.scanner.validator import ScanValidator
from kiosk.scanner.worker import Scanner, ScannerState, frame_to_qimage
from tests.kiosk.scanner.helpers import write_door_video

Frame = NDArray[np.uint8]


class Recorder:
    """Collects what a Scanner emits, in order."""

    def __init__(self, scanner: Scanner) -> None:
        self.codes: list[str] = []
        self.states: list[str] = []
        self.errors: list[str] = []
        self.previews: list[QImage] = []
        scanner.code_accepted.connect(self.codes.append)
        scanner.state_changed.connect(self.states.append)
        scanner.error_occurred.connect(self.errors.append)
        scanner.frame_ready.connect(self.previews.append)


class ScriptedSource:
    """A FrameSource that plays a script: frames, dropouts and failed reopen attempts.

    `script` is a list of frames and the string "lost" (a read that returns
    None); each "lost" makes the next `failed_reopens` calls to `open()` raise
    CameraNotFound, as an unplugged camera would.
    """

    def __init__(
        self, script: list[Frame | str], *, failed_reopens: int = 0, interval: float = 0.01
    ) -> None:
        self._script = script
        self._failed_reopens = failed_reopens
        self._interval = interval
        self._position = 0
        self._refusals_left = 0
        self.open_calls = 0
        self.is_open = False

    @property
    def name(self) -> str:
        return "scripted camera"

    @property
    def exhausted(self) -> bool:
        return self._position >= len(self._script)

    def open(self) -> None:
        self.open_calls += 1
        if self._refusals_left > 0:
            self._refusals_left -= 1
            raise CameraNotFound("scripted camera is unplugged")
        self.is_open = True

    def read(self) -> Frame | None:
        if not self.is_open or self.exhausted:
            return None
        time.sleep(self._interval)
        item = self._script[self._position]
        self._position += 1
        if isinstance(item, str):
            self._refusals_left = self._failed_reopens
            self.is_open = False
            return None
        return item

    def close(self) -> None:
        self.is_open = False


class FailingSource(ScriptedSource):
    """Reads a few frames, then the driver raises."""

    def read(self) -> Frame | None:
        if self._position >= 3:
            raise RuntimeError("sensor on fire")
        return super().read()


def small_frame(condition: Condition, payload: str, seed: int = 0) -> Frame:
    return render_frame(condition, [payload], width=640, height=480, seed=seed).image


def test_video_through_the_real_threads_gives_one_scan_per_attendee(
    qtbot: QtBot, tmp_path: Path, tickets: list[str]
) -> None:
    video = tmp_path / "door.avi"
    first, second, third = tickets[:3]
    # The first attendee comes back (within the 5 s window) after the second one.
    write_door_video(video, [first, second, third, first], fps=30, hold_frames=30, gap_frames=6)
    scanner = Scanner(FileSource(video, fps=30), ZxingDecoder(), preview_fps=10)
    recorder = Recorder(scanner)

    with qtbot.waitSignal(scanner.finished, timeout=30_000):
        scanner.start()

    assert recorder.codes == [first, second, third]
    assert recorder.errors == []
    assert recorder.states[0] == ScannerState.RUNNING
    assert recorder.states[-1] == ScannerState.STOPPED
    # About 5 s of video previewed at no more than 10 fps.
    assert 10 <= len(recorder.previews) <= 60
    assert recorder.previews[0].size().width() == 640
    assert not scanner.running


def test_camera_lost_then_plugged_back_recovers_and_scans(qtbot: QtBot, tickets: list[str]) -> None:
    blank = render_blank(width=640, height=480, seed=3)
    code = small_frame(Condition.CLEAN, tickets[5])
    source = ScriptedSource([blank] * 5 + ["lost"] + [code] * 15, failed_reopens=3)
    scanner = Scanner(source, ZxingDecoder(), reopen_delays=(0.01, 0.04))
    recorder = Recorder(scanner)

    with qtbot.waitSignal(scanner.finished, timeout=10_000):
        scanner.start()

    assert recorder.states == [
        ScannerState.RUNNING,
        ScannerState.CAMERA_LOST,
        ScannerState.RECOVERING,
        ScannerState.RUNNING,
        ScannerState.STOPPED,
    ]
    assert source.open_calls == 1 + 3 + 1  # start, three refused reopens, the one that worked
    assert recorder.codes == [tickets[5]]


def test_an_exception_in_capture_becomes_an_error_state_not_a_silent_death(
    qtbot: QtBot, tickets: list[str]
) -> None:
    source = FailingSource([render_blank(width=640, height=480)] * 10)
    scanner = Scanner(source, ZxingDecoder())
    recorder = Recorder(scanner)

    with qtbot.waitSignal(scanner.finished, timeout=10_000):
        scanner.start()

    assert recorder.states[-1] == ScannerState.ERROR
    assert len(recorder.errors) == 1 and "sensor on fire" in recorder.errors[0]
    assert "scripted camera" in recorder.errors[0]
    assert not source.is_open


class BrokenDecoder:
    name = "broken"

    def decode(self, gray: Frame) -> list[DecodedCode]:
        raise ValueError("decoder exploded")


def test_an_exception_in_decoding_is_reported_and_stops_capture(
    qtbot: QtBot, tickets: list[str]
) -> None:
    frames: list[Frame | str] = [render_blank(width=640, height=480)] * 1000
    scanner = Scanner(ScriptedSource(frames), BrokenDecoder())
    recorder = Recorder(scanner)

    with qtbot.waitSignal(scanner.finished, timeout=10_000):
        scanner.start()

    assert any("decoder exploded" in error for error in recorder.errors)
    assert ScannerState.ERROR in recorder.states
    assert recorder.states[-1] in (ScannerState.ERROR, ScannerState.STOPPED)


def test_stop_ends_both_threads_within_one_second(
    qtbot: QtBot, tmp_path: Path, tickets: list[str]
) -> None:
    video = tmp_path / "door.avi"
    write_door_video(video, tickets[:1], hold_frames=10, gap_frames=2)
    scanner = Scanner(FileSource(video, fps=30, loop=True), ZxingDecoder())
    recorder = Recorder(scanner)
    with qtbot.waitSignal(scanner.frame_ready, timeout=10_000):
        scanner.start()
    assert scanner.running

    started = time.monotonic()
    assert scanner.stop(timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert not scanner.running  # the threads' last signals were delivered by stop()
    assert recorder.states[-1] == ScannerState.STOPPED

    # And it starts again cleanly.
    with qtbot.waitSignal(scanner.frame_ready, timeout=10_000):
        scanner.start()
    assert scanner.stop(timeout=1.0)


def test_start_raises_camera_not_found_when_there_is_no_camera(qtbot: QtBot) -> None:
    scanner = Scanner(CameraSource(57))
    with pytest.raises(CameraNotFound, match="index 57"):
        scanner.start()
    assert not scanner.running
    assert scanner.stop()  # nothing to stop


class SlowRecordingDecoder:
    """Takes 20 ms a frame and remembers which frames it saw (numbered in pixel 0)."""

    name = "slow"

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.lock = threading.Lock()

    def decode(self, gray: Frame) -> list[DecodedCode]:
        time.sleep(0.02)
        with self.lock:
            self.seen.append(int(gray[0, 0]))
        return []


def test_a_slow_decoder_always_gets_the_newest_frame_and_nothing_queues(
    qtbot: QtBot,
) -> None:
    frames: list[Frame | str] = [np.full((48, 64), number, dtype=np.uint8) for number in range(200)]
    decoder = SlowRecordingDecoder()
    scanner = Scanner(ScriptedSource(frames, interval=0.002), decoder, max_decode_fps=1000)

    with qtbot.waitSignal(scanner.finished, timeout=10_000):
        scanner.start()

    seen = decoder.seen
    assert seen == sorted(set(seen))  # never an older frame after a newer one
    assert len(seen) < 100  # most frames were replaced before the decoder got to them
    assert seen[-1] >= 190  # and it ends on (nearly) the newest


def test_decode_rate_is_capped(qtbot: QtBot) -> None:
    # About 1 s of frames; uncapped, a 20 ms decoder would manage some 50 of them.
    frames: list[Frame | str] = [np.zeros((48, 64), dtype=np.uint8)] * 100
    decoder = SlowRecordingDecoder()
    scanner = Scanner(ScriptedSource(frames, interval=0.01), decoder, max_decode_fps=10)
    started = time.monotonic()
    with qtbot.waitSignal(scanner.finished, timeout=10_000):
        scanner.start()
    elapsed = time.monotonic() - started
    assert 3 <= len(decoder.seen) <= 10 * elapsed + 2


def test_validator_settings_reach_the_decode_thread(qtbot: QtBot, tickets: list[str]) -> None:
    code = small_frame(Condition.CLEAN, tickets[7])
    blank = render_blank(width=640, height=480)
    # Two sightings, a gap, two sightings: with 3 required frames, never accepted.
    script: list[Frame | str] = [code, code, blank, code, code, blank]
    scanner = Scanner(
        ScriptedSource(script, interval=0.05),
        ZxingDecoder(),
        validator=ScanValidator(required_frames=3),
    )
    recorder = Recorder(scanner)
    with qtbot.waitSignal(scanner.finished, timeout=10_000):
        scanner.start()
    assert recorder.codes == []


def test_preview_image_is_an_independent_copy() -> None:
    frame = np.zeros((4, 6, 3), dtype=np.uint8)
    frame[:, :, 2] = 200  # red in BGR
    image = frame_to_qimage(frame)
    frame[:] = 0
    assert image.width() == 6 and image.height() == 4
    assert image.pixelColor(0, 0).red() == 200
    gray = frame_to_qimage(np.full((3, 3), 77, dtype=np.uint8))
    assert gray.pixelColor(1, 1).red() == 77
