"""Sync over real HTTP: the app behind a TestClient on both engines, with a committed world.

`site` builds the sync world of `world.py` (an enabled event with tickets, a
stamp-card offer, door and branch devices), gives every device, an HQ user
and the branch's manager a bearer token, and commits. Requests commit for
real, so every table is emptied before and after each test.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.wire import Op
from server.db.models import Branch, Device
from server.db.models.enums import UserRole
from server.db.session import make_session_factory, unit_of_work
from server.domain import accounts
from tests.conftest import ENGINES, _Databases
from tests.server.api.conftest import TestClient, empty_tables, make_app
from tests.server.sync.world import World, build_world, make_device


@dataclass
class Site:
    """A served app over a committed sync world, and the tokens to call it with."""

    client: TestClient
    world: World
    tokens: dict[str, str]
    engine: Engine
    factory: sessionmaker[Session]

    def auth(self, who: str) -> dict[str, str]:
        """The Authorization header of `door0`..`door2`, `branch0`, `branch1`, `hq` or `manager`."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def add_door(self, event_id: uuid.UUID) -> tuple[str, Device]:
        """A new door device of another event, committed; its name for `auth` and `push`."""
        token = accounts.new_token()
        with unit_of_work(self.factory) as session:
            device = make_device(session, "DOOR", event_id=event_id)
            device.token_hash = accounts.hash_token(token)
        self.tokens[str(device.id)] = token
        return str(device.id), device

    def push(self, who: str, ops: Sequence[Op | dict[str, Any]]) -> httpx.Response:
        """`POST /api/v1/sync/push` as that device; ops as models or raw JSON objects."""
        body = {
            "device_time": datetime.now(UTC).isoformat(),
            "ops": [op if isinstance(op, dict) else op.model_dump(mode="json") for op in ops],
        }
        # Encoded here, not by httpx: a hostile client may send NaN and Infinity too.
        response: httpx.Response = self.client.post(
            "/api/v1/sync/push",
            content=json.dumps(body).encode(),
            headers={**self.auth(who), "Content-Type": "application/json"},
        )
        return response


def _tokens(session: Session, world: World) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for role, devices in (("door", world.doors), ("branch", world.branches)):
        for index, device in enumerate(devices):
            token = accounts.new_token()
            device.token_hash = accounts.hash_token(token)
            tokens[f"{role}{index}"] = token
    hq = accounts.create_user(
        session, username=f"hq_{uuid.uuid4().hex[:8]}", display_name="HQ", role=UserRole.HQ
    )
    manager = accounts.create_user(
        session,
        username=f"manager_{uuid.uuid4().hex[:8]}",
        display_name="Maya Manager",
        role=UserRole.BRANCH_MANAGER,
    )
    branch = session.get(Branch, world.offer.branch_id)
    assert branch is not None
    branch.manager_user_id = manager.id
    tokens["hq"] = accounts.issue_api_token(session, user_id=hq.id)
    tokens["manager"] = accounts.issue_api_token(session, user_id=manager.id)
    return tokens


@pytest.fixture(params=ENGINES)
def site(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[Site]:
    """The app over an engine whose tables hold only this test's world."""
    engine = databases.engine(request.param)
    empty_tables(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        world = build_world(session, users=3, doors=3, branches=2, max_stamps=3)
        tokens = _tokens(session, world)
    try:
        with TestClient(make_app(engine)) as client:
            yield Site(client, world, tokens, engine, factory)
    finally:
        empty_tables(engine)
