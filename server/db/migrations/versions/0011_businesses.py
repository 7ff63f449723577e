"""businesses, branch ownership, pass expiries and job runs

Businesses (seed 002's stamp-card sellers) own branches; a branch made
before them keeps its promoter. `pass_expiries` records each pass the
inactivity job expired (the card's history); `job_runs` claims one slot of
a schedule for one server process.

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-02 12:54:19
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = '0011'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('slot', server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', server.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'slot', name=op.f('uq_job_runs_job_slot'))
    )
    op.create_table('businesses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('country_code', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'PENDING'"), nullable=False),
    sa.Column('created_at', server.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', server.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("status IN ('PENDING', 'APPROVED', 'REJECTED')", name=op.f('ck_businesses_status_allowed')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_businesses_owner_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_businesses'))
    )
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_businesses_owner_user_id'), ['owner_user_id'], unique=False)

    op.create_table('pass_expiries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('pass_id', sa.Uuid(), nullable=False),
    sa.Column('expired_at', server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('inactivity_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['pass_id'], ['loyalty_passes.id'], name=op.f('fk_pass_expiries_pass_id_loyalty_passes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pass_expiries'))
    )
    with op.batch_alter_table('pass_expiries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pass_expiries_pass_id'), ['pass_id'], unique=False)

    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_branches_business_id'), ['business_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_branches_business_id_businesses'), 'businesses', ['business_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_branches_business_id_businesses'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_branches_business_id'))
        batch_op.drop_column('business_id')

    with op.batch_alter_table('pass_expiries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pass_expiries_pass_id'))

    op.drop_table('pass_expiries')
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_businesses_owner_user_id'))

    op.drop_table('businesses')
    op.drop_table('job_runs')
