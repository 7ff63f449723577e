"""seed the default passport tiers (BRONZE 0, SILVER 300, GOLD 800, ELITE 1500)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:20:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The seed's example thresholds; perks are ours (HQ edits them).
DEFAULT_TIERS = [
    ("BRONZE", 0, {}),
    ("SILVER", 300, {"discount_percent": 5}),
    ("GOLD", 800, {"vip_line": True, "discount_percent": 10, "reward_valid_days": 365}),
    (
        "ELITE",
        1500,
        {
            "vip_line": True,
            "discount_percent": 15,
            "free_drink": True,
            "early_access": True,
            "reward_valid_days": 365,
        },
    ),
]

tiers = sa.table(
    "passport_tiers",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("min_points", sa.Integer()),
    sa.column("perks_json", sa.JSON()),
)


def upgrade() -> None:
    op.bulk_insert(
        tiers,
        [
            {"id": uuid.uuid4(), "name": name, "min_points": points, "perks_json": perks}
            for name, points, perks in DEFAULT_TIERS
        ],
    )


def downgrade() -> None:
    op.execute(
        tiers.delete().where(tiers.c.name.in_([name for name, _points, _perks in DEFAULT_TIERS]))
    )
