"""change log scope indexes: partial, and ordered by change number within a scope

Every change-log write touches fewer indexes (a row has one or two scope
columns set; the NULL ones are no longer indexed), and a pull can walk one
scope's changes in change order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCOPES = ("event_id", "branch_id", "promoter_id", "user_id")


def upgrade() -> None:
    for column in _SCOPES:
        op.drop_index(f"ix_sync_changes_{column}", table_name="sync_changes")
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_sync_changes_{column}",
            "sync_changes",
            [column, "change_no"],
            postgresql_where=present,
            sqlite_where=present,
        )


def downgrade() -> None:
    for column in _SCOPES:
        op.drop_index(f"ix_sync_changes_{column}", table_name="sync_changes")
        op.create_index(f"ix_sync_changes_{column}", "sync_changes", [column])
