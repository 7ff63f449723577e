"""Headless scanning: codes from a file or a keyboard-wedge scanner, one per line, one verdict each.

A USB keyboard-wedge scanner types the code and presses Enter, so a line of
standard input is exactly one scan. Each line goes through the same operation
a screen calls; the caller prints the verdict's line only after the operation
returned, that is after its outbox transaction committed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from typing import BinaryIO

from core.wire import MAX_QR_LENGTH
from kiosk.services.prize import PrizeService
from kiosk.services.verdict import Verdict

LINE_LIMIT = MAX_QR_LENGTH + 2


class ScanMode(enum.StrEnum):
    """What a scan does: admit at the door, stamp cards at a branch, review (no scanning)."""

    DOOR = "door"
    PRIZE = "prize"
    REVIEW = "review"


class PrizeAction(enum.StrEnum):
    """What a headless prize-mode scan does: stamp, claim, or stamp unless full and then claim."""

    STAMP = "stamp"
    CLAIM = "claim"
    AUTO = "auto"


def iter_codes(stream: BinaryIO) -> Iterator[str]:
    """Each non-blank line of a byte stream, decoded leniently; an over-long line stays over-long.

    A line longer than any QR code is read in bounded pieces and reported as a
    marker longer than `MAX_QR_LENGTH`, so it is refused without being held in memory.
    """
    while True:
        raw = stream.readline(LINE_LIMIT)
        if not raw:
            return
        if len(raw) >= LINE_LIMIT and not raw.endswith(b"\n"):
            while True:
                rest = stream.readline(LINE_LIMIT)
                if not rest or rest.endswith(b"\n"):
                    break
            yield "?" * LINE_LIMIT
            continue
        text = raw.decode("utf-8", "replace").strip()
        if text:
            yield text


def prize_handler(prize: PrizeService, action: PrizeAction) -> Callable[[str], Verdict]:
    """The prize operation one headless scan runs for the chosen action."""

    # Each headless line is a scan someone meant: no "Add another stamp?" to answer here.
    if action is PrizeAction.STAMP:
        return prize.stamp_again
    if action is PrizeAction.CLAIM:
        return prize.confirm_prize

    def auto(code: str) -> Verdict:
        card = prize.look_up(code).card
        if card is not None and card.full:
            return prize.confirm_prize(code)
        return prize.stamp_again(code)

    return auto
