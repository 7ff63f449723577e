"""Migration 0008 on a database with history: web sessions become WEB tokens, and accounts that
differ only by case are resolved before the case-free unique indexes are built."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, String, Uuid, column, insert, select, table, text

from server.db import migrate
from server.db.session import make_engine
from server.db.types import UTCDateTime
from tests.conftest import postgres_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)
#: The tables as revision 0005 has them (the columns these rows need).
USERS = table(
    "users",
    column("id", Uuid()),
    column("username", String()),
    column("email", String()),
    column("display_name", String()),
    column("role", String()),
    column("created_at", UTCDateTime()),
)
PROFILES = table(
    "passport_profiles",
    column("id", Uuid()),
    column("user_id", Uuid()),
    column("handle", String()),
    column("created_at", UTCDateTime()),
    column("updated_at", UTCDateTime()),
)
TOKENS = table(
    "api_tokens",
    column("id", Uuid()),
    column("user_id", Uuid()),
    column("token_hash", String()),
    column("label", String()),
    column("created_at", UTCDateTime()),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0005(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        migrate.upgrade(engine, "0005")
        yield engine
        engine.dispose()
        return
    schema = f"soca_m8_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url())
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(postgres_url(), connect_args={"options": f"-csearch_path={schema}"})
    migrate.upgrade(engine, "0005")
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _user(connection: Connection, username: str, email: str | None, minutes: int) -> uuid.UUID:
    user_id = uuid.uuid4()
    at = T0 + timedelta(minutes=minutes)
    connection.execute(
        insert(USERS).values(
            id=user_id,
            username=username,
            email=email,
            display_name="X",
            role="ATTENDEE",
            created_at=at,
        )
    )
    return user_id


def test_duplicates_by_case_are_resolved_and_sessions_keep_their_kind(
    engine_at_0005: Engine,
) -> None:
    with engine_at_0005.begin() as connection:
        first = _user(connection, "KES_FAN", "Kes@Example.com", 0)
        second = _user(connection, "kes_fan", "kes@example.com", 5)
        third = _user(connection, "Kes_Fan", None, 9)
        taken = _user(connection, "kes_fan_2", "other@example.com", 1)
        for minutes, (user, handle) in enumerate(((first, "road"), (second, "ROAD"))):
            at = T0 + timedelta(minutes=minutes)
            connection.execute(
                insert(PROFILES).values(
                    id=uuid.uuid4(), user_id=user, handle=handle, created_at=at, updated_at=at
                )
            )
        for label in ("web-session", "login"):
            connection.execute(
                insert(TOKENS).values(
                    id=uuid.uuid4(),
                    user_id=first,
                    token_hash=uuid.uuid4().hex,
                    label=label,
                    created_at=T0,
                )
            )
    migrate.upgrade(engine_at_0005)
    with engine_at_0005.connect() as connection:
        rows = connection.execute(select(USERS.c.id, USERS.c.username, USERS.c.email)).all()
        users = {user_id: (name, email) for user_id, name, email in rows}
        handles = sorted(connection.execute(text("SELECT handle FROM passport_profiles")).scalars())
        kinds = dict(connection.execute(text("SELECT label, kind FROM api_tokens")).all())
    assert users[first] == ("KES_FAN", "kes@example.com")  # the oldest keeps both
    assert users[second] == ("kes_fan_3", None)  # kes_fan_2 was taken; the email went
    assert users[third] == ("Kes_Fan_4", None)
    assert users[taken] == ("kes_fan_2", "other@example.com")
    assert handles == ["ROAD_2", "road"]
    assert kinds == {"web-session": "WEB", "login": "API"}
    assert migrate.schema_diff(engine_at_0005) == []
    migrate.downgrade(engine_at_0005, "0005")
    migrate.upgrade(engine_at_0005)
