"""How values are written to the kiosk files: UTC times as fixed-width ISO text, search keys."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from core.clock import require_aware


def time_text(moment: datetime) -> str:
    """An aware datetime as sortable text: UTC, microseconds, `+00:00`."""
    return require_aware(moment).astimezone(UTC).isoformat(timespec="microseconds")


def optional_time_text(moment: datetime | None) -> str | None:
    """`time_text`, passing None through."""
    return None if moment is None else time_text(moment)


def parse_time(text: str) -> datetime:
    """Text written by `time_text` back to an aware datetime."""
    return datetime.fromisoformat(text)


def optional_time(text: str | None) -> datetime | None:
    """`parse_time`, passing None through."""
    return None if text is None else parse_time(text)


def fold(text: str) -> str:
    """Lower case without accents, for matching what people type: 'Zoë' -> 'zoe'."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def code_key(code: str) -> str:
    """A ticket code as typed or printed, reduced to upper-case letters and digits."""
    return "".join(char for char in code.upper() if char.isascii() and char.isalnum())


def search_key(name: str | None, handle: str | None, code: str | None) -> str:
    """The folded text a ticket is found by: name, handle and code, space-separated and padded."""
    words = [fold(name or ""), fold(handle or "").lstrip("@"), code_key(code or "").lower()]
    return " " + " ".join(word for word in words if word) + " "
