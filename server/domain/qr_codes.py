"""QR codes drawn as inline SVG (no JavaScript, no image request), and the drawings kept.

zxing-cpp encodes (it chooses the mask in C++); the SVG is one path of
horizontal runs, scaled by CSS to fill a phone screen. segno drew them until
issue 20, and its pure-Python mask choice took about 10 of the 13 ms each
code cost.

The codes people carry (passport, ticket and purchase tokens) are drawn once,
when the token is issued (`keep_drawing`), and kept in `qr_drawings`: at the
end of a fête every attendee's /passport used to draw its codes again in each
server process, about a millisecond of CPU each while the crowd waited.
/passport reads a drawing with its token's own row (`kept_drawing`, a
subquery on the token's hash), so a crowd's first loads cost no query of
their own; `token_drawings` reads the others back through a per-process
cache; a token issued before the table existed is drawn there and cached (a
page load never writes). One-off codes (pairing) are drawn each time with
`qr_svg`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Final

import numpy as np
import zxingcpp
from cachetools import LRUCache
from sqlalchemy import ColumnExpressionArgument, ScalarSelect, bindparam, select
from sqlalchemy.orm import Session

from server.db.models import QrDrawing
from server.db.token_hash import token_sha256
from server.domain import accounts

#: Light modules drawn around the code; scanners want a quiet zone of some.
BORDER: Final = 2
#: Token drawings kept per server process (about 9 KB of SVG each).
QR_CACHE_SIZE: Final = 4096

_cache: LRUCache[str, str] = LRUCache(maxsize=QR_CACHE_SIZE)
_cache_lock = threading.Lock()  # pages run on worker threads; an LRU reorders on every read


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


def keep_drawing(session: Session, token: str) -> None:
    """Draw a token being issued and keep the drawing (flushed with the token's own row)."""
    svg = qr_svg(token)
    session.add(QrDrawing(token_sha256=accounts.hash_token(token), svg=svg))
    _remember({token: svg})


def kept_drawing(token: ColumnExpressionArgument[str | None]) -> ScalarSelect[str]:
    """SQL: the drawing kept for a token column (NULL when none was kept), to read with the
    token's own row instead of in a query of its own (`token_drawings`)."""
    return (
        select(QrDrawing.svg).where(QrDrawing.token_sha256 == token_sha256(token)).scalar_subquery()
    )


#: The kept drawings of some token hashes (built once: each crowd page reads them).
_KEPT: Final = select(QrDrawing.token_sha256, QrDrawing.svg).where(
    QrDrawing.token_sha256.in_(bindparam("keys", expanding=True))
)


def token_drawings(session: Session, tokens: Iterable[str]) -> dict[str, str]:
    """Each token's drawing: from this process's cache, else as kept, else drawn now."""
    wanted = {token for token in tokens if token}
    with _cache_lock:
        found = {token: svg for token in wanted if (svg := _cache.get(token)) is not None}
    missing = wanted - found.keys()
    if not missing:
        return found
    by_key = {accounts.hash_token(token): token for token in missing}
    kept = session.execute(_KEPT, {"keys": list(by_key)})
    fetched = {by_key[key]: svg for key, svg in kept}
    fetched.update((token, qr_svg(token)) for token in missing - fetched.keys())
    _remember(fetched)
    return found | fetched


def _remember(drawings: dict[str, str]) -> None:
    with _cache_lock:
        _cache.update(drawings)


def forget_cached() -> None:
    """Empty this process's cache (tests, to see where a drawing comes from)."""
    with _cache_lock:
        _cache.clear()
