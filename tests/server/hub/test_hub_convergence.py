"""A hub changes nothing HQ decides: the same ops through a hub, or pushed directly, end alike.

Door ops from three devices over shared tickets go to HQ in one in-order
push (the expected state), or through a hub: pushed to the hub in random
batches, some repeated; relayed to HQ at random points, some relays sent
twice; and the hub restarted at random points, either keeping its database
(a process restart) or losing it (then rebuilt from HQ's rows, and the
kiosks send again everything they had sent it). HQ's final state — every
op's status and blocker, the scans, stamps and passports — must be the same.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.wire import Op
from server.db import migrate
from server.db.models import Device, Event, PassportProfile
from server.db.session import make_session_factory
from server.hub import mirror, relay, replica, rows
from server.hub.serve import hub_engine
from server.hub.wire import HubPage, RelayRequest
from server.sync.push import push
from tests.server.factories import T0
from tests.server.sync.test_convergence import SETTINGS, in_order_state, make_ops, snapshot
from tests.server.sync.world import World, build_world, make_device, request

EXAMPLES = int(os.environ.get("SOCA_HUB_CONVERGENCE_EXAMPLES", "15"))

door_specs = st.lists(
    st.tuples(
        st.sampled_from(["scan", "scan", "checkin"]),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(0, 12),
        st.sampled_from([None, "green", "amber"]),
    ),
    min_size=1,
    max_size=12,
)


class Hub:
    """An in-process hub on its own SQLite file; `wipe()` loses its database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pristine = folder / "pristine.sqlite3"
        engine = hub_engine(f"sqlite:///{self.pristine}")
        migrate.upgrade(engine)
        engine.dispose()
        self.engine: Engine | None = None
        self.factory: sessionmaker[Session] | None = None

    def wipe(self) -> sessionmaker[Session]:
        """A fresh, empty hub database (a hub restarted from scratch)."""
        if self.engine is not None:
            self.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            (self.folder / f"hub.sqlite3{suffix}").unlink(missing_ok=True)
        shutil.copy(self.pristine, self.folder / "hub.sqlite3")
        self.engine = hub_engine(f"sqlite:///{self.folder / 'hub.sqlite3'}")
        self.factory = make_session_factory(self.engine)
        return self.factory

    def close(self) -> None:
        """Dispose the engine."""
        if self.engine is not None:
            self.engine.dispose()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    made = Hub(tmp_path)
    yield made
    made.close()


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session, users=3, doors=3, branches=3, max_stamps=2)


def first_page(session: Session, world: World) -> HubPage:
    """The hub's scope as HQ holds it (what its first pull brings)."""
    event = session.get(Event, world.event_id)
    assert event is not None
    profiles = session.scalars(
        select(PassportProfile).where(PassportProfile.user_id.in_([u.id for u in world.users]))
    )
    return HubPage(
        cursor=None,
        more=False,
        server_time=T0,
        keys=replica.public_keys(session),
        devices=[rows.dump(door) for door in world.doors],
        rows={
            "events": [rows.dump(event)],
            "tickets": [rows.dump(ticket) for ticket in world.tickets],
            "passport_profiles": [rows.dump(profile) for profile in profiles],
        },
    )


