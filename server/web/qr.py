"""QR codes drawn into pages as inline SVG: no JavaScript, no image request.

zxing-cpp encodes (it chooses the mask in C++, in about 0.4 ms); the SVG is one
path of horizontal runs, scaled by CSS to fill a phone screen. segno drew
them until issue 20, and its pure-Python mask choice took about 10 of the 13 ms
each code cost: at the end of a fête every attendee's first /passport load
drew two of them in each server process.

The codes people carry (passport, ticket and purchase tokens) are drawn once
per token and server process (`token_qr_svg`); one-off codes (pairing) are
drawn each time.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import zxingcpp

#: Light modules drawn around the code; scanners want a quiet zone of some.
BORDER: Final = 2
#: Token QRs kept per server process (about 3 KB of SVG each).
QR_CACHE_SIZE: Final = 4096


def qr_matrix(text: str) -> np.ndarray:
    """The code's modules, True where dark (error correction M, as every code we print)."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules: np.ndarray = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) == 0
    return modules


def qr_svg(text: str) -> str:
    """`text` as an inline SVG QR code with no fixed size (CSS sizes it)."""
    dark = qr_matrix(text)
    height, width = dark.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = dark
    edges = np.diff(padded, axis=1)  # +1 where a run of dark modules starts, -1 after it ends
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # row by row, in the same order as the starts
    runs = "".join(
        [
            f"M{start + BORDER} {row + BORDER}.5h{end - start}"
            for row, start, end in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
        ]
    )
    size = f"{width + 2 * BORDER} {height + 2 * BORDER}"
    return f'<svg viewBox="0 0 {size}" aria-hidden="true"><path stroke="#000" d="{runs}"/></svg>'


@functools.lru_cache(maxsize=QR_CACHE_SIZE)
def token_qr_svg(token: str) -> str:
    """`qr_svg` of a token people carry: drawn once per server process, then reused."""
    return qr_svg(token)
