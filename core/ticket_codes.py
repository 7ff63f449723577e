"""The short ticket code printed under a ticket's QR (e.g. `K7Q2-MX9D`): its alphabet and shape.

A door person types it, or a keyboard-wedge scanner reads it from a printed
ticket; either way it may arrive in lower case, with or without the dash, with
spaces. `ticket_code_key` reduces any of these to the stored form's letters
(upper case, no dash) or says it is not a ticket code at all.
"""

from __future__ import annotations

import secrets

#: No 0/O or 1/I to misread at a dark gate.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8
_LETTERS = frozenset(ALPHABET)


def new_ticket_code() -> str:
    """A fresh random code, e.g. 'K7Q2-MX9D'."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def ticket_code_key(text: str) -> str | None:
    """`'un49-y3nq'` → `'UN49Y3NQ'`; None when `text` is no ticket code in any case or spacing."""
    if len(text) > 2 * LENGTH:
        return None
    key = "".join(char for char in text.upper() if char not in " -\t\r\n")
    if len(key) != LENGTH or not set(key) <= _LETTERS:
        return None
    return key
