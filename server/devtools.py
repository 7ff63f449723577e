"""Helpers for benchmarks and end-to-end tests (never used by the running server).

`scratch_database` gives a throw-away SQLite file or PostgreSQL schema;
`build_world` writes an event with its tickets, holders' passports and door
devices straight into the database (only what is being measured goes through
HTTP); `serve` runs `soca-server serve` as a real process on a free port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert, text

from core.tokens import TokenKind, issue_token
from server.db import migrate
from server.db.changelog import touch
from server.db.models import Device, Event, PassportProfile, Ticket, User
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.domain import accounts, keys


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scratch_database(kind: str, postgres_url: str, folder: Path) -> Iterator[tuple[str, Engine]]:
    """A migrated-on-demand empty database: (URL for the server process, engine for setup)."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'scratch.sqlite3'}"
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()
        return
    schema = f"soca_scratch_{uuid.uuid4().hex[:8]}"
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}", engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass(frozen=True)
class World:
    """An event, its tickets (rows as dicts, with `qr_token`), and door-device tokens."""

    event_id: uuid.UUID
    tickets: list[dict[str, Any]]
    tokens: list[str]
    device_ids: list[uuid.UUID]


def build_world(engine: Engine, tickets: int, devices: int) -> World:
    """Migrate, then write one enabled event with `tickets` tickets and `devices` door devices."""
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        key = keys.current_signing_key(session)
    event_id = uuid.uuid4()
    users = [
        {
            "id": uuid.uuid4(),
            "username": f"fan{i}",
            "display_name": f"Fan {i}",
            "role": "ATTENDEE",
            "created_at": now,
        }
        for i in range(tickets)
    ]
    ticket_rows = []
    for i, user in enumerate(users):
        ticket_id = uuid.uuid4()
        ticket_rows.append(
            {
                "id": ticket_id,
                "event_id": event_id,
                "user_id": user["id"],
                "holder_name": user["display_name"],
                "code": f"B{i:07d}",
                "status": "VALID",
                "qr_token": issue_token(key, TokenKind.TICKET, ticket_id, event_id),
                "created_at": now,
            }
        )
    profiles = [
        {
            "id": uuid.uuid4(),
            "user_id": u["id"],
            "handle": u["username"],
            "created_at": now,
            "updated_at": now,
        }
        for u in users
    ]
    tokens = [accounts.new_token() for _ in range(devices)]
    device_ids = [uuid.uuid4() for _ in range(devices)]
    device_rows = [
        {
            "id": device_ids[i],
            "name": f"Gate {i + 1}",
            "role": "DOOR",
            "event_id": event_id,
            "token_hash": accounts.hash_token(token),
            "created_at": now,
        }
        for i, token in enumerate(tokens)
    ]
    with unit_of_work(factory) as session:
        session.execute(
            insert(Event),
            [
                {
                    "id": event_id,
                    "name": "Benchmark Fête",
                    "starts_at": now,
                    "is_soca_passport_enabled": True,
                    "stamp_points_default": 50,
                    "country_code": "TT",
                    "carnival_circuit": "Trinidad Carnival",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        for start in range(0, tickets, 5000):
            session.execute(insert(User), users[start : start + 5000])
            session.execute(insert(PassportProfile), profiles[start : start + 5000])
            session.execute(insert(Ticket), ticket_rows[start : start + 5000])
        if device_rows:
            session.execute(insert(Device), device_rows)
        # Rows written with Core bypass the ORM's change hooks: note them for pull.
        for row in ticket_rows:
            touch(session, "tickets", str(row["id"]), event_id=event_id)
        for user in users:
            touch(session, "passports", str(user["id"]), user_id=user["id"])
        touch(session, "events", str(event_id), event_id=event_id)
    return World(event_id, ticket_rows, tokens, device_ids)


class ServerProcess:
    """A running `soca-server serve`; `kill()` sends SIGKILL, `start()` runs it again."""

    def __init__(
        self,
        database_url: str,
        port: int | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.env = dict(env or {})  # extra SOCA_* settings for this server
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until /health answers."""
        env = {**os.environ, **self.env, "SOCA_DATABASE_URL": self.database_url}
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [
                sys.executable,
                "-c",
                "from server.cli import main; main()",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own process group: kill() reaches every worker process at once.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"soca-server exited with status {self.process.returncode}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("soca-server did not answer /health in time")

    def kill(self) -> None:
        """SIGKILL the server and its workers, as a power cut would."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # the whole group already ended
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server politely."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def serve(database_url: str, workers: int = 1) -> Iterator[ServerProcess]:
    """Run `soca-server serve` on a free port for the duration; yields the running server."""
    server = ServerProcess(database_url, workers=workers)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class HubProcess:
    """A running `soca-server hub` on a free port: `kill()` is SIGKILL, `start()` runs it again."""

    def __init__(
        self, folder: Path, upstream: str, code: str | None = None, port: int | None = None
    ) -> None:
        self.folder, self.upstream, self.code = folder, upstream, code
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        """Start the hub (pairing on its first run) and wait until it says it is a hub."""
        command = [sys.executable, "-c", "from server.cli import main; main()", "hub"]
        command += ["--upstream", self.upstream, "--data-dir", str(self.folder)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--no-advertise"]
        if self.code:
            command += ["--code", self.code]
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "hub.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                command, stdout=output, stderr=output, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"soca-server hub exited ({self.process.returncode}): {error}")
            try:
                info = httpx.get(f"{self.base_url}/api/v1/hub/info", timeout=1)
                if info.status_code == 200 and info.json().get("hub"):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("soca-server hub did not answer in time")

    def info(self) -> dict[str, Any]:
        """`GET /api/v1/hub/info`."""
        return dict(httpx.get(f"{self.base_url}/api/v1/hub/info", timeout=10).json())

    def wait_relayed(self, timeout: float = 60) -> None:
        """Wait until the hub has relayed every op it accepted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.info()
            if info.get("upstream_reachable") and info.get("pending_relay") == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"the hub did not relay everything in time: {self.info()}")

    def kill(self) -> None:
        """SIGKILL the hub, as a power cut would."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the hub politely."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
