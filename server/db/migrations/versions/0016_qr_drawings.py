"""qr drawings: each carried token's QR as SVG, drawn once when the token is issued

At the end of a fête every attendee's /passport used to draw its codes again
in each server process that served it first (about a millisecond each).
Tokens issued before this revision have no row; they are drawn on view as
before (`server.domain.qr_codes`).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qr_drawings",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("svg", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            server.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_qr_drawings")),
    )


def downgrade() -> None:
    op.drop_table("qr_drawings")
