"""What the portal's forms share: reading typed values, confirming irreversible actions, and
telling the person what a change did (a one-shot "flash" message on the next page).

A flash is a short cookie set on the redirect that answers a successful form
and shown (then cleared) by the next rendered page, so a reload never repeats
the form and the message is seen once. A confirmation is a page of its own
(`GET` of the action's path) whose button posts the action: it works without
JavaScript and keeps the action's CSRF check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Final
from urllib.parse import quote

from fastapi import Request, Response
from starlette.datastructures import FormData

from core import limits
from server.web.auth import field
from server.web.render import FLASH_COOKIE, FLASH_MAX, redirect, render

#: `<input type="datetime-local">` sends minutes, sometimes seconds.
_LOCAL_FORMATS: Final = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class BadField(Exception):
    """A typed value that cannot be read; `name` is the form field, `message` says why."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


# ------------------------------------------------------------------------------ flash


def done(url: str, message: str) -> Response:
    """See other `url`, which will show `message` once."""
    response = redirect(url)
    response.set_cookie(
        FLASH_COOKIE,
        quote(message[:FLASH_MAX]),
        max_age=120,
        httponly=True,
        samesite="lax",
        path="/",
    )
    return response


# ----------------------------------------------------------------------- confirmation


def confirm(
    request: Request,
    *,
    title: str,
    lines: list[str],
    action: str,
    button: str,
    back: str,
    fields: Mapping[str, str] | None = None,
) -> Response:
    """A page asking "are you sure?": `lines` say what will happen; the button posts `action`."""
    context = {
        "title": title,
        "lines": lines,
        "action": action,
        "button": button,
        "back": back,
        "fields": dict(fields or {}),
    }
    return render(request, "confirm.html", context)


# ------------------------------------------------------------------------ typed values


def text(form: FormData, name: str, limit: limits.Text) -> str:
    """A text field within its limit (BadField otherwise); '' when left empty."""
    value = field(form, name)
    if not value:
        if limit.min_length:
            raise BadField(name, "Please fill this in.")
        return ""
    problem = limits.text_problem(value, limit)
    if problem is not None:
        raise BadField(name, problem)
    return value


def money(form: FormData, name: str, limit: limits.Money, *, required: bool) -> Decimal | None:
    """An amount like 25 or 25.00 within `limit`; None when optional and empty."""
    raw = field(form, name)
    if not raw:
        if required:
            raise BadField(name, "Please fill this in.")
        return None
    try:
        return limits.parse_money(raw, limit)
    except ValueError as exc:
        raise BadField(name, str(exc)) from None


def whole(form: FormData, name: str, limit: limits.Whole, *, required: bool = False) -> int | None:
    """A whole number within `limit`; None when optional and empty."""
    raw = field(form, name)
    if not raw:
        if required:
            raise BadField(name, "Please fill this in.")
        return None
    try:
        return limits.parse_whole(raw, limit)
    except ValueError as exc:
        raise BadField(name, str(exc)) from None


def local_datetime(form: FormData, name: str, *, required: bool = False) -> datetime | None:
    """A `datetime-local` value (a wall-clock time, naive); None when optional and empty."""
    raw = field(form, name)
    if not raw:
        if required:
            raise BadField(name, "Please pick a date and time.")
        return None
    for pattern in _LOCAL_FORMATS:
        try:
            parsed = datetime.strptime(raw, pattern)  # a wall-clock time: naive on purpose
        except ValueError:
            continue
        if not 2000 <= parsed.year <= 2100:
            break
        return parsed
    raise BadField(name, "Pick a date and time (like 2026-02-14 21:00).")


def as_local_input(moment: datetime | None) -> str:
    """A datetime as a `datetime-local` input's value ('' for None)."""
    return moment.strftime("%Y-%m-%dT%H:%M") if moment is not None else ""
