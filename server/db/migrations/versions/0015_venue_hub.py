"""venue hub: the HUB device role, which hub a device syncs behind, relay marks

A HUB device (`soca-server hub`) is paired for an event or a promoter and
relays its venue's doors: `devices.hub_id` names the hub a device's ops last
came through, `devices.last_relay_at` when a hub last relayed, and at the
hub itself `sync_ops.relayed_at` marks the ops already forwarded upstream.

Revision ID: 0015
Revises: 0007
Create Date: 2026-12-02 16:30:00
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy.exc import SAWarning

import server.db.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITH_HUB = "role IN ('DOOR', 'BRANCH', 'PROMOTER', 'HUB')"
_WITHOUT_HUB = "role IN ('DOOR', 'BRANCH', 'PROMOTER')"


@contextmanager
def _table(name: str) -> Iterator[BatchOperations]:
    # SQLite's batch mode reflects the tables a key reaches (users among them); an
    # expression index there (lower(email)) cannot be reflected, and need not be.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        with op.batch_alter_table(name) as batch:
            yield batch


def _roles(check: str) -> None:
    for table in ("devices", "pairing_codes"):
        with _table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_role_allowed"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_role_allowed"), check)


def upgrade() -> None:
    _roles(_WITH_HUB)
    op.add_column("devices", sa.Column("hub_id", sa.Uuid(), nullable=True))
    op.add_column(
        "devices",
        sa.Column("last_relay_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "sync_ops",
        sa.Column("relayed_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_sync_ops_unrelayed",
        "sync_ops",
        ["received_at"],
        sqlite_where=sa.text("relayed_at IS NULL"),
        postgresql_where=sa.text("relayed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sync_ops_unrelayed", table_name="sync_ops")
    with _table("sync_ops") as batch:
        batch.drop_column("relayed_at")
    with _table("devices") as batch:
        batch.drop_column("last_relay_at")
        batch.drop_column("hub_id")
    op.execute("DELETE FROM pairing_codes WHERE role = 'HUB'")
    op.execute(
        "UPDATE pairing_codes SET device_id = NULL WHERE device_id IN "
        "(SELECT id FROM devices WHERE role = 'HUB')"
    )
    op.execute("DELETE FROM devices WHERE role = 'HUB'")
    _roles(_WITHOUT_HUB)
