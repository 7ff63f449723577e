"""portal: placeholder accounts for tickets issued by email, event time zones, conflict notes

`users.placeholder` marks a passwordless account that holds tickets issued to
an email nobody has registered yet; `events.time_zone` is the venue's IANA
zone (times stay UTC); `conflict_resolutions` records HQ marking a sync
conflict resolved, with a note.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0009"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("placeholder", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
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


def downgrade() -> None:
    op.drop_table("conflict_resolutions")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("placeholder")
