"""Declarative base, naming convention and shared column helpers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, MetaData, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every table; constraint names follow `NAMING_CONVENTION`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def uuid_pk() -> Mapped[uuid.UUID]:
    """A UUID primary key generated in Python (both engines)."""
    return mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)


def created_at() -> Mapped[datetime]:
    """`created_at` TIMESTAMP NOT NULL DEFAULT now()."""
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow, server_default=func.now())


def updated_at() -> Mapped[datetime]:
    """`updated_at` TIMESTAMP NOT NULL DEFAULT now(), refreshed on every update."""
    return mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def one_of(column: str, values: Iterable[str], name: str | None = None) -> CheckConstraint:
    """A check constraint that `column` holds one of the seed's allowed values."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name or f"{column}_allowed")
