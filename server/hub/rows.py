"""Whole table rows as JSON, both ways: how HQ hands a venue hub the rows of its scope.

A row is every column of its table, by column name; values are coded by the
column's Python type (UUID and time as text, bytes as base64, amounts as
decimal text), so the hub stores exactly what HQ holds.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, TypeDecorator
from sqlalchemy.orm import DeclarativeBase


def _python_type(column: ColumnElement[Any]) -> type | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # its own python_type is `object`
        kind = kind.impl_instance
    try:
        found: type = kind.python_type
    except NotImplementedError:  # JSON documents: stored as they are
        return None
    return found


def _encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


_DECODERS: dict[type, Callable[[Any], Any]] = {
    uuid.UUID: lambda text: uuid.UUID(str(text)),
    datetime: lambda text: datetime.fromisoformat(str(text)),
    date: lambda text: date.fromisoformat(str(text)),
    Decimal: lambda text: Decimal(str(text)),
    bytes: lambda text: base64.b64decode(str(text)),
}


def dump(row: DeclarativeBase, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every column of a model instance as JSON values (`leave_out`: columns sent as None)."""
    return {
        column.name: None if column.name in leave_out else _encode(getattr(row, column.key))
        for column in row.__table__.columns
    }


def load(model: type[DeclarativeBase], data: dict[str, Any]) -> dict[str, Any]:
    """A dumped row as the model's column keys and Python values (unknown names dropped)."""
    values: dict[str, Any] = {}
    for column in model.__table__.columns:
        if column.name not in data:
            continue
        raw = data[column.name]
        decoder = _DECODERS.get(_python_type(column) or object)
        values[column.key] = raw if raw is None or decoder is None else decoder(raw)
    return values
