"""One distinct sound per verdict colour: short generated tones, or the system beep.

`Sounds.requested` records every colour asked for, so tests (and a log) can
tell which sound a verdict asked for without listening. The WAV files are
written once into a temporary folder; QtMultimedia is loaded only when sound
is enabled, and any failure to load it falls back to `QApplication.beep()`.
"""

from __future__ import annotations

import logging
import math
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtWidgets import QApplication

from kiosk.services.verdict import Colour

logger = logging.getLogger(__name__)

_RATE = 22_050
# (frequency Hz, milliseconds) per note: rising for green, double for amber, low buzz for red.
TONES: dict[Colour, tuple[tuple[float, int], ...]] = {
    Colour.GREEN: ((880.0, 90), (1320.0, 140)),
    Colour.AMBER: ((660.0, 120), (0.0, 60), (660.0, 120)),
    Colour.RED: ((220.0, 450),),
}


def write_tone(path: Path, notes: tuple[tuple[float, int], ...]) -> None:
    """Write a mono 16-bit WAV of `notes` (a frequency of 0 is a rest) to `path`."""
    samples: list[int] = []
    for frequency, millis in notes:
        count = _RATE * millis // 1000
        for i in range(count):
            fade = min(1.0, i / 200, (count - i) / 200)
            value = math.sin(2 * math.pi * frequency * i / _RATE) if frequency else 0.0
            samples.append(int(value * fade * 0.6 * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


KEPT = 1000  # sounds remembered for tests and logs


class Sounds(QObject):
    """Plays the sound of a verdict colour; `audible=False` only records the request."""

    def __init__(self, *, audible: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.requested: list[Colour] = []  # the latest KEPT only: a night is long
        self._effects: dict[Colour, Any] = {}
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        if audible:
            self._load()

    def _load(self) -> None:
        try:
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError:
            logger.info("QtMultimedia is not available: verdicts beep")
            return
        self._folder = tempfile.TemporaryDirectory(prefix="soca-sounds-")
        for colour, notes in TONES.items():
            path = Path(self._folder.name) / f"{colour.value}.wav"
            write_tone(path, notes)
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            self._effects[colour] = effect

    def play(self, colour: Colour) -> None:
        """Play `colour`'s sound (or beep) and record that it was asked for."""
        self.requested.append(colour)
        del self.requested[:-KEPT]
        effect = self._effects.get(colour)
        if effect is not None and effect.status() != effect.Status.Error:
            effect.play()
        elif self._folder is not None:
            QApplication.beep()  # no QtMultimedia, or no audio device it can play on

    def close(self) -> None:
        """Delete the generated files."""
        self._effects.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
