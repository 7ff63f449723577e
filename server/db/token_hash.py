"""A token's stored form, its SHA-256 in hex: in Python, and in SQL on both databases.

Tokens are stored and looked up by this hash (`accounts.hash_token`, the
wallet's pass tokens), and the QR drawings kept at issue are keyed by it. A
statement that reads a token column with its kept drawing computes the hash
in the database (`token_sha256`): PostgreSQL with its own `sha256()`, SQLite
with `stored_form` itself, which `make_engine` registers on every SQLite
connection it opens (`install_on_sqlite`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

#: The name a SQLite connection knows the hash by.
SQLITE_FUNCTION: Final = "soca_token_sha256"


def stored_form(token: str) -> str:
    """A token's stored form: the SHA-256 of its UTF-8 bytes, in lower-case hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _stored_form_or_null(token: str | None) -> str | None:
    return None if token is None else stored_form(token)


def install_on_sqlite(dbapi_connection: Any) -> None:
    """Teach a SQLite connection the hash, as `soca_token_sha256(text)`."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, _stored_form_or_null, deterministic=True)


class token_sha256(FunctionElement[str]):  # noqa: N801 (a SQL function, named as one)
    """SQL: the stored form of a token expression, computed by the database."""

    type = String()
    inherit_cache = True


@compiles(token_sha256, "postgresql")
def _on_postgresql(element: token_sha256, compiler: SQLCompiler, **kw: Any) -> str:
    token = compiler.process(element.clauses, **kw)
    return f"encode(sha256(convert_to({token}, 'UTF8')), 'hex')"


@compiles(token_sha256)
def _on_sqlite(element: token_sha256, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"
