"""Typed form fields checked against their declared limits, with each problem in words.

A form handler reads its fields through one `FormCheck`: `values` keeps what
was typed (so the page can be shown again as it was) and `errors` maps each
field to what is wrong with it. Numbers are parsed by `core.limits`, so a
5,000-digit stock or an `inf` fee is a field error, never a 500.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, cast

from starlette.datastructures import FormData

from core import limits
from server.web.auth import field


class FormCheck:
    """The fields of one posted form, read and checked one by one."""

    def __init__(self, form: FormData) -> None:
        self.form = form
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    def _raw(self, name: str) -> str:
        raw = field(self.form, name)
        self.values[name] = raw
        return raw

    def text(self, name: str, limit: limits.Text, *, required: str | None = None) -> str | None:
        """The trimmed text, or None when blank (`required` is the message if it must be given)."""
        raw = self._raw(name)
        if not raw:
            if required is not None:
                self.errors[name] = required
            return None
        problem = limits.text_problem(raw, limit)
        if problem is not None:
            self.errors[name] = problem
            return None
        return raw

    def whole(self, name: str, limit: limits.Whole, *, required: bool = False) -> int | None:
        """The typed whole number within `limit`, or None when blank."""
        raw = self._raw(name)
        if not raw:
            if required:
                self.errors[name] = f"Type {limit.words()}."
            return None
        try:
            return limits.parse_whole(raw, limit)
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None

    def money(self, name: str, limit: limits.Money, *, required: bool = False) -> Decimal | None:
        """The typed amount within `limit`, or None when blank."""
        raw = self._raw(name)
        if not raw:
            if required:
                self.errors[name] = "Please fill it in."
            return None
        try:
            return limits.parse_money(raw, limit)
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None

    def json_object(self, name: str, limit: limits.Json) -> dict[str, Any] | None:
        """The typed JSON object within `limit` (depth checked before parsing), or None."""
        raw = self._raw(name) or "{}"
        problem = None
        if len(raw) > limit.max_bytes:
            problem = f"Keep it under {limit.max_bytes:,} characters."
        elif not limits.json_nesting_ok(raw.encode(errors="replace"), limit.max_depth):
            problem = f"Nest it at most {limit.max_depth} levels deep."
        else:
            try:
                value = json.loads(raw)
            except ValueError:
                problem = 'Type a JSON object, like {"free_drink": true}.'
            else:
                found = limits.json_problem(value, limit)
                if found is None:
                    return cast("dict[str, Any]", value)
                problem = f"This JSON {found}."
        self.errors[name] = problem
        return None

    def choice(self, name: str, default: str) -> str:
        """A select's value as sent (the service checks it), `default` when blank."""
        return self._raw(name) or default
