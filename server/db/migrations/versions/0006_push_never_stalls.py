"""push never stalls: BIGINT passport totals; online decisions in the op log

`passport_profiles.total_points` becomes BIGINT: a stamp of an event holding
2,147,483,637 points overflowed the INTEGER column and poisoned every later
push touching that passport (the total also saturates, see core.passport).

`sync_ops` also records decisions made online through the API (a prize
confirmed by a branch manager), so they are ordered and re-decided with the
offline ops of the same card: `device_id` may be empty and `user_id` names
the person who made it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("passport_profiles", schema=None) as batch_op:
        batch_op.alter_column(
            "total_points",
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
            existing_server_default=sa.text("0"),
        )
    with op.batch_alter_table("sync_ops", schema=None) as batch_op:
        batch_op.alter_column("device_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column("user_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sync_ops_user_id_users"), "users", ["user_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_ops", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sync_ops_user_id_users"), type_="foreignkey")
        batch_op.drop_column("user_id")
    # Online decisions have no device: they cannot stay in a log that requires one.
    op.execute("DELETE FROM sync_ops WHERE device_id IS NULL")
    with op.batch_alter_table("sync_ops", schema=None) as batch_op:
        batch_op.alter_column("device_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("passport_profiles", schema=None) as batch_op:
        batch_op.alter_column(
            "total_points",
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
            existing_server_default=sa.text("0"),
        )
