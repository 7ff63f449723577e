"""QR decoders behind one small interface, so nothing else knows which library reads codes.

A `Decoder` takes a grayscale frame and returns every QR code it read, with
each code's centre in frame pixels. Three backends:

- `ZxingDecoder` (zxing-cpp) — the default: the fastest and the most robust in
  `bench/decode.py` on our tokens; reads inverted (dark-mode) codes natively.
- `PyzbarDecoder` (pyzbar over the system library libzbar0) — kept selectable.
  It works around zbar's traps: it is always handed one gray channel, large
  frames are scanned downscaled (full-size noise defeats it), and an inverted
  copy is tried when nothing is found.
- `OpenCVDecoder` (OpenCV's `QRCodeDetectorAruco`) — no extra dependency
  beyond OpenCV, but slow; tries an inverted copy when nothing is found.

Every backend converts colour frames to gray itself (`to_gray`), so a BGR frame
handed over by mistake is read correctly rather than one channel of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from kiosk.errors import DecoderUnavailable

Image = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """One QR code read from a frame: its text and its centre (x, y) in frame pixels."""

    text: str
    center: tuple[float, float]


class Decoder(Protocol):
    """Reads every QR code in a grayscale frame."""

    name: str

    def decode(self, gray: Image) -> list[DecodedCode]:
        """Return the codes read from `gray` (empty when none); never raises on a bad frame."""
        ...


def to_gray(frame: Image) -> Image:
    """The frame as one contiguous 8-bit gray channel (BGR and BGRA are converted)."""
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 1:
        return np.ascontiguousarray(frame[:, :, 0])
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cast(Image, cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cast(Image, cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY))
    raise ValueError(f"not an image frame: shape {frame.shape}")


def order_by_centre(codes: Sequence[DecodedCode], width: int, height: int) -> list[DecodedCode]:
    """The codes sorted by distance from the frame centre, nearest first."""
    middle = (width / 2, height / 2)
    return sorted(codes, key=lambda code: math.dist(code.center, middle))


def pick_nearest_centre(
    codes: Sequence[DecodedCode], width: int, height: int
) -> DecodedCode | None:
    """The code nearest the frame centre — the one the person at the door is presenting."""
    ordered = order_by_centre(codes, width, height)
    return ordered[0] if ordered else None


def _centre(points: Any) -> tuple[float, float]:
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = array.mean(axis=0)
    return float(x), float(y)


class ZxingDecoder:
    """zxing-cpp at two scales: a box-averaged coarse copy and the full frame, first read wins.

    Frames at least `2 * coarse_width` wide are read coarse first: averaging 2x2 (or 3x3)
    pixels cancels sensor noise and blur-smeared edges, and a quarter of the pixels costs a
    quarter of the time. Only when the coarse copy reads nothing is the full frame read, for
    codes too far away to survive the downscale; that pass looks for dark-on-light codes
    only, because searching inverted too would add a third to the cost of every empty
    frame, and dark-mode codes are read on the coarse pass. Smaller frames are read full
    first (both polarities), then coarse. An empty frame pays both passes.
    """

    name = "zxing"

    def __init__(self, coarse_width: int = 640) -> None:
        import zxingcpp

        self._zxing = zxingcpp
        # Our tokens are always QR Model 2; not looking for Micro QR or rMQR saves time
        # and false candidates.
        self._formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCodeModel2)
        self.coarse_width = coarse_width

    def decode(self, gray: Image) -> list[DecodedCode]:
        """Return the QR codes zxing-cpp reads in the frame."""
        image = to_gray(gray)
        factor = max(2, image.shape[1] // self.coarse_width)
        size = (image.shape[1] // factor, image.shape[0] // factor)
        coarse = cast(Image, cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        if image.shape[1] >= 2 * self.coarse_width:
            passes = [(coarse, factor, True), (image, 1, False)]
        else:
            passes = [(image, 1, True), (coarse, factor, True)]
        for scaled, scale, try_invert in passes:
            codes = self._read(scaled, scale, try_invert)
            if codes:
                return codes
        return []

    def _read(self, image: Image, scale: int, try_invert: bool) -> list[DecodedCode]:
        results = self._zxing.read_barcodes(
            image,
            formats=self._formats,
            try_rotate=False,  # only 1-D codes need it; QR finder patterns are rotation-free
            try_downscale=False,  # the two passes above are our own, cheaper pyramid
            try_invert=try_invert,  # dark-mode phones show light-on-dark codes
        )
        codes = []
        for result in results:
            position = result.position
            corners = [
                (position.top_left.x, position.top_left.y),
                (position.top_right.x, position.top_right.y),
                (position.bottom_right.x, position.bottom_right.y),
                (position.bottom_left.x, position.bottom_left.y),
            ]
            x, y = _centre(corners)
            # Pixel centres: coarse pixel i covers full pixels i*scale .. i*scale + scale - 1.
            codes.append(
                DecodedCode(result.text, ((x + 0.5) * scale - 0.5, (y + 0.5) * scale - 0.5))
            )
        return codes


class PyzbarDecoder:
    """pyzbar (libzbar0): QR only, downscaled to `max_width`, inverted copy tried when empty."""

    name = "pyzbar"

    def __init__(self, max_width: int = 640) -> None:
        try:
            from pyzbar import pyzbar
        except ImportError as exc:  # pyzbar raises ImportError when libzbar0 is missing
            raise DecoderUnavailable(
                "The pyzbar decoder needs the system library zbar "
                "(Debian/Ubuntu: apt install libzbar0; macOS: brew install zbar). "
                f"Loading it failed: {exc}"
            ) from exc
        self._pyzbar = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]
        self.max_width = max_width

    def decode(self, gray: Image) -> list[DecodedCode]:
        """Return the QR codes zbar reads in the frame, or in its inverse when it reads none."""
        image = to_gray(gray)
        scale = 1.0
        if image.shape[1] > self.max_width:
            # zbar's scanner loses noisy codes at full 720p; downscaling averages the noise away.
            scale = self.max_width / image.shape[1]
            size = (self.max_width, round(image.shape[0] * scale))
            image = cast(Image, cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        codes = self._scan(image, scale)
        if not codes:
            # zbar reads only dark-on-light codes.
            codes = self._scan(cast(Image, cv2.bitwise_not(image)), scale)
        return codes

    def _scan(self, image: Image, scale: float) -> list[DecodedCode]:
        height, width = image.shape
        results = self._pyzbar.decode((image.tobytes(), width, height), symbols=self._symbols)
        codes = []
        for result in results:
            x, y = _centre([(point.x, point.y) for point in result.polygon])
            text = result.data.decode("utf-8", errors="replace")
            codes.append(DecodedCode(text, (x / scale, y / scale)))
        return codes


class OpenCVDecoder:
    """OpenCV's ArUco-based QR detector; an inverted copy is tried when nothing is read."""

    name = "opencv"

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetectorAruco()

    def decode(self, gray: Image) -> list[DecodedCode]:
        """Return the QR codes OpenCV reads in the frame, or in its inverse when it reads none."""
        image = to_gray(gray)
        codes = self._scan(image)
        if not codes:
            codes = self._scan(cast(Image, cv2.bitwise_not(image)))
        return codes

    def _scan(self, image: Image) -> list[DecodedCode]:
        try:
            found, texts, points, _ = self._detector.detectAndDecodeMulti(image)
        except cv2.error:
            # OpenCV's decoder asserts on some degenerate detections; a frame that trips it
            # simply holds no readable code.
            return []
        if not found or points is None:
            return []
        return [
            DecodedCode(text, _centre(corners))
            for text, corners in zip(texts, points, strict=True)
            if text
        ]


DECODERS: dict[str, Callable[[], Decoder]] = {
    "zxing": ZxingDecoder,
    "pyzbar": PyzbarDecoder,
    "opencv": OpenCVDecoder,
}
DEFAULT_DECODER = "zxing"


def make_decoder(name: str = DEFAULT_DECODER) -> Decoder:
    """Build the decoder backend called `name` (zxing, pyzbar or opencv)."""
    factory = DECODERS.get(name)
    if factory is None:
        known = ", ".join(DECODERS)
        raise DecoderUnavailable(f"Unknown QR decoder {name!r}; choose one of: {known}.")
    return factory()
