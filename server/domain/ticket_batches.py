"""Tickets issued from a CSV of buyers: one ticket per row, each row on its own.

The file is `email[,holder name]` per line, with or without a header row (a
header names its columns: `email` and one of `name`, `holder_name`,
`holder`; other columns are ignored). Blank lines are skipped. Each row is
issued in its own savepoint, so a bad row is reported and the others still
get their tickets; the report has one line per row, in file order.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from core import limits
from server.db.models import Ticket
from server.domain import tickets
from server.errors import InvalidInput, SocaError

_NAME_HEADERS: Final = ("holder_name", "holder name", "name", "holder")


@dataclass(frozen=True)
class Row:
    """One buyer as the file gives it, with its line number."""

    line: int
    email: str
    holder_name: str


@dataclass(frozen=True)
class RowResult:
    """What became of one row: its ticket, or why there is none."""

    row: Row
    ticket: Ticket | None
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the row got its ticket."""
        return self.ticket is not None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                yield reader.line_num, [cell.strip() for cell in record]
    except csv.Error as exc:
        raise InvalidInput(f"Line {reader.line_num} of the file is not valid CSV: {exc}.") from None


def parse(text: str) -> list[Row]:
    """The buyers in a CSV text (InvalidInput for a file that cannot be read as one)."""
    records = list(_records(text.lstrip("\ufeff")))
    if not records:
        raise InvalidInput("The file has no rows; put one buyer per line: email,name.")
    email_at, name_at = 0, 1
    header = [cell.lower() for cell in records[0][1]]
    if "email" in header:
        email_at = header.index("email")
        name_at = next((header.index(h) for h in _NAME_HEADERS if h in header), -1)
        records = records[1:]
    most = limits.TICKET_IMPORT_ROWS.maximum
    if len(records) > most:
        raise InvalidInput(f"The file has {len(records)} rows; upload at most {most} at a time.")
    return [
        Row(
            line,
            cells[email_at] if email_at < len(cells) else "",
            cells[name_at] if 0 <= name_at < len(cells) else "",
        )
        for line, cells in records
    ]


def issue_all(session: Session, *, event_id: uuid.UUID, rows: list[Row]) -> list[RowResult]:
    """Issue a ticket per row, each in its own savepoint; a refused row does not stop the rest."""
    results = []
    for row in rows:
        try:
            with session.begin_nested():
                ticket = tickets.issue_to_email(
                    session, event_id=event_id, email=row.email, holder_name=row.holder_name
                )
        except SocaError as exc:
            results.append(RowResult(row, None, _message(exc)))
            continue
        results.append(RowResult(row, ticket, None))
    return results


def _message(exc: SocaError) -> str:
    fields = getattr(exc, "fields", None)
    if isinstance(fields, dict) and fields:
        return " ".join(str(problem) for problem in fields.values())
    return exc.message
