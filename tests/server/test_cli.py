"""`soca-server` commands as a person runs them: real processes, real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.tokens import TokenKind, verify_token
from server.db.session import make_engine
from server.domain import accounts
from tests.conftest import postgres_url


def run_cli(
    *args: str, env_url: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    if env_url:
        env["SOCA_DATABASE_URL"] = env_url
    return subprocess.run(
        [sys.executable, "-c", "from server.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        input=stdin,
        check=False,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        return
    schema = f"soca_cli_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url())
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # libpq reads the search path from the URL's options parameter.
    yield f"{postgres_url()}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_seed_demo_writes_the_contract_json_and_recompute_finds_no_drift(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "demo.json"
    seeded = run_cli("seed-demo", "--out", str(out), "--database-url", database_url)
    assert seeded.returncode == 0, seeded.stderr
    world = json.loads(out.read_text(encoding="utf-8"))
    assert {
        "admin_token",
        "events",
        "attendees",
        "offers",
        "branches",
        "packages",
        "purchases",
    } <= set(world)
    assert len({e["carnival_circuit"] for e in world["events"]}) >= 3
    attendee = world["attendees"][0]
    assert {"user_id", "handle", "passport_qr", "tickets"} <= set(attendee)
    ticket = attendee["tickets"][0]
    assert {"ticket_id", "event_id", "qr"} <= set(ticket)
    assert ticket["qr"].isdigit() and len(ticket["qr"]) == 250
    assert {"id", "max_stamps", "branch_id"} <= set(world["offers"][0])
    assert {"id", "user_id", "qr"} <= set(world["purchases"][0])
    assert world["integrations"][0]["token"].startswith("soca_int_")  # the demo bar's credential
    assert set(world["hq"]) == {"email", "password"}
    assert attendee["email"].endswith("@fans.socapassport.example")

    checked = run_cli("recompute", env_url=database_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no drift" in checked.stdout

    expired = run_cli("expire-passes", "--database-url", database_url)
    assert expired.returncode == 0 and "0 expired" in expired.stdout


def test_tokens_in_demo_json_verify_with_the_database_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    out = tmp_path / "demo.json"
    assert run_cli("seed-demo", "--out", str(out), "--database-url", url).returncode == 0
    world = json.loads(out.read_text(encoding="utf-8"))
    engine = make_engine(url)
    with engine.connect() as connection:
        public = dict(connection.execute(text("SELECT key_id, public_key FROM signing_keys")).all())
    engine.dispose()
    assert verify_token(world["attendees"][0]["passport_qr"], public, TokenKind.PASSPORT).ok
    assert verify_token(world["purchases"][0]["qr"], public, TokenKind.PURCHASE).ok


def test_create_admin_reads_the_password_from_stdin_and_resets_it_when_run_again(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    made = run_cli("create-admin", "--email", "HQ@Soca.example", env_url=url, stdin="first-pass\n")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "HQ account hq@soca.example: created; log in at /login"
    again = run_cli("create-admin", "--email", "hq@soca.example", env_url=url, stdin="second-pass")
    assert again.returncode == 0 and "password reset" in again.stdout
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT role, password_hash FROM users")).all()
    engine.dispose()
    assert [role for role, _hash in rows] == ["HQ"]
    assert accounts.password_matches(rows[0][1], "second-pass")


def test_migrate_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    assert run_cli("migrate", "--database-url", url).returncode == 0
    again = run_cli("migrate", "--database-url", url)
    assert again.returncode == 0 and "revision" in again.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "not a valid URL"),
        ("mysql://root@localhost/db", "use postgresql://"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot use the database"),
    ],
)
def test_bad_database_url_gives_one_clear_line(url: str, expected: str) -> None:
    result = run_cli("migrate", "--database-url", url)
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_seed_demo_into_a_directory_is_refused(tmp_path: Path) -> None:
    result = run_cli(
        "seed-demo", "--out", str(tmp_path), "--database-url", f"sqlite:///{tmp_path / 'x.sqlite3'}"
    )
    assert result.returncode == 1 and "is a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_recompute_reports_drift_with_exit_status_3(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'drift.sqlite3'}"
    assert (
        run_cli("seed-demo", "--out", str(tmp_path / "d.json"), "--database-url", url).returncode
        == 0
    )
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE passport_profiles SET total_points = total_points + 7"))
    engine.dispose()
    found = run_cli("recompute", "--database-url", url)
    assert found.returncode == 3 and "drift: passport_profiles" in found.stdout
    fixed = run_cli("recompute", "--fix", "--database-url", url)
    assert fixed.returncode == 0 and "fixed" in fixed.stdout
    assert "no drift" in run_cli("recompute", "--database-url", url).stdout


def test_serve_with_two_workers_answers_from_both_processes(tmp_path: Path) -> None:
    """`serve --workers 2` migrates once, then each worker builds the app from the environment."""
    import httpx

    from server.devtools import ServerProcess

    server = ServerProcess(f"sqlite:///{tmp_path / 'two.sqlite3'}", workers=2)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            answers = [client.get("/health").status_code for _ in range(20)]
            landing = client.get("/api/passport/landing-info")
        assert answers == [200] * 20
        assert landing.status_code == 200
    finally:
        server.stop()
    assert server.process is not None and server.process.returncode is not None


def test_killing_a_multi_worker_server_stops_every_worker(tmp_path: Path) -> None:
    """Each worker holds its own listening socket: a kill must reach all of them."""
    import httpx

    from server.devtools import ServerProcess

    server = ServerProcess(f"sqlite:///{tmp_path / 'killed.sqlite3'}", workers=2)
    server.start()
    clients = [httpx.Client(base_url=server.base_url, timeout=5) for _ in range(8)]
    try:
        # Separate connections: the kernel spreads them over the workers' sockets.
        assert [client.get("/health").status_code for client in clients] == [200] * 8
        server.kill()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.base_url}/health", timeout=2)
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_a_worker_app_tunes_its_process_collector(tmp_path: Path) -> None:
    """What a worker process builds: the app, then the collector frozen and set for pushes."""
    script = (
        "import gc, json\n"
        "from server.serving import worker_app\n"
        "before = gc.get_threshold()\n"
        "app = worker_app()\n"
        "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count(), type(app).__name__]))"
    )
    env = {**os.environ, "SOCA_DATABASE_URL": f"sqlite:///{tmp_path / 'gc.sqlite3'}"}
    env["SOCA_SECRET_KEY"] = "a test secret"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    before, after, frozen, app_type = json.loads(done.stdout)
    from server.serving import GC_THRESHOLDS

    assert before == [700, 10, 10]
    assert after == list(GC_THRESHOLDS)
    assert frozen > 10_000  # modules, routes and schemas: out of every later collection
    assert app_type == "SocaApp"  # FastAPI with the security headers outermost
