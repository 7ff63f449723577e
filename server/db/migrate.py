"""Run Alembic programmatically: upgrade, downgrade, and compare models with the database."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.exc import SAWarning

from server.db.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at our migrations folder (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _run(engine: Engine, action: str, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to `revision`."""
    _run(engine, "downgrade", revision)


def schema_diff(engine: Engine) -> list[Any]:
    """What autogenerate would change: empty when migrations and models agree.

    SQLite cannot reflect expression indexes (`lower(email)`), so they are
    compared on PostgreSQL only; the warnings about skipping them on SQLite
    are expected.
    """
    with warnings.catch_warnings(), engine.connect() as connection:
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, Base.metadata))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
