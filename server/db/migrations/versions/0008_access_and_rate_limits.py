"""access: token kinds, promoter suspension, shared rate-limit counters, case-free handles

- `api_tokens.kind` (API or WEB): a web session is never an API token and
  the reverse; rows labelled `web-session` become WEB.
- `promoters.suspended_at`: HQ's suspension, apart from the seed's status.
- `rate_limit_counters`: attempts per rule, key and window, shared by every
  server process.
- Unique indexes on lower(username), lower(email) and lower(handle). Rows
  that already differ only by case are resolved first: emails are stored in
  lower case, and of two accounts with the same email the older keeps it
  (the newer's email is cleared, so it signs in no more until HQ sets one;
  before this, a login by that email found either account at random); a
  newer duplicate username or handle gets a numbered suffix. Each change is
  logged with the row's id.

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-02 10:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0008"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

#: (table, column, width, order of age): the case-free unique columns.
_CASE_FREE = (
    ("users", "username", 50, "created_at, id"),
    ("passport_profiles", "handle", 50, "created_at, id"),
)


def _clear_duplicate_emails(connection: sa.Connection) -> None:
    rows = connection.execute(
        sa.text(
            "SELECT id, lower(email) FROM users WHERE email IS NOT NULL "
            "ORDER BY lower(email), created_at, id"
        )
    ).all()
    seen: set[str] = set()
    for user_id, email in rows:
        if email in seen:
            log.warning("user %s: email cleared, an older account has it in another case", user_id)
            connection.execute(
                sa.text("UPDATE users SET email = NULL WHERE id = :id"), {"id": user_id}
            )
        seen.add(email)
    connection.execute(sa.text("UPDATE users SET email = lower(email) WHERE email <> lower(email)"))


def _rename_duplicates(
    connection: sa.Connection, table: str, column: str, width: int, order: str
) -> None:
    # Table and column names are this module's constants, never input.
    rows = connection.execute(
        sa.text(f"SELECT id, {column} FROM {table} ORDER BY lower({column}), {order}")  # noqa: S608
    ).all()
    taken = {value.lower() for _id, value in rows}
    seen: set[str] = set()
    for row_id, value in rows:
        folded = value.lower()
        if folded not in seen:
            seen.add(folded)
            continue
        number = 2
        while True:
            suffix = f"_{number}"
            candidate = value[: width - len(suffix)] + suffix
            if candidate.lower() not in taken:
                break
            number += 1
        taken.add(candidate.lower())
        log.warning(
            "%s %s: %s %r renamed %r (another differs only by case)",
            table,
            row_id,
            column,
            value,
            candidate,
        )
        connection.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),  # noqa: S608
            {"value": candidate, "id": row_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default=sa.text("'API'"), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_api_tokens_kind_allowed"), "kind IN ('API', 'WEB')"
        )
    op.execute("UPDATE api_tokens SET kind = 'WEB' WHERE label = 'web-session'")

    with op.batch_alter_table("promoters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suspended_at", server.db.types.UTCDateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "rate_limit_counters",
        sa.Column("rule", sa.String(length=30), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "rule", "key_hash", "window_start", name=op.f("pk_rate_limit_counters")
        ),
    )
    op.create_index(
        op.f("ix_rate_limit_counters_expires_at"),
        "rate_limit_counters",
        ["expires_at"],
        unique=False,
    )

    connection = op.get_bind()
    _clear_duplicate_emails(connection)
    for table, column, width, order in _CASE_FREE:
        _rename_duplicates(connection, table, column, width, order)
    op.create_index("uq_users_lower_username", "users", [sa.text("lower(username)")], unique=True)
    op.create_index("uq_users_lower_email", "users", [sa.text("lower(email)")], unique=True)
    op.create_index(
        "uq_passport_profiles_lower_handle",
        "passport_profiles",
        [sa.text("lower(handle)")],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_passport_profiles_lower_handle", table_name="passport_profiles")
    op.drop_index("uq_users_lower_email", table_name="users")
    op.drop_index("uq_users_lower_username", table_name="users")
    op.drop_index(op.f("ix_rate_limit_counters_expires_at"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
    with op.batch_alter_table("promoters", schema=None) as batch_op:
        batch_op.drop_column("suspended_at")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_api_tokens_kind_allowed"), type_="check")
        batch_op.drop_column("kind")
