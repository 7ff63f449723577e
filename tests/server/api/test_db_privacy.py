"""What the database layer leaves behind: log lines without bound values or quoted rows, SQL
echo without parameters, and SQLite files only their owner can read."""

from __future__ import annotations

import logging
import stat
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from server.api.auth import public
from server.api.deps import DbSession
from server.db.session import make_engine
from server.settings import persisted_secret_key
from tests.server.api.conftest import TestClient

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0LXNhbHQ$c2VjcmV0LWhhc2gtb2YtYS1wYXNzd29yZA"
EMAIL = "private.person@example.com"


def test_a_failing_statements_log_line_holds_no_parameter(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(session: DbSession) -> None:
        session.execute(
            text(
                "INSERT INTO users (id, username, display_name, role, email, password_hash) "
                "VALUES (:id, NULL, :name, 'ATTENDEE', :email, :hash)"
            ),
            {"id": uuid.uuid4().hex, "name": "Private Person", "email": EMAIL, "hash": HASH},
        )

    app.add_api_route("/api/v1/failing", failing, methods=["POST"], dependencies=[public()])
    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="server.api"):
        response = client.post("/api/v1/failing")
    assert response.status_code == 503
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "server.api")
    assert "database error on POST /api/v1/failing" in logged
    assert "NOT NULL" in logged.upper() or "NotNullViolation" in logged  # what failed
    assert "INSERT INTO users" in logged  # and where
    for secret in (EMAIL, HASH, "Private Person", "c2VjcmV0"):
        assert secret not in logged
        assert secret not in response.text
    assert all(record.exc_info is None for record in caplog.records)  # no raw message either


def test_sql_echo_shows_no_parameters(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'echo.sqlite3'}", echo=True)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), engine.connect() as c:
            c.execute(text("SELECT :email"), {"email": EMAIL})
    finally:
        engine.dispose()
    assert "SELECT" in caplog.text
    assert EMAIL not in caplog.text
    assert "hidden" in caplog.text


def test_a_new_sqlite_database_and_its_secret_are_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "soca.sqlite3"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # WAL: the -wal and -shm files appear too
            connection.execute(text("CREATE TABLE t (x TEXT)"))
            connection.execute(text("INSERT INTO t VALUES ('x')"))
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
    finally:
        engine.dispose()
    assert modes == dict.fromkeys(modes, 0o600)
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    key = persisted_secret_key(url)
    keyfile = database.with_name("soca.sqlite3.secret")
    assert keyfile.read_text().strip() == key
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert persisted_secret_key(url) == key  # read back, not replaced
