"""Thirty people sign up with one email at the same moment, over real HTTP, on PostgreSQL.

Before issue 13 the unique index refused the losers of the race with an
IntegrityError that reached them as 503s (17 of 30 in one run). Now exactly
one account is made and everyone else gets the form again with the email
marked as already registered.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select

from server.db.models import User
from server.db.session import make_engine
from tests.conftest import _Databases, postgres_url
from tests.server.api.conftest import empty_tables, make_app

PEOPLE = 30
EMAIL = "same.person@example.com"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    """The app behind uvicorn on a free port, in a thread: real HTTP; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _sign_up(base_url: str, index: int, ready: threading.Barrier) -> tuple[int, str]:
    with httpx.Client(base_url=base_url, timeout=120) as browser:
        form = browser.get("/register")
        token = _TOKEN.search(form.text)
        assert token is not None
        ready.wait()  # every browser posts at once
        posted = browser.post(
            "/register",
            data={
                "csrf_token": token.group(1),
                "username": f"racer_{index}",
                "email": EMAIL,
                "password": "wine-n-grind-2026",
            },
        )
        return posted.status_code, posted.text


def test_thirty_simultaneous_sign_ups_with_one_email_make_one_account(
    databases: _Databases,
) -> None:
    suite = databases.engine("postgresql")
    empty_tables(suite)
    # Ten connections, as a small deployment has: ten sign-ups race at once and the rest
    # queue for a connection (the test database is shared, so it is not drained either).
    engine = make_engine(
        postgres_url(),
        connect_args={"options": f"-csearch_path={databases.schema}"},
        pool_size=10,
        max_overflow=0,
    )
    try:
        with _served(make_app(engine)) as base_url:
            ready = threading.Barrier(PEOPLE)
            with ThreadPoolExecutor(PEOPLE) as pool:
                answers = list(pool.map(lambda i: _sign_up(base_url, i, ready), range(PEOPLE)))
    finally:
        engine.dispose()
    with suite.connect() as connection:
        accounts = connection.scalar(
            select(func.count()).select_from(User).where(User.email == EMAIL)
        )
    empty_tables(suite)
    statuses = sorted(status for status, _text in answers)
    assert statuses == [303] + [422] * (PEOPLE - 1), statuses
    refused = [text for status, text in answers if status == 422]
    assert all('id="email-error"' in text and "already registered" in text for text in refused)
    assert accounts == 1
