"""Migrations: upgrade an empty database to head, no autogenerate drift, downgrade to base."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from server.db import migrate
from server.db.session import make_engine
from tests.conftest import postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    schema = f"soca_mig_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url())
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(postgres_url(), connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    _drop_schema(admin, schema)


def _drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_empty_database_upgrades_to_head_without_drift(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) is not None
    assert migrate.schema_diff(empty_engine) == []
    with empty_engine.connect() as connection:
        tiers = dict(connection.execute(text("SELECT name, min_points FROM passport_tiers")).all())
    assert tiers == {"BRONZE": 0, "SILVER": 300, "GOLD": 800, "ELITE": 1500}


def test_downgrade_to_base_removes_every_table(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert migrate.current_revision(empty_engine) is None
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}


def test_seed_column_names_exist(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    inspector = inspect(empty_engine)

    def columns(table: str) -> set[str]:
        return {column["name"] for column in inspector.get_columns(table)}

    assert {
        "is_soca_passport_enabled",
        "stamp_points_default",
        "country_code",
        "carnival_circuit",
    } <= columns("events")
    assert "passport_stamp_id" in columns("ticket_scans")
    assert {"handle", "total_points", "current_tier", "total_events", "total_countries"} <= columns(
        "passport_profiles"
    )
    assert "loyalty_tiers" in columns("offers")
    assert {"current_stamps", "rewards_claimed", "last_activity_at"} <= columns("loyalty_passes")
    assert {"django_bracelet_ids", "activated_at"} <= columns("package_purchases")
    assert "applied_at" in columns("reward_redemptions")
    assert {"fee_amount_cents", "billing_model"} <= columns("event_passport_billing")
    assert "metadata_json" in columns("passport_memberships")
