"""Set-based statements for hot paths (a sync batch), the same on SQLite and PostgreSQL.

The ORM's unit of work costs tens of microseconds per row, and an IN list or a
multi-row VALUES of a few thousand parameters makes a new SQL string that
psycopg parses again on every call. On PostgreSQL these helpers therefore send
one array parameter per column (`= ANY(:ids)`, `INSERT ... SELECT FROM unnest`,
`UPDATE ... FROM unnest`): a fixed SQL text with a handful of parameters, however
many rows. On SQLite they use plain IN lists and `executemany`, which the
driver runs in C.

Rows written here bypass the ORM, so the session's change-log hooks do not see
them: a caller writing a synced table notes its rows with
`server.db.changelog.touch`. Like every service, these only flush work into the
caller's transaction; they never commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

import psycopg
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Dialect,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    insert,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import ARRAY, TypeEngine

_PG: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def is_postgresql(session: Session) -> bool:
    """Whether the session's database is PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def member_of(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`, as one parameter on PostgreSQL whatever the number of values.

    UUIDs may be given as `uuid.UUID` or as text (the change log's ids are
    text): PostgreSQL receives them joined by commas and splits and casts them
    itself, and SQLite compares the 32 hex digits it stores, so no Python UUID
    is built for the thousands of ids of a pull page.
    """
    is_uuid = isinstance(column.type, Uuid)
    if is_postgresql(session):
        if is_uuid:
            joined = bindparam(None, ",".join(str(value) for value in values), type_=String())
            return column == any_(cast(func.string_to_array(joined, ","), ARRAY(Uuid())))  # type: ignore[no-any-return]
        array = ARRAY(_plain_type(column.type))
        return column == any_(bindparam(None, list(values), type_=array))  # type: ignore[no-any-return]
    if is_uuid:
        hex_digits = [_hex(value) for value in values]
        return type_coerce(column, String()).in_(hex_digits)
    return column.in_(list(values))  # type: ignore[no-any-return]


def _hex(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value.replace("-", "")


def slot_values(record: Any) -> dict[str, Any]:
    """A slotted dataclass's fields by name: a row for `insert_rows` built without the ORM."""
    return {name: getattr(record, name) for name in record.__slots__}


def insert_records(session: Session, model: type[Any], records: Sequence[Any]) -> None:
    """Insert slotted dataclass records, their fields named as the table's columns.

    On PostgreSQL the values go from the records straight into COPY, with no
    dict per row (a sync batch writes about 1,500 rows); records that leave a
    defaulted column out take `insert_rows`, which fills it.
    """
    if not records:
        return
    table: Table = model.__table__
    names = list(type(records[0]).__slots__)
    if not is_postgresql(session) or _defaults_missing(table, names):
        insert_rows(session, model, [slot_values(record) for record in records])
        return
    _copy_rows(session, table, names, map(attrgetter(*names), records))


def insert_rows(
    session: Session,
    model: type[Any],
    rows: Sequence[Mapping[str, Any]],
    *,
    upsert_on: Sequence[str] = (),
) -> None:
    """Insert `rows` (all with the same keys; Python-side column defaults fill the rest).

    With `upsert_on` (the columns of a unique index), a row whose key exists
    updates every other given column instead (`ON CONFLICT ... DO UPDATE`).
    """
    if not rows:
        return
    table: Table = model.__table__
    filled = _with_defaults(table, rows)
    names = list(filled[0])
    if not is_postgresql(session):
        statement = insert(table)
        if upsert_on:
            upsert = sqlite_insert(table)
            statement = upsert.on_conflict_do_update(
                index_elements=list(upsert_on),
                set_={name: upsert.excluded[name] for name in names if name not in upsert_on},
            )
        session.execute(statement, filled)
        return
    if not upsert_on:
        _copy_rows(session, table, names, ([row[name] for name in names] for row in filled))
        return
    arrays = ", ".join(f"%({name})b::{_pg_array_type(table.c[name])}" for name in names)
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in upsert_on)
    # Table and column names come from our own metadata, never from input.
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET {updates}"
    )
    session.connection().exec_driver_sql(sql, _columns(table, names, filled))


