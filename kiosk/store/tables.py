"""The cache as a registry: every pulled table declared once, written and read by column name.

A `PulledTable` names its pull section (the `PullResponse` field, the SQLite
table and a deletion's `entity` all share the name), its wire row model, its
key, the row type its reads return, and any columns derived from a wire row
(search keys). Its columns are the wire model's fields, plus the derived ones,
plus `pulled_at_ack` (see `kiosk.store.outbox`). How each value is stored
follows from its annotation (`Kind`): UUIDs and times as text, booleans as
0/1, JSON objects as text. Writes build each row by column name from the
wire row; reads select the row type's fields by name and convert each the
same way back. `missing_columns` compares the declaration with the file, so
`Cache.open` adds a column the file lacks (and drops the cursor, so the next
pull fills it): a new pulled column is one edit, the field on the wire model
(and on the row type, to read it).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sqlite3
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel

from core.wire import (
    CardRow,
    EventRow,
    OfferRow,
    PassportRow,
    PurchaseRow,
    RevokedTokenRow,
    ScanRow,
    TicketRow,
)
from kiosk.store.codec import code_key, optional_time, optional_time_text, search_key
from kiosk.store.rows import (
    CachedCard,
    CachedEvent,
    CachedOffer,
    CachedPassport,
    CachedPurchase,
    CachedScan,
    CachedTicket,
)

R = TypeVar("R")


class Kind(enum.Enum):
    """How a value is stored in a cache column."""

    TEXT = enum.auto()
    INT = enum.auto()
    BOOL = enum.auto()  # 0/1
    UUID = enum.auto()  # text
    TIME = enum.auto()  # UTC text (`codec.time_text`)
    JSON = enum.auto()  # text

    @property
    def sql_type(self) -> str:
        """The column's declared SQLite type."""
        return "INTEGER" if self in (Kind.INT, Kind.BOOL) else "TEXT"


