"""The pass images, drawn with Pillow: icon, logo, and a strip showing the stamps.

Icons and logos never change, so each is drawn once per process; a strip is
drawn once per (stamps, size, colour) and kept, so a busy night's passes
cost a dictionary look-up each.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from server.wallet.content import ACCENT, BACKGROUND, FOREGROUND


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@lru_cache(maxsize=4)
def icon(scale: int) -> bytes:
    """icon.png (29 pt): a gold stamp on the brand colour."""
    size = 29 * scale
    image = Image.new("RGB", (size, size), _rgb(BACKGROUND))
    draw = ImageDraw.Draw(image)
    inset = 4 * scale
    draw.ellipse((inset, inset, size - inset, size - inset), fill=_rgb(ACCENT))
    return _png(image)


@lru_cache(maxsize=4)
def logo(scale: int) -> bytes:
    """logo.png (160 x 50 pt): the name on a transparent ground."""
    width, height = 160 * scale, 50 * scale
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=18 * scale)
    draw.text((2 * scale, height // 2), "Soca Passport", font=font, fill=FOREGROUND, anchor="lm")
    return _png(image)


@lru_cache(maxsize=512)
def strip(current: int, maximum: int, scale: int, colour: str | None = None) -> bytes:
    """strip.png (375 x 123 pt): one circle per stamp, filled for those collected."""
    width, height = 375 * scale, 123 * scale
    image = Image.new("RGB", (width, height), _rgb(BACKGROUND))
    draw = ImageDraw.Draw(image)
    count = max(1, min(maximum, 20))
    per_row = min(count, 10)
    rows = (count + per_row - 1) // per_row
    cell = min(width // (per_row + 1), height // (rows + 1))
    radius = int(cell * 0.38)
    fill = _rgb(colour if colour else ACCENT)
    left = (width - per_row * cell) // 2
    top = (height - rows * cell) // 2
    for index in range(count):
        row, column = divmod(index, per_row)
        cx = left + column * cell + cell // 2
        cy = top + row * cell + cell // 2
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if index < current:
            draw.ellipse(box, fill=fill)
        else:
            draw.ellipse(box, outline=_rgb(FOREGROUND), width=max(2, scale * 2))
    return _png(image)
