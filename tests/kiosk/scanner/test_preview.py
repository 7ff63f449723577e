"""Previews: paced without losing frames to jitter, made ready to paint on the capture thread."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from kiosk.scanner.decoders import DecodedCode
from kiosk.scanner.worker import Pacer, Scanner, preview_image

Frame = NDArray[np.uint8]


def _taken(pacer: Pacer, times: list[float]) -> int:
    return sum(pacer.take(now) for now in times)


def test_a_camera_at_the_cap_is_paced_frame_for_frame_despite_jitter() -> None:
    # 30 fps, each frame 3 ms early or late: "an interval since the last one" would drop half.
    times = [k / 30 + (0.003 if k % 2 else -0.003) for k in range(300)]
    assert _taken(Pacer(30), times) == 300


def test_a_faster_camera_is_thinned_to_the_cap_on_average() -> None:
    times = [k / 120 for k in range(1200)]  # 10 s at 120 fps
    assert 299 <= _taken(Pacer(30), times) <= 301


def test_a_pause_does_not_turn_into_a_burst() -> None:
    pacer = Pacer(30)
    assert pacer.take(0.0)
    assert pacer.take(10.0)  # the first frame after a pause goes at once
    assert not pacer.take(10.001)  # and the next waits for its own slot
    assert pacer.wait(10.001) > 0
    assert pacer.take(10.0 + pacer.interval)


def test_no_cap_lets_every_frame_through() -> None:
    pacer = Pacer(0)
    assert _taken(pacer, [0.0, 0.0, 0.001, 0.001]) == 4
    assert pacer.wait(0.001) == 0


def test_preview_is_shrunk_to_fit_keeping_its_shape_in_the_display_format() -> None:
    frame = np.zeros((720, 1280, 3), dtype=np.uint8)
    frame[:, :, 2] = 200  # red in BGR
    image = preview_image(frame, (640, 480))
    assert (image.width(), image.height()) == (640, 360)
    assert image.format() == QImage.Format.Format_RGB32
    colour = image.pixelColor(10, 10)
    assert (colour.red(), colour.green(), colour.blue()) == (200, 0, 0)


def test_preview_is_never_enlarged_and_owns_its_pixels() -> None:
    frame = np.full((48, 64), 77, dtype=np.uint8)
    image = preview_image(frame, (640, 480))
    frame[:] = 0
    assert (image.width(), image.height()) == (64, 48)
    assert image.pixelColor(5, 5).red() == 77
    assert preview_image(frame).size() == image.size()


class _Camera:
    """Forty 640x480 frames, as fast as they are read."""

    name = "test camera"

    def __init__(self) -> None:
        self._left = 40
        self.exhausted = False

    def open(self) -> None:
        """Nothing to open."""

    def read(self) -> Frame | None:
        """The next frame, or None (and exhausted) after the last."""
        if self._left == 0:
            self.exhausted = True
            return None
        self._left -= 1
        return np.full((480, 640, 3), 90, dtype=np.uint8)

    def close(self) -> None:
        """Nothing to release."""


class _NoCodes:
    name = "none"

    def decode(self, gray: Frame) -> list[DecodedCode]:
        return []


def test_scanner_sends_previews_at_the_size_the_gui_shows_them(qtbot: QtBot) -> None:
    scanner = Scanner(_Camera(), _NoCodes(), preview_fps=0.001)  # one preview, the first frame
    scanner.fit_previews(320, 200)
    previews: list[QImage] = []
    scanner.frame_ready.connect(previews.append)
    with qtbot.waitSignal(scanner.finished, timeout=10_000):
        scanner.start()
    assert [(p.width(), p.height()) for p in previews] == [(267, 200)]
