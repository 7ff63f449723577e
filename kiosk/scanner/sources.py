"""Where frames come from: a camera by device index, or a video / image-sequence file.

Both implement `FrameSource`, so the capture thread, the tests, the demo and
debugging all run the same code path. A source is used by one thread at a
time (the capture thread); it is not thread-safe.

- `open()` raises `CameraNotFound` (with a message a person can act on) when
  there is nothing to open. It may be called again after `close()`: that is
  how the capture thread recovers an unplugged camera.
- `read()` returns the next BGR frame, or None when no frame came (a camera
  that stopped answering, or the end of a file). `exhausted` tells the two
  apart: it is True only for a finite source that has delivered its last frame.
  A returned frame belongs to the caller: a source never writes into it again
  (the decode thread may still be reading it while the next frame arrives).
- `close()` releases the device; it is safe to call twice.
"""

from __future__ import annotations

import contextlib
import glob
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from kiosk.errors import CameraNotFound, UnreadableImage

Frame = NDArray[np.uint8]
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})


class FrameSource(Protocol):
    """Something the capture thread can read frames from."""

    @property
    def name(self) -> str:
        """A short human description, e.g. "camera 0" or "video door.avi"."""
        ...

    @property
    def exhausted(self) -> bool:
        """True once a finite source has delivered its last frame."""
        ...

    def open(self) -> None:
        """Open the device or file; raise CameraNotFound when it is not there."""
        ...

    def read(self) -> Frame | None:
        """The next frame, or None when none came."""
        ...

    def close(self) -> None:
        """Release the device or file."""
        ...


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings: a missing camera is reported once, as CameraNotFound.

    Without this every reopen attempt while a camera is unplugged prints two
    backend warnings to stderr. The log level is process-wide, so it is
    restored at once.
    """
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


class CameraSource:
    """A webcam through OpenCV's `VideoCapture`, by device index."""

    def __init__(self, index: int, *, width: int | None = 1280, height: int | None = 720) -> None:
        self.index = index
        self.width = width
        self.height = height
        self._capture: cv2.VideoCapture | None = None

    @property
    def name(self) -> str:
        """The camera's human name."""
        return f"camera {self.index}"

    @property
    def exhausted(self) -> bool:
        """A camera never runs out of frames."""
        return False

    def open(self) -> None:
        """Open the camera at this index at the requested resolution."""
        self.close()
        with _quiet_opencv():
            capture = cv2.VideoCapture(self.index)
        if not capture.isOpened():
            capture.release()
            raise CameraNotFound(
                f"No camera found at index {self.index}. Check that a webcam is plugged in "
                "and not in use by another program, or pick another index with --camera "
                "(0 is usually the built-in camera)."
            )
        if self.width is not None and self.height is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        # Ask the driver to keep as few frames as it can: we want the newest, not a backlog.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture

    def read(self) -> Frame | None:
        """Block for the camera's next frame; None when the camera stopped answering."""
        if self._capture is None:
            return None
        try:
            ok, frame = self._capture.read()
        except cv2.error:
            # Some backends raise instead of returning False when the device goes away.
            return None
        return cast(Frame, frame) if ok else None

    def close(self) -> None:
        """Release the camera."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class FileSource:
    """A video file, or a folder / glob of images, played as a camera would deliver it.

    `fps` paces `read()` like a live camera: one frame every 1/fps seconds on a
    fixed timetable, and a reader that falls behind gets the next frame at once
    rather than a burst. `fps=None` reads as fast as the caller asks.
    `loop=True` starts again at the end instead of becoming exhausted.
    """

    def __init__(self, path: str | Path, *, fps: float | None = None, loop: bool = False) -> None:
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = str(path)
        self.fps = fps
        self.loop = loop
        self._capture: cv2.VideoCapture | None = None
        self._images: list[str] = []
        self._position = 0
        self._exhausted = False
        self._next_due: float | None = None

    @property
    def name(self) -> str:
        """The file's human name."""
        return f"video {self.path}"

    @property
    def exhausted(self) -> bool:
        """True after the last frame of a non-looping file."""
        return self._exhausted

    def open(self) -> None:
        """Open the video, or list the images of the folder or glob, from the start."""
        self.close()
        self._exhausted = False
        self._position = 0
        self._next_due = None
        path = Path(self.path)
        if path.is_dir():
            self._images = sorted(
                str(child) for child in path.iterdir() if child.suffix.lower() in IMAGE_SUFFIXES
            )
            if not self._images:
                raise CameraNotFound(f"The folder {self.path} holds no images to play.")
            return
        if glob.has_magic(self.path):
            self._images = sorted(glob.glob(self.path))
            if not self._images:
                raise CameraNotFound(f"No images match {self.path}.")
            return
        if not path.is_file():
            raise CameraNotFound(f"No video file at {self.path}.")
        with _quiet_opencv():
            capture = cv2.VideoCapture(self.path)
        if not capture.isOpened():
            capture.release()
            raise CameraNotFound(f"{self.path} is not a video OpenCV can play.")
        self._capture = capture

    def read(self) -> Frame | None:
        """The next frame (waiting until it is due when paced); None at the end."""
        if self._exhausted:
            return None
        self._wait_until_due()
        frame = self._next_frame()
        if frame is None and self.loop and self._position > 0:
            self._rewind()
            frame = self._next_frame()
        if frame is None:
            self._exhausted = True
        return frame

    def close(self) -> None:
        """Release the video file."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._images = []

    def _wait_until_due(self) -> None:
        if self.fps is None:
            return
        now = time.monotonic()
        if self._next_due is None:
            self._next_due = now
        delay = self._next_due - now
        if delay > 0:
            time.sleep(delay)
        # Frames are due on a fixed timetable; a reader that fell behind does not make
        # the source speed up to catch up, as a camera would not.
        self._next_due = max(self._next_due, now) + 1 / self.fps

    def _next_frame(self) -> Frame | None:
        if self._capture is not None:
            ok, frame = self._capture.read()
            if not ok:
                return None
            self._position += 1
            return cast(Frame, frame)
        if self._position >= len(self._images):
            return None
        image_path = self._images[self._position]
        self._position += 1
        image = cv2.imread(image_path, cv2.IMREAD_COLOR)
        if image is None:
            raise UnreadableImage(f"{image_path} in the image sequence is not a readable image.")
        return cast(Frame, image)

    def _rewind(self) -> None:
        self._position = 0
        if self._capture is not None:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
