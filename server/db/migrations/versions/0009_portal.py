"""portal: placeholder accounts for tickets issued by email, event time zones, conflict notes

`users.placeholder` marks a passwordless account that holds tickets issued to
an email nobody has registered yet; `events.time_zone` is the venue's IANA
zone (times stay UTC); `conflict_resolutions` records HQ marking a sync
conflict resolved, with a note.

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0009"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not batch mode: on SQLite a batch reflects and rebuilds `users`, which would lose the
    # lower(username) / lower(email) expression indexes of 0008. Both engines add a column
    # (and SQLite >= 3.35 drops one) in place.
    op.add_column(
        "users", sa.Column("placeholder", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("events", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.create_table(
        "conflict_resolutions",
        sa.Column("op_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("resolved_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "resolved_at",
            server.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["op_id"], ["sync_ops.op_id"], name=op.f("fk_conflict_resolutions_op_id_sync_ops")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_user_id"],
            ["users.id"],
            name=op.f("fk_conflict_resolutions_resolved_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_conflict_resolutions")),
    )


def _drop_column(table: str, column: str) -> None:
    # SQLite >= 3.35 drops a plain column in place; a batch would reflect (and rebuild) the
    # tables around it and lose 0008's expression indexes.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    op.drop_table("conflict_resolutions")
    _drop_column("events", "time_zone")
    _drop_column("users", "placeholder")
