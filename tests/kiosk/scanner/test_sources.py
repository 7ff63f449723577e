"""Frame sources: a missing camera is a typed error; files play like a camera."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.errors import CameraNotFound, KioskError, UnreadableImage
from kiosk.scanner.sources import CameraSource, FileSource
from kiosk.scanner.synth import render_blank


def write_video(path: Path, frames: int, size: tuple[int, int] = (160, 120)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, size)
    for number in range(frames):
        writer.write(np.full((size[1], size[0], 3), number * 10 % 256, dtype=np.uint8))
    writer.release()


def test_opening_a_camera_index_that_does_not_exist_raises_camera_not_found() -> None:
    source = CameraSource(57)
    with pytest.raises(CameraNotFound) as raised:
        source.open()
    error = raised.value
    assert isinstance(error, KioskError)
    assert error.code == "camera_not_found"
    assert "index 57" in error.message and "plugged in" in error.message
    assert source.read() is None
    source.close()  # closing an unopened camera is harmless


def test_video_file_plays_every_frame_then_is_exhausted(tmp_path: Path) -> None:
    path = tmp_path / "door.avi"
    write_video(path, 12)
    source = FileSource(path)
    source.open()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert len(frames) == 12 and frames[0].shape == (120, 160, 3)
    assert source.exhausted
    source.close()


def test_looping_video_starts_again_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "door.avi"
    write_video(path, 5)
    source = FileSource(path, loop=True)
    source.open()
    assert all(source.read() is not None for _ in range(17))
    assert not source.exhausted
    source.close()


def test_paced_source_delivers_at_the_given_frame_rate(tmp_path: Path) -> None:
    path = tmp_path / "door.avi"
    write_video(path, 10)
    source = FileSource(path, fps=50)
    source.open()
    started = time.monotonic()
    for _ in range(10):
        assert source.read() is not None
    # 10 frames at 50 fps: the last is due 9/50 s after the first.
    assert 0.17 <= time.monotonic() - started < 0.6
    source.close()


def test_image_folder_and_glob_play_in_name_order(tmp_path: Path) -> None:
    for number in (2, 0, 1):
        cv2.imwrite(
            str(tmp_path / f"frame{number}.png"), render_blank(width=64, height=48, seed=number)
        )
    (tmp_path / "notes.txt").write_text("not a frame")
    for target in (tmp_path, tmp_path / "frame*.png"):
        source = FileSource(target)
        source.open()
        frames = [source.read() for _ in range(3)]
        assert source.read() is None and source.exhausted
        for number, frame in enumerate(frames):
            expected = render_blank(width=64, height=48, seed=number)
            assert frame is not None and np.array_equal(frame, expected)


def test_reopening_a_file_source_starts_from_the_beginning(tmp_path: Path) -> None:
    path = tmp_path / "door.avi"
    write_video(path, 3)
    source = FileSource(path)
    source.open()
    while source.read() is not None:
        pass
    source.open()
    assert not source.exhausted and source.read() is not None


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing.avi", "No video file"),
        ("empty_folder", "holds no images"),
        ("nothing*.png", "No images match"),
        ("not_a_video.avi", "not a video"),
    ],
)
def test_missing_or_unplayable_files_raise_camera_not_found(
    tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / "not_a_video.avi").write_bytes(b"certainly not a video")
    with pytest.raises(CameraNotFound, match=message):
        FileSource(tmp_path / target).open()


def test_unreadable_image_in_a_sequence_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"broken")
    source = FileSource(tmp_path)
    source.open()
    with pytest.raises(UnreadableImage, match=r"a\.png"):
        source.read()
