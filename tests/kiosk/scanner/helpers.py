"""Shared helpers for the scanner tests: deterministic tokens, frame sets and videos."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from core.tokens import SigningKey, TokenKind, issue_token
from kiosk.scanner.decoders import to_gray
from kiosk.scanner.synth import Condition, render_blank, render_frame

# A fixed key, subjects and times: Ed25519 signatures are deterministic, so the tokens, the
# QR codes and therefore every synthesised frame are identical on every run.
SIGNING_KEY = SigningKey.from_private_bytes(1, bytes(range(32, 64)))
EVENT_ID = uuid.UUID("5eca0000-0000-4000-8000-000000000001")
DOORS_OPEN = datetime(2026, 2, 16, 20, 0, tzinfo=UTC)


def make_tickets(count: int, *, first_subject: int = 1) -> list[str]:
    """`count` signed ticket tokens for one event, 250 digits each."""
    return [
        issue_token(
            SIGNING_KEY,
            TokenKind.TICKET,
            uuid.UUID(int=first_subject + index),
            EVENT_ID,
            DOORS_OPEN + timedelta(minutes=index),
        )
        for index in range(count)
    ]


def condition_frames(
    condition: Condition, tickets: Sequence[str], count: int, width: int, height: int
) -> Iterator[tuple[NDArray[np.uint8], str]]:
    """`count` gray frames of one condition and the text each should decode to."""
    index = list(Condition).index(condition)
    for number in range(count):
        payloads = [tickets[(number + offset) % len(tickets)] for offset in range(3)]
        frame = render_frame(
            condition, payloads, width=width, height=height, seed=10_000 * index + number
        )
        assert frame.expected is not None
        yield to_gray(frame.image), frame.expected


def write_door_video(
    path: Path,
    attendees: Sequence[str],
    *,
    fps: int = 30,
    hold_frames: int = 30,
    gap_frames: int = 8,
    size: tuple[int, int] = (640, 480),
) -> None:
    """An MJPG video of a door: empty scene, then each attendee's phone held up for a while.

    Each phone moves between three poses while it is held (a new pose every
    third of the hold), and the empty scene shows between attendees.
    """
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    blank = render_blank(width=width, height=height, seed=1)
    try:
        for number, token in enumerate(attendees):
            for _ in range(gap_frames):
                writer.write(blank)
            poses = [
                render_frame(
                    Condition.CLEAN, [token], width=width, height=height, seed=100 * number + pose
                ).image
                for pose in range(3)
            ]
            for frame_number in range(hold_frames):
                writer.write(poses[frame_number * 3 // hold_frames])
        for _ in range(gap_frames):
            writer.write(blank)
    finally:
        writer.release()
