"""The weekly inactivity expiry, inside every `soca-server serve` process.

Every serving process runs one `ExpiryScheduler` thread; each wakes at the
schedule's slots (`SOCA_EXPIRY_SCHEDULE`, cron, UTC; default seed 002's
`0 2 * * 0`) and calls `jobs.expire_passes` for that slot, whose claim in
`job_runs` lets exactly one process do the work. On start it also runs the
latest past slot, so a server that was down on Sunday night catches up (the
claim makes that a no-op when another process already ran it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from cronsim import CronSim, CronSimError
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import utcnow
from server.db.session import unit_of_work
from server.domain import jobs
from server.errors import ConfigError

log = logging.getLogger("soca.scheduler")

Slots = Callable[[datetime], datetime]


def cron_slots(expression: str) -> tuple[Slots, Slots]:
    """(next slot after t, latest slot at or before t) of a cron expression (UTC)."""
    try:
        CronSim(expression, utcnow())
    except CronSimError as exc:
        raise ConfigError(f"SOCA_EXPIRY_SCHEDULE {expression!r} is not a cron line: {exc}") from exc

    def following(moment: datetime) -> datetime:
        return next(CronSim(expression, moment))

    def latest(moment: datetime) -> datetime:
        return next(CronSim(expression, moment, reverse=True))

    return following, latest


class ExpiryScheduler:
    """A daemon thread that runs the expiry job at each slot; `stop()` ends it promptly."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        inactivity_days: int,
        following: Slots,
        latest: Slots | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = factory
        self.inactivity_days = inactivity_days
        self.following = following
        self.latest = latest
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soca-expiry", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_slot(self, slot: datetime) -> int | None:
        """Run the job for one slot (None: another process had it); errors are logged."""
        try:
            with unit_of_work(self.factory) as session:
                count = jobs.expire_passes(
                    session, slot=slot, now=self.clock(), inactivity_days=self.inactivity_days
                )
        except Exception:  # the thread must outlive a bad night; the next slot tries again
            log.exception("expiring inactive passes for slot %s failed", slot.isoformat())
            return None
        if count is not None:
            log.info(
                "Expiring passes inactive for %d+ days (slot %s): %d expired",
                self.inactivity_days,
                slot.isoformat(),
                count,
            )
        return count

    def _run(self) -> None:
        if self.latest is not None:
            self.run_slot(self.latest(self.clock()))
        while not self._stop.is_set():
            slot = self.following(self.clock())
            while not self._stop.is_set():
                left = (slot - self.clock()).total_seconds()
                if left <= 0:
                    break
                self._stop.wait(min(left, 60.0))  # re-read the clock: it may jump
            if not self._stop.is_set():
                self.run_slot(slot)


def schedule_is_off(schedule: str) -> bool:
    """True for an empty schedule or "off" (no scheduled expiry in this deployment)."""
    return schedule.strip().lower() in ("", "off", "none")


def check_schedule(schedule: str) -> None:
    """ConfigError unless the schedule is off or a cron line."""
    if not schedule_is_off(schedule):
        cron_slots(schedule)


def expiry_scheduler(
    factory: sessionmaker[Session], *, schedule: str, inactivity_days: int
) -> ExpiryScheduler | None:
    """The scheduler a serving process runs, or None when the schedule is off."""
    if schedule_is_off(schedule):
        return None
    following, latest = cron_slots(schedule)
    return ExpiryScheduler(
        factory, inactivity_days=inactivity_days, following=following, latest=latest
    )