def _copy_rows(
    session: Session, table: Table, names: list[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL's binary COPY: the fastest way in, each row formatted in psycopg's C code.

    Binary, not text: a timestamp or UUID then goes as its few raw bytes, which
    costs both sides a fraction of writing and parsing its text (a timestamp's
    text alone took psycopg about 2 µs). JSON values go as Python objects and
    psycopg's jsonb dumper writes them.
    """
    connection = session.connection()
    raw: Any = connection.connection.driver_connection
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types([_copy_type(table.c[name]) for name in names])
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        # Translated as SQLAlchemy translates every other statement's errors, so callers
        # catch one family: IntegrityError (a concurrent batch wrote the same row),
        # DataError (a value the column cannot hold), and so on.
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc


def update_rows(
    session: Session, model: type[Any], key: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Set, for each row, the given columns of the table row whose `key` column matches."""
    if not rows:
        return
    table: Table = model.__table__
    names = [name for name in rows[0] if name != key]
    if not is_postgresql(session):
        statement = (
            update(table)
            .where(table.c[key] == bindparam(f"b_{key}"))
            .values({name: bindparam(f"b_{name}") for name in names})
        )
        session.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])
        return
    every = [key, *names]
    arrays = ", ".join(f"%({name})b::{_pg_array_type(table.c[name])}" for name in every)
    assignments = ", ".join(f"{name} = given.{name}" for name in names)
    sql = (
        f"UPDATE {table.name} SET {assignments} "  # noqa: S608 (names from our metadata)
        f"FROM unnest({arrays}) AS given({', '.join(every)}) "
        f"WHERE {table.name}.{key} = given.{key}"
    )
    session.connection().exec_driver_sql(sql, _columns(table, every, rows))


# ----------------------------------------------------------------------------- helpers


def _with_defaults(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows with every column that has a Python-side default and was not given."""
    defaults = _defaults_missing(table, rows[0])
    if not defaults:
        return list(rows)  # read, never changed: no copy
    filled: list[Mapping[str, Any]] = []
    for row in rows:
        full = dict(row)
        for column in defaults:
            default: Any = column.default
            full[column.name] = default.arg(None) if default.is_callable else default.arg
        filled.append(full)
    return filled


def _defaults_missing(table: Table, given: Iterable[str]) -> list[Column[Any]]:
    """The table's columns with a Python-side default that `given` leaves out."""
    names = set(given)
    defaulted = (column for column in table.columns if column.default is not None)
    return [column for column in defaulted if column.name not in names]


def _columns(
    table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """Column-wise lists of driver values (JSON as text; str enums go as they are)."""
    json_columns = _json_columns(table, names)
    found: dict[str, list[Any]] = {}
    for index, name in enumerate(names):
        values = [row[name] for row in rows]
        found[name] = [_json_text(value) for value in values] if index in json_columns else values
    return found


def _json_columns(table: Table, names: Sequence[str]) -> set[int]:
    return {
        index
        for index, name in enumerate(names)
        if isinstance(_plain_type(table.c[name].type), JSON)
    }


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _plain_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """The storage type behind a TypeDecorator or a dialect variant, as PostgreSQL sees it."""
    return type_.dialect_impl(_PG)


def _copy_type(column: Column[Any]) -> str:
    """The PostgreSQL type name psycopg needs to write a column's values in binary."""
    # "VARCHAR(40)" is written as "varchar", "JSONB" as "jsonb", "JSON" as "json".
    return _plain_type(column.type).compile(dialect=_PG).split("(", 1)[0].lower()


def _pg_array_type(column: Column[Any]) -> str:
    type_ = _plain_type(column.type)
    if isinstance(type_, JSON):
        return "jsonb[]"
    return f"{type_.compile(dialect=_PG)}[]"
