"""Scheduled jobs, run once per slot however many server processes wake for it.

A run first claims its slot: one `job_runs` row per (job, slot), under a
unique constraint, inserted in the same transaction as the job's work. The
first process to insert wins; on PostgreSQL a second one waits on the
unique index until the first commits (then finds the row and skips) or rolls
back (then claims the slot itself), so a crash mid-job never loses a week.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.models import JobRun
from server.domain import cards

EXPIRE_PASSES: Final = "expire-passes"


def claim(session: Session, *, job: str, slot: datetime) -> JobRun | None:
    """This process's claim on one slot of a job; None when another process has it."""
    if session.scalar(select(JobRun.id).where(JobRun.job == job, JobRun.slot == slot)):
        return None
    run = JobRun(job=job, slot=slot)
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None
    return run


def expire_passes(
    session: Session, *, slot: datetime, now: datetime, inactivity_days: int
) -> int | None:
    """Seed 002's weekly expiry for one slot: passes expired, or None if the slot was taken."""
    run = claim(session, job=EXPIRE_PASSES, slot=slot)
    if run is None:
        return None
    count = cards.expire_inactive_passes(session, now=now, inactivity_days=inactivity_days)
    run.outcome = f"expired {count} passes inactive for over {inactivity_days} days"
    session.flush()
    return count


def runs(session: Session, *, job: str) -> list[JobRun]:
    """Every recorded run of a job, oldest slot first."""
    return list(session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.slot)))
