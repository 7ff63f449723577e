"""purchases and integrations: pay at the door, bracelets by id, the bar's spend feed

`integration_credentials` are the bearer tokens a bar or bracelet system
uses for one event (stored SHA-256, revocable); `purchase_bracelets` maps a
purchase's bracelet ids to its wearer, so a spend can name a bracelet;
`package_purchases.paid_at` records when a pending purchase was paid;
`spend_transactions.currency` keeps the currency a spend came in; and
`reward_redemptions.spend_transaction_id` names the spend whose recording
created the redemption (a replayed spend answers with it again).

Revision ID: 0014
Revises: 0007
Create Date: 2026-12-02 16:40:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create_tables() -> None:
    op.create_table(
        "integration_credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default=sa.text("'EUR'"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            server.db.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("revoked_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_integration_credentials_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_integration_credentials_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_credentials")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_integration_credentials_token_hash")),
    )
    op.create_index(
        op.f("ix_integration_credentials_event_id"), "integration_credentials", ["event_id"]
    )
    op.create_table(
        "purchase_bracelets",
        sa.Column("bracelet_id", sa.String(length=120), nullable=False),
        sa.Column("purchase_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_purchase_bracelets_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["package_purchases.id"],
            name=op.f("fk_purchase_bracelets_purchase_id_package_purchases"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_purchase_bracelets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("bracelet_id", name=op.f("pk_purchase_bracelets")),
    )
    op.create_index(
        op.f("ix_purchase_bracelets_purchase_id"), "purchase_bracelets", ["purchase_id"]
    )


def _backfill_bracelets() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, event_id, user_id, django_bracelet_ids FROM package_purchases")
    ).all()
    table = sa.table(
        "purchase_bracelets",
        sa.column("bracelet_id", sa.String()),
        sa.column("purchase_id", sa.Uuid()),
        sa.column("event_id", sa.Uuid()),
        sa.column("user_id", sa.Uuid()),
    )
    seen: set[str] = set()
    values = []
    for purchase_id, event_id, user_id, raw in rows:
        ids = json.loads(raw) if isinstance(raw, str) else (raw or [])
        for bracelet in ids:
            if isinstance(bracelet, str) and bracelet not in seen and len(bracelet) <= 120:
                seen.add(bracelet)
                values.append(
                    {
                        "bracelet_id": bracelet,
                        "purchase_id": _uuid(purchase_id),
                        "event_id": _uuid(event_id),
                        "user_id": _uuid(user_id),
                    }
                )
    if values:
        op.bulk_insert(table, values)


def _uuid(value: object) -> object:
    import uuid

    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def upgrade() -> None:
    _create_tables()
    _backfill_bracelets()
    # Plain add_column on both engines (no batch, which would reflect and rebuild `users`).
    # `spend_transaction_id` is therefore a plain indexed column: SQLite cannot add a
    # foreign key in place; the service writes only ids of spends it has just stored.
    op.add_column(
        "package_purchases",
        sa.Column("paid_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("spend_transactions", sa.Column("currency", sa.String(length=3), nullable=True))
    op.add_column(
        "reward_redemptions",
        sa.Column("spend_transaction_id", sa.Uuid(), nullable=True),
    )
    op.create_index(
        op.f("ix_reward_redemptions_spend_transaction_id"),
        "reward_redemptions",
        ["spend_transaction_id"],
    )


def _drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    op.drop_index(op.f("ix_reward_redemptions_spend_transaction_id"), "reward_redemptions")
    _drop_column("reward_redemptions", "spend_transaction_id")
    _drop_column("spend_transactions", "currency")
    _drop_column("package_purchases", "paid_at")
    op.drop_index(op.f("ix_purchase_bracelets_purchase_id"), "purchase_bracelets")
    op.drop_table("purchase_bracelets")
    op.drop_index(op.f("ix_integration_credentials_event_id"), "integration_credentials")
    op.drop_table("integration_credentials")
