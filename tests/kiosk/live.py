"""The real server for kiosk end-to-end tests: seeded by `soca-server seed-demo`, run by `serve`.

The server is another program: it is seeded and run through its command
line, on a scratch SQLite file or a fresh PostgreSQL schema, and the kiosk
talks to it over HTTP only. HQ calls (pairing codes, revocation, reading a
passport, a pass or an op) use the seed's admin token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from server.devtools import ServerProcess, scratch_database
from tests.conftest import postgres_url


@dataclass
class LiveServer:
    """A seeded, running server and its demo world."""

    process: ServerProcess
    world: dict[str, Any]
    client: httpx.Client

    @property
    def url(self) -> str:
        """Where the server listens."""
        return self.process.base_url

    def hq(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An HQ call with the admin token."""
        headers = {"Authorization": f"Bearer {self.world['admin_token']}"}
        return self.client.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )

    def pairing_code(self, **scope: str) -> str:
        """A one-time code for a DOOR (event_id=...) or BRANCH (branch_id=...) device."""
        role = "DOOR" if "event_id" in scope else "BRANCH"
        response = self.hq("POST", "/devices/pairing-codes", json={"role": role, **scope})
        assert response.status_code == 201, response.text
        return str(response.json()["code"])

    def passport(self, user_id: str) -> dict[str, Any]:
        """`GET /passports/{user_id}`."""
        response = self.hq("GET", f"/passports/{user_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def card(self, offer_id: str, user_id: str) -> dict[str, Any]:
        """`GET /offers/{offer_id}/passes/{user_id}`."""
        response = self.hq("GET", f"/offers/{offer_id}/passes/{user_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def op(self, op_id: str | uuid.UUID) -> dict[str, Any]:
        """`GET /sync/ops/{op_id}`: the recorded op and its result."""
        response = self.hq("GET", f"/sync/ops/{op_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    @property
    def event_id(self) -> str:
        """Tonight's event: the one with tickets."""
        return str(self.world["events"][0]["id"])


def _seed(database_url: str, out: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from server.cli import main; main()",
            "seed-demo",
            "--out",
            str(out),
        ],
        env={**os.environ, "SOCA_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(out.read_text(encoding="utf-8")))


@contextmanager
def live_server(engine: str, folder: Path) -> Iterator[LiveServer]:
    """Seed a scratch database of `engine` (sqlite or postgresql) and serve it on a free port."""
    with scratch_database(engine, postgres_url(), folder) as (url, _engine):
        world = _seed(url, folder / "demo.json")
        process = ServerProcess(url)
        process.start()
        try:
            with httpx.Client() as client:
                yield LiveServer(process, world, client)
        finally:
            process.stop()