def kind_of(annotation: Any) -> Kind:
    """The storage kind of a field's type (Optional and Annotated are looked through)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return kind_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return kind_of(next(a for a in typing.get_args(annotation) if a is not type(None)))
    if origin is typing.Literal:
        return Kind.TEXT
    if origin is dict or annotation is dict:
        return Kind.JSON
    if not isinstance(annotation, type):
        return Kind.TEXT
    if issubclass(annotation, bool):
        return Kind.BOOL
    if issubclass(annotation, int):  # int and IntEnum (token kinds)
        return Kind.INT
    if issubclass(annotation, uuid.UUID):
        return Kind.UUID
    if annotation is AwareDatetime or issubclass(annotation, datetime):
        return Kind.TIME
    return Kind.TEXT


_TO_DB: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT: lambda value: value,
    Kind.INT: int,
    Kind.BOOL: int,
    Kind.UUID: str,
    Kind.TIME: optional_time_text,
    Kind.JSON: json.dumps,
}
_FROM_DB: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT: lambda value: value,
    Kind.INT: int,
    Kind.BOOL: bool,
    Kind.UUID: uuid.UUID,
    Kind.TIME: optional_time,
    Kind.JSON: json.loads,
}

ACK_COLUMN = "pulled_at_ack"


@dataclasses.dataclass(frozen=True)
class PulledTable(Generic[R]):
    """One pulled table: section/table name, wire model, key, row type, derived columns."""

    name: str
    wire: type[BaseModel]
    key: tuple[str, ...]
    row: type[R] | None = None
    derived: Mapping[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)
    acked: bool = True  # has `pulled_at_ack`
    #: How each column is written (from the wire model) and read (from the row type).
    kinds: dict[str, Kind] = dataclasses.field(init=False)
    read_kinds: dict[str, Kind] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        kinds = {name: kind_of(field.annotation) for name, field in self.wire.model_fields.items()}
        kinds.update(dict.fromkeys(self.derived, Kind.TEXT))
        if self.acked:
            kinds[ACK_COLUMN] = Kind.INT
        read_kinds = {}
        if self.row is not None:
            hints = typing.get_type_hints(self.row)
            read_kinds = {name: kind_of(hints[name]) for name in _field_names(self.row)}
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "read_kinds", read_kinds)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column a pull writes, in declaration order."""
        written = [*self.wire.model_fields, *self.derived]
        return (*written, ACK_COLUMN) if self.acked else tuple(written)

    def to_db(self, row: BaseModel, ack_mark: int) -> dict[str, Any]:
        """A wire row as the table's column values."""
        values = {
            name: None if (value := getattr(row, name)) is None else _TO_DB[self.kinds[name]](value)
            for name in self.wire.model_fields
        }
        values.update({name: derive(row) for name, derive in self.derived.items()})
        if self.acked:
            values[ACK_COLUMN] = ack_mark
        return values

    def select_list(self, alias: str = "") -> str:
        """The row type's fields as a SELECT list (each prefixed `alias.` when given)."""
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + name for name in self.read_kinds)

    def read(self, values: Sequence[Any]) -> R:
        """A row type from values selected by `select_list`, converted by column."""
        if self.row is None:
            raise TypeError(f"{self.name} has no row type to read")
        converted = {
            name: None if value is None else _FROM_DB[kind](value)
            for (name, kind), value in zip(self.read_kinds.items(), values, strict=True)
        }
        return self.row(**converted)

    def key_values(self, deletion_id: str) -> list[str]:
        """A deletion's id as the key's values (a card's is "offer_id:user_id")."""
        return deletion_id.split(":", len(self.key) - 1) if len(self.key) > 1 else [deletion_id]

    def missing_columns(self, conn: sqlite3.Connection) -> list[str]:
        """`ALTER TABLE` statements for declared columns the file's table lacks."""
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({self.name})")}
        return [
            f"ALTER TABLE {self.name} ADD COLUMN {name} {self._column_sql(name)}"
            for name in self.columns
            if name not in present
        ]

    def _column_sql(self, name: str) -> str:
        kind = self.kinds[name]
        if kind.sql_type == "INTEGER":
            field = self.wire.model_fields.get(name)
            default = field.default if field is not None else 0
            number = int(default) if isinstance(default, int) else 0
            return f"{kind.sql_type} NOT NULL DEFAULT {number}"
        return kind.sql_type


def _field_names(row: type[Any]) -> list[str]:
    return [field.name for field in dataclasses.fields(row)]


# ------------------------------------------------------------------ the declarations

EVENTS = PulledTable("events", EventRow, ("id",), CachedEvent)
TICKETS = PulledTable(
    "tickets",
    TicketRow,
    ("id",),
    CachedTicket,
    derived={
        "code_key": lambda row: code_key(row.code) if row.code else None,
        "search_key": lambda row: search_key(row.holder_name, row.handle, row.code),
    },
)
PASSPORTS = PulledTable("passports", PassportRow, ("user_id",), CachedPassport)
OFFERS = PulledTable("offers", OfferRow, ("id",), CachedOffer)
CARDS = PulledTable(
    "cards",
    CardRow,
    ("offer_id", "user_id"),
    CachedCard,
    derived={"search_key": lambda row: search_key(row.holder_name, row.handle, None)},
)
PURCHASES = PulledTable("purchases", PurchaseRow, ("id",), CachedPurchase)
SCANS = PulledTable("scans", ScanRow, ("id",), CachedScan)
REVOKED_TOKENS: PulledTable[Any] = PulledTable(
    "revoked_tokens", RevokedTokenRow, ("kind", "subject_id"), acked=False
)

#: Every pulled table, in the order a page is applied.
TABLES: tuple[PulledTable[Any], ...] = (
    EVENTS,
    TICKETS,
    PASSPORTS,
    OFFERS,
    CARDS,
    PURCHASES,
    SCANS,
    REVOKED_TOKENS,
)
BY_NAME: dict[str, PulledTable[Any]] = {table.name: table for table in TABLES}
