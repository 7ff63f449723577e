"""declared limits: a bill's currency is an ISO 4217 code, three letters

`core.limits.CURRENCY` declares it, and the fee form and `billing.set_fee`
already accept exactly three letters, so no stored value is longer.

Revision ID: 0007
Revises: 0009
Create Date: 2026-11-24 13:20:00
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy.exc import SAWarning

revision: str = "0007"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@contextmanager
def _billing_table() -> Iterator[BatchOperations]:
    # SQLite's batch mode reflects the table and those its keys reach (users among them);
    # an expression index there (lower(email)) cannot be reflected, and need not be.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        with op.batch_alter_table("event_passport_billing") as batch:
            yield batch


def upgrade() -> None:
    with _billing_table() as batch:
        batch.alter_column(
            "currency",
            existing_type=sa.String(length=4),
            type_=sa.String(length=3),
            existing_nullable=False,
            existing_server_default=sa.text("'USD'"),
        )


def downgrade() -> None:
    with _billing_table() as batch:
        batch.alter_column(
            "currency",
            existing_type=sa.String(length=3),
            type_=sa.String(length=4),
            existing_nullable=False,
            existing_server_default=sa.text("'USD'"),
        )
