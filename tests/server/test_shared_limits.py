"""Rate limits over real HTTP against real servers: two `soca-server serve --workers 2` processes
on one PostgreSQL database share one login allowance, a burst across them gets exactly the limit,
and X-Forwarded-For counts only from the proxies SOCA_TRUSTED_PROXIES names (the single-process
`serve` hands uvicorn the same options)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Barrier

import httpx
import pytest

from server.db import migrate
from server.db.session import make_session_factory, unit_of_work
from server.devtools import ServerProcess, scratch_database
from server.domain import accounts
from tests.conftest import postgres_url
from tests.server.api.world import PASSWORD, password_hash

ACCOUNTS = ("sequential", "burst", "forwarded")
LIMIT = 5  # failed logins per address and account per minute (the default)


@dataclass
class Servers:
    """Two multi-worker servers: `a` trusts no proxy, `b` trusts loopback."""

    a: str
    b: str


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    folder: Path = tmp_path_factory.mktemp("shared")
    with scratch_database("postgresql", postgres_url(), folder) as (url, engine):
        migrate.upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            for name in ACCOUNTS:
                user = accounts.create_user(
                    session, username=name, display_name=name, email=f"{name}@example.com"
                )
                user.password_hash = password_hash()
        untrusted = {"SOCA_TRUSTED_PROXIES": ""}
        processes = [
            ServerProcess(url, workers=2, env=untrusted),
            ServerProcess(url, workers=2, env={"SOCA_TRUSTED_PROXIES": "127.0.0.1"}),
        ]
        assert "FORWARDED_ALLOW_IPS" not in os.environ  # uvicorn's own default would apply
        with ThreadPoolExecutor(len(processes)) as pool:  # started and stopped side by side
            try:
                list(pool.map(lambda server: server.start(), processes))
                yield Servers(*(server.base_url for server in processes))
            finally:
                list(pool.map(lambda server: server.stop(), processes))


def _login(base: str, name: str, password: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    # A new connection each time, so the kernel may hand it to either worker.
    response = httpx.post(
        f"{base}/api/v1/auth/login",
        json={"email": f"{name}@example.com", "password": password},
        headers=headers,
        timeout=60,
    )
    return response.status_code


def test_the_login_limit_holds_across_servers_and_workers(servers: Servers) -> None:
    bases = [servers.a, servers.b, servers.a, servers.b, servers.a]
    assert [_login(base, "sequential", "guess") for base in bases] == [401] * LIMIT
    assert _login(servers.b, "sequential", PASSWORD) == 429
    assert _login(servers.a, "sequential", PASSWORD) == 429


def test_a_burst_across_both_servers_gets_exactly_the_limit(servers: Servers) -> None:
    start = Barrier(16)

    def guess(n: int) -> int:
        start.wait()
        return _login(servers.a if n % 2 else servers.b, "burst", "guess")

    with ThreadPoolExecutor(16) as pool:
        statuses = sorted(pool.map(guess, range(16)))
    assert statuses == [401] * LIMIT + [429] * (16 - LIMIT)


def test_forwarded_for_counts_only_from_a_trusted_proxy(servers: Servers) -> None:
    for _ in range(LIMIT):
        assert _login(servers.b, "forwarded", "guess") == 401  # from 127.0.0.1 itself
    # A server that trusts no proxy keys on the peer, 127.0.0.1, whatever the header claims.
    assert _login(servers.a, "forwarded", PASSWORD, "203.0.113.7") == 429
    # The server told to trust loopback believes the header: another client, its own count.
    assert _login(servers.b, "forwarded", PASSWORD, "203.0.113.9") == 200


_SINGLE = """
import json, os, sys
import server.serving
seen = []
server.serving.run_app = lambda app, **options: seen.append(options)  # options, no server
from server.cli import app
for trusted in ("", "10.0.0.0/8"):
    os.environ["SOCA_TRUSTED_PROXIES"] = trusted
    app(["serve", "--database-url", sys.argv[1]], standalone_mode=False)
print(json.dumps([{key: value for key, value in o.items() if "prox" in key or "forward" in key}
                  for o in seen]))
"""


def test_the_single_process_serve_hands_uvicorn_the_same_proxy_options(tmp_path: Path) -> None:
    """`serve` without --workers runs uvicorn in its own process: it gets the options too."""
    url = f"sqlite:///{tmp_path / 'single.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", _SINGLE, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == [
        {"proxy_headers": False},
        {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8"]},
    ]
