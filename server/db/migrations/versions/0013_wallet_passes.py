"""wallet passes, registrations and the pass_updates outbox

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-02 16:27:57.478949
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = '0013'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('wallet_passes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('auth_salt', sa.String(length=32), nullable=False),
    sa.Column('auth_token_hash', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('updated_at', server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('google_object', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', server.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind IN ('card', 'passport', 'ticket')", name=op.f('ck_wallet_passes_kind_allowed')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wallet_passes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_passes')),
    sa.UniqueConstraint('kind', 'subject_id', name=op.f('uq_wallet_passes_kind_subject_id'))
    )
    with op.batch_alter_table('wallet_passes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_passes_user_id'), ['user_id'], unique=False)

    op.create_table('pass_updates',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('wallet_pass_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('notify', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', server.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['wallet_pass_id'], ['wallet_passes.id'], name=op.f('fk_pass_updates_wallet_pass_id_wallet_passes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pass_updates'))
    )
    with op.batch_alter_table('pass_updates', schema=None) as batch_op:
        batch_op.create_index('ix_pass_updates_due', ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pass_updates_wallet_pass_id'), ['wallet_pass_id'], unique=False)

    op.create_table('wallet_registrations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('device_library_id', sa.String(length=64), nullable=False),
    sa.Column('push_token', sa.String(length=200), nullable=False),
    sa.Column('wallet_pass_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', server.db.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['wallet_pass_id'], ['wallet_passes.id'], name=op.f('fk_wallet_registrations_wallet_pass_id_wallet_passes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_registrations')),
    sa.UniqueConstraint('device_library_id', 'wallet_pass_id', name=op.f('uq_wallet_registrations_device_library_id_wallet_pass_id'))
    )
    with op.batch_alter_table('wallet_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_registrations_wallet_pass_id'), ['wallet_pass_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('wallet_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_registrations_wallet_pass_id'))

    op.drop_table('wallet_registrations')
    with op.batch_alter_table('pass_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pass_updates_wallet_pass_id'))
        batch_op.drop_index('ix_pass_updates_due')

    op.drop_table('pass_updates')
    with op.batch_alter_table('wallet_passes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_passes_user_id'))

    op.drop_table('wallet_passes')

