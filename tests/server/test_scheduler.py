"""The weekly expiry runs without a person, once per slot however many processes wake for it."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from server.app import create_app
from server.db.models import JobRun, LoyaltyPass, PassExpiry
from server.db.models.enums import PassStatus
from server.db.session import unit_of_work
from server.domain import cards, jobs
from server.errors import ConfigError
from server.scheduler import ExpiryScheduler, cron_slots, expiry_scheduler
from server.serving import start_scheduler
from server.settings import ServerSettings
from tests.server.factories import make_offer, make_user

STEP = 0.2  # seconds between the test schedule's slots


def _every_step(moment: datetime) -> datetime:
    """The next multiple of STEP seconds after `moment` (the same slots in every scheduler)."""
    ticks = int(moment.timestamp() / STEP) + 1
    return datetime.fromtimestamp(ticks * STEP, UTC)


def _idle_pass(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        offer, user = make_offer(session), make_user(session)
        long_ago = datetime.now(UTC) - timedelta(days=200)
        cards.add_stamp(session, offer_id=offer.id, user_id=user.id, occurred_at=long_ago)


class Recording(ExpiryScheduler):
    """A scheduler that remembers what each of its slots returned."""

    def __init__(self, factory: sessionmaker[Session], seen: dict[datetime, list[int | None]]):
        super().__init__(factory, inactivity_days=90, following=_every_step)
        self.seen = seen
        self.lock = threading.Lock()

    def run_slot(self, slot: datetime) -> int | None:
        result = super().run_slot(slot)
        with self.lock:
            self.seen[slot].append(result)
        return result


def test_two_schedulers_on_one_database_run_each_slot_once(
    committed_factory: sessionmaker[Session],
) -> None:
    _idle_pass(committed_factory)
    seen: dict[datetime, list[int | None]] = defaultdict(list)
    schedulers = [Recording(committed_factory, seen), Recording(committed_factory, seen)]
    for scheduler in schedulers:
        scheduler.start()
    time.sleep(STEP * 4)
    for scheduler in schedulers:
        scheduler.stop()
    both = {slot: results for slot, results in seen.items() if len(results) == 2}
    assert len(both) >= 2, seen  # both schedulers woke for the same slots
    for results in both.values():
        assert sorted(results, key=lambda r: r is None)[1] is None  # exactly one ran it
        assert [r for r in results if r is not None] in ([0], [1])
    with unit_of_work(committed_factory) as session:
        assert session.scalar(select(func.count()).select_from(PassExpiry)) == 1
        slots = session.scalars(select(JobRun.slot).where(JobRun.job == jobs.EXPIRE_PASSES)).all()
        assert len(slots) == len(set(slots)) >= len(both)


def test_concurrent_claims_of_one_slot_let_one_process_expire(
    committed_factory: sessionmaker[Session],
) -> None:
    _idle_pass(committed_factory)
    slot = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    results: list[int | None] = []
    gate = threading.Barrier(4)

    def run() -> None:
        gate.wait()
        scheduler = ExpiryScheduler(committed_factory, inactivity_days=90, following=_every_step)
        results.append(scheduler.run_slot(slot))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=lambda r: r is None) == [1, None, None, None]
    with unit_of_work(committed_factory) as session:
        assert session.scalars(select(LoyaltyPass.status)).all() == [PassStatus.EXPIRED]


@pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)
def test_serve_catches_up_the_latest_slot_at_start(
    committed_factory: sessionmaker[Session], db_engine: Engine
) -> None:
    _idle_pass(committed_factory)
    url = db_engine.url.render_as_string(hide_password=False)
    app = create_app(ServerSettings(database_url=url, secret_key="x"), engine=db_engine)
    app.state.session_factory = committed_factory  # the test schema's sessions
    scheduler = start_scheduler(app)
    assert scheduler is not None
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with unit_of_work(committed_factory) as session:
                if session.scalar(select(func.count()).select_from(PassExpiry)):
                    break
            time.sleep(0.05)
    finally:
        scheduler.stop()
    with unit_of_work(committed_factory) as session:
        run = session.scalars(select(JobRun)).one()
        assert run.slot.weekday() == 6 and (run.slot.hour, run.slot.minute) == (2, 0)
        assert run.outcome == "expired 1 passes inactive for over 90 days"


def test_the_schedule_is_seed_002s_weekly_cron_and_can_be_turned_off() -> None:
    following, latest = cron_slots("0 2 * * 0")
    wednesday = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    assert following(wednesday) == datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    assert latest(wednesday) == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    assert expiry_scheduler(sessionmaker(), schedule="off", inactivity_days=90) is None
    with pytest.raises(ConfigError, match="not a cron line"):
        cron_slots("every sunday")
