"""Uploaded tier icons: checked, re-encoded and kept by content.

An upload is accepted only if Pillow recognises it as PNG, JPEG, GIF or WebP
within `limits.TIER_ICON_BYTES` and 2048 px a side. It is decoded and
re-encoded as a fresh PNG of at most 128 px (its first frame, no metadata),
so no uploaded byte is ever served back; the file is named by the SHA-256 of
that PNG, and its path `/media/tier-icons/<sha256>.png` becomes the tier's icon.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Final

from PIL import Image, UnidentifiedImageError

from core import limits
from server.errors import InvalidInput

FORMATS: Final = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
MAX_SIDE: Final = 2048
ICON_SIDE: Final = 128
URL_PREFIX: Final = "/media/tier-icons/"


class BadIcon(InvalidInput):
    """An upload that is not a small PNG, JPEG, GIF or WebP image."""

    code = "bad_icon"


def store(data: bytes, folder: Path) -> str:
    """Keep an uploaded icon (re-encoded) in `folder`; its URL path, or BadIcon."""
    if len(data) > limits.TIER_ICON_BYTES:
        raise BadIcon(f"Icons can be at most {limits.TIER_ICON_BYTES // 1024} KB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise BadIcon("Upload a PNG, JPEG, GIF or WebP image.")
            if max(image.size) > MAX_SIDE:
                raise BadIcon(f"Icons can be at most {MAX_SIDE} pixels a side.")
            image.seek(0)
            icon = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadIcon("Upload a PNG, JPEG, GIF or WebP image.") from exc
    icon.thumbnail((ICON_SIDE, ICON_SIDE))
    out = io.BytesIO()
    icon.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    name = hashlib.sha256(png).hexdigest() + ".png"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_bytes(png)
        temporary.replace(target)
    return URL_PREFIX + name


def path_of(folder: Path, name: str) -> Path | None:
    """The stored file for a served name, or None (names are exactly `<sha256>.png`)."""
    stem, dot, suffix = name.partition(".")
    if (
        dot != "."
        or suffix != "png"
        or len(stem) != 64
        or not all(c in "0123456789abcdef" for c in stem)
    ):
        return None
    found = folder / name
    return found if found.is_file() else None