class Route:
    """Ops through the hub to HQ, with the faults the test draws."""

    def __init__(self, session: Session, world: World, hub: Hub, rng: random.Random) -> None:
        self.session, self.world, self.hub, self.rng = session, world, hub, rng
        self.hub_device = make_device(session, "HUB", event_id=world.event_id)
        self.page = first_page(session, world)
        self.sent: list[tuple[Device, list[Op]]] = []
        self.clock = T0 + timedelta(hours=1)
        self.restart(lose_database=True)

    def tick(self) -> Any:
        self.clock += timedelta(seconds=1)
        return self.clock

    def restart(self, *, lose_database: bool) -> None:
        if not lose_database:
            return  # every step committed: a killed process loses nothing
        factory = self.hub.wipe()
        with factory.begin() as hub_session:
            mirror.apply_page(hub_session, self.page, settings=SETTINGS, now=self.tick())
        for device, ops in self.sent:  # the kiosks send again what the lost hub held
            self.to_hub(device, ops, remember=False)

    def to_hub(self, device: Device, ops: list[Op], *, remember: bool = True) -> None:
        assert self.hub.factory is not None
        with self.hub.factory.begin() as hub_session:
            local = hub_session.get(Device, device.id)
            assert local is not None
            push(
                hub_session, device=local, request=request(ops), now=self.tick(), settings=SETTINGS
            )
        if remember:
            self.sent.append((device, ops))

    def relay(self, *, twice: bool = False) -> None:
        assert self.hub.factory is not None
        with self.hub.factory() as hub_session:
            batches = mirror.outgoing(hub_session, limit=500, now=self.tick())
        if not batches:
            return
        body = RelayRequest(batches=batches)
        for _ in range(2 if twice else 1):
            relay.relay(
                self.session, hub=self.hub_device, request=body, now=self.tick(), settings=SETTINGS
            )
        with self.hub.factory.begin() as hub_session:
            done = [op.op_id for batch in batches for op in batch.ops]
            mirror.mark_relayed(hub_session, done, now=self.tick())

    def run(self, batches: list[tuple[Device, list[Op]]]) -> None:
        for device, ops in batches:
            self.to_hub(device, ops)
            roll = self.rng.random()
            if roll < 0.15:
                self.to_hub(device, ops)  # the kiosk never heard the answer: sent again
            elif roll < 0.3:
                self.restart(lose_database=self.rng.random() < 0.5)
            if self.rng.random() < 0.5:
                self.relay(twice=self.rng.random() < 0.3)
        self.relay()


def hub_state(
    session: Session, world: World, hub: Hub, ops: list[Op], owner: dict[Any, Any], seed: int
) -> Any:
    rng = random.Random(seed)
    by_device: dict[Any, list[Op]] = {}
    for op in ops:
        by_device.setdefault(owner[op.op_id], []).append(op)
    batches = []
    for device, own in by_device.items():
        cut = (
            sorted(rng.sample(range(1, len(own)), k=rng.randint(0, len(own) - 1)))
            if own[1:]
            else []
        )
        batches += [(device, own[a:b]) for a, b in zip([0, *cut], [*cut, len(own)], strict=True)]
    rng.shuffle(batches)
    with session.begin_nested() as savepoint:
        Route(session, world, hub, rng).run(batches)
        state = snapshot(session)
        savepoint.rollback()
    return state


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=door_specs, seed=st.integers(0, 2**32 - 1))
def test_ops_through_a_hub_leave_hq_as_a_direct_push_does(
    session: Session,
    world: World,
    hub: Hub,
    specs: list[tuple[str, int, int, int, str | None]],
    seed: int,
) -> None:
    ops = make_ops(world, specs)
    owner = {op.op_id: world.doors[spec[1]] for spec, op in zip(specs, ops, strict=True)}
    expected = in_order_state(session, world, ops, owner)
    assert hub_state(session, world, hub, ops, owner, seed) == expected


def test_negative_control_a_relay_that_alters_door_times_is_caught(
    session: Session, world: World, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Door 1 scans ticket 0 later (minute 9) but pushes first; door 0 scanned at minute 1.
    specs: list[tuple[str, int, int, int, str | None]] = [
        ("scan", 1, 0, 9, "green"),
        ("scan", 0, 0, 1, "green"),
    ]
    ops = make_ops(world, specs)
    owner = {op.op_id: world.doors[spec[1]] for spec, op in zip(specs, ops, strict=True)}
    expected = in_order_state(session, world, ops, owner)
    assert hub_state(session, world, hub, ops, owner, seed=1) == expected

    real_outgoing = mirror.outgoing

    def mirrored_times(hub_session: Session, *, limit: int, now: Any) -> Any:
        batches = real_outgoing(hub_session, limit=limit, now=now)
        # A relay that does not keep `occurred_at`: here it turns door time around.
        turn = T0 + timedelta(hours=1)
        return [
            batch.model_copy(
                update={
                    "ops": [
                        op.model_copy(update={"occurred_at": turn - (op.occurred_at - T0)})
                        for op in batch.ops
                    ]
                }
            )
            for batch in batches
        ]

    monkeypatch.setattr(mirror, "outgoing", mirrored_times)
    wrong = hub_state(session, world, hub, ops, owner, seed=1)
    assert wrong["ops"] != expected["ops"]
