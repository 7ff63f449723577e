"""Rate limits shared by every server process: counters in the database, per rule, key and window.

Each `Rule` allows `limit` attempts per `window` seconds for one key (an
address, or an address and an account). Counters live in
`rate_limit_counters`, one row per rule, key and fixed window, so every
worker of `soca-server serve --workers N` and every host on the same
database draws on one allowance. The deployment has no other shared store.

The count is a sliding window estimated from two fixed ones (the previous
window's count weighted by how much of it still overlaps the last `window`
seconds, plus the current one's), so a burst across a window boundary gets no
double allowance.

**Reserve first, then decide.** `reserve` counts the attempt with one atomic
upsert per rule (`INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1
RETURNING hits`) and commits at once: concurrent attempts, on any process,
each get their own number, so no burst slips past the limit, and no row lock
is held while a password is checked. An attempt over a limit is taken back
at once and refused with 429 and `Retry-After`. Callers that count only
failures `release` the reservation when the attempt succeeds (in the
transaction that records the success), so a success neither counts nor
clears earlier failures.

A rule shared by a whole crowd (failed logins per address) is only *watched*
by `reserve` (read, refused when already over) and counted by `record` after
a failure: a venue's successful logins then never queue on its address's
row. Its limit may be overshot by the attempts in flight at once, which is
why the strict per-account rule is reserved. Counter transactions on
PostgreSQL skip the commit's fsync (`synchronous_commit = off`): a crash may
forget a few counts, which only a limiter can afford.

Keys are stored as SHA-256, never as addresses or emails. Rows expire once the
window after their own has passed; about one reservation in a hundred that
opens a new window deletes up to 200 expired rows (on PostgreSQL skipping
rows another transaction holds).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.api.errors import TooManyRequests
from server.db.bulk import is_postgresql
from server.db.models import RateLimitCounter
from server.settings import ServerSettings

_PURGE_BATCH: Final = 200


@dataclass(frozen=True)
class Rule:
    """At most `limit` attempts per key in any `window` seconds; `refusal` says why, in words."""

    name: str
    limit: int
    window: int
    refusal: str


@dataclass(frozen=True)
class Rules:
    """The server's rules, sized from its settings."""

    login_account: Rule
    login_address: Rule
    pairing: Rule
    signup: Rule
    promoter_application: Rule
    password_reset: Rule

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> Rules:
        """The rules with the limits `settings` name."""
        return cls(
            login_account=Rule(
                "login-account",
                settings.login_failures_per_account,
                60,
                "Too many failed logins to this account from your address",
            ),
            login_address=Rule(
                "login-address",
                settings.login_failures_per_address,
                60,
                "Too many failed logins from your address",
            ),
            pairing=Rule(
                "pairing",
                settings.pairing_failures_per_address,
                60,
                "Too many failed pairing attempts from your address",
            ),
            signup=Rule(
                "signup", settings.signups_per_address, 600, "Too many sign-ups from your address"
            ),
            promoter_application=Rule(
                "promoter-application",
                settings.promoter_applications_per_address,
                3600,
                "Too many promoter applications from your address",
            ),
            password_reset=Rule(
                "password-reset",
                settings.password_resets_per_address,
                900,
                "Too many password reset requests from your address",
            ),
        )


@dataclass(frozen=True)
class _Hit:
    rule: Rule
    key_hash: str
    window_start: int


@dataclass(frozen=True)
class Reservation:
    """The attempts one request counted (give it to `release` to take them back)."""

    hits: tuple[_Hit, ...]


def key_of(*parts: str) -> str:
    """The stored form of a key: SHA-256 of its parts."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _wait(rule: Rule, now: float, start: int, current: int, previous: int) -> int:
    """Seconds until one more attempt fits, with `current` counted in the window at `start`."""
    window = rule.window
    if current >= rule.limit:  # only once this window is the previous one, and has faded enough
        fade = window * (1 - (rule.limit - 1) / current)
        seconds = start + window + fade - now
    else:  # once the previous window has faded enough
        seconds = start + window * (1 - (rule.limit - 1 - current) / previous) - now
    return max(1, math.ceil(seconds))


def _over(rule: Rule, now: float, start: int, current: int, previous: int) -> int | None:
    """Seconds to wait when `current` attempts in the window at `start` (this one included)
    are too many with the previous window's `previous` weighed in; None when they are not."""
    overlap = 1 - (now - start) / rule.window
    if previous * overlap + current <= rule.limit:
        return None
    return _wait(rule, now, start, current - 1, previous)


class RateLimiter:
    """Counts attempts against rules in the database; `clock` gives epoch seconds."""

    #: A new window's row purges expired rows once in this many times (a purge costs a
    #: DELETE; doing it for every new row halved the rate of a crowd's logins on PostgreSQL).
    purge_one_in = 100

    def __init__(self, rules: Rules, clock: Callable[[], float] = time.time) -> None:
        self.rules = rules
        self.clock = clock

    def reserve(
        self,
        session: Session,
        charges: Iterable[tuple[Rule, str]],
        *,
        watch: Iterable[tuple[Rule, str]] = (),
    ) -> Reservation:
        """Count one attempt for each (rule, key) of `charges` and commit; TooManyRequests when
        any of them, or of `watch` (checked, not counted: see `record`), is over its limit.

        Commits the session: call it before the request writes anything. A
        refused attempt is not counted.
        """
        now = self.clock()
        if is_postgresql(session):  # counters need no fsync: a crash may forget a few
            session.execute(text("SET LOCAL synchronous_commit = off"))
        # One global order of rows, so concurrent reservations never deadlock.
        ordered = sorted({(rule.name, key_of(key)): rule for rule, key in charges}.items())
        hits: list[_Hit] = []
        refused: list[tuple[int, Rule]] = []
        for (_name, key_hash), rule in ordered:
            start = int(now // rule.window) * rule.window
            self._add(session, rule, key_hash, start, now)
            hits.append(_Hit(rule, key_hash, start))
            current, previous = self._windows(session, rule, key_hash, start)
            wait = _over(rule, now, start, current, previous)
            if wait is not None:
                refused.append((wait, rule))
        for rule, key in watch:
            start = int(now // rule.window) * rule.window
            current, previous = self._windows(session, rule, key_of(key), start)
            wait = _over(rule, now, start, current + 1, previous)
            if wait is not None:
                refused.append((wait, rule))
        if refused:
            self._take_back(session, hits)
        session.commit()
        if refused:
            wait, rule = max(refused, key=lambda pair: pair[0])
            raise TooManyRequests(f"{rule.refusal}; try again in {wait} seconds.", retry_after=wait)
        return Reservation(tuple(hits))

    def record(self, session: Session, charges: Iterable[tuple[Rule, str]]) -> None:
        """Count one attempt for each (rule, key) after the fact (a failure), and commit."""
        now = self.clock()
        if is_postgresql(session):
            session.execute(text("SET LOCAL synchronous_commit = off"))
        for (_name, key_hash), rule in sorted(
            {(rule.name, key_of(key)): rule for rule, key in charges}.items()
        ):
            self._add(session, rule, key_hash, int(now // rule.window) * rule.window, now)
        session.commit()

    def release(self, session: Session, reservation: Reservation) -> None:
        """Take a reservation's attempts back, in the session's transaction (the caller commits)."""
        self._take_back(session, list(reservation.hits))

    def _add(self, session: Session, rule: Rule, key_hash: str, start: int, now: float) -> None:
        values = {
            "rule": rule.name,
            "key_hash": key_hash,
            "window_start": start,
            "hits": 1,
            "expires_at": start + 2 * rule.window,
        }
        insert = pg_insert if is_postgresql(session) else sqlite_insert
        statement = insert(RateLimitCounter).values(values)
        upsert = statement.on_conflict_do_update(
            index_elements=["rule", "key_hash", "window_start"],
            set_={"hits": RateLimitCounter.hits + 1},
        ).returning(RateLimitCounter.hits)
        hits = int(session.execute(upsert).scalar_one())
        if hits == 1 and secrets.randbelow(self.purge_one_in) == 0:
            self._purge(session, int(now))

    @staticmethod
    def _windows(session: Session, rule: Rule, key_hash: str, start: int) -> tuple[int, int]:
        """The hits of the window at `start` and of the one before it, in one read."""
        rows = session.execute(
            select(RateLimitCounter.window_start, RateLimitCounter.hits).where(
                RateLimitCounter.rule == rule.name,
                RateLimitCounter.key_hash == key_hash,
                RateLimitCounter.window_start.in_((start, start - rule.window)),
            )
        ).all()
        found = {window: int(hits) for window, hits in rows}
        return found.get(start, 0), found.get(start - rule.window, 0)

    @staticmethod
    def _take_back(session: Session, hits: list[_Hit]) -> None:
        for hit in hits:
            session.execute(
                update(RateLimitCounter)
                .where(
                    RateLimitCounter.rule == hit.rule.name,
                    RateLimitCounter.key_hash == hit.key_hash,
                    RateLimitCounter.window_start == hit.window_start,
                    RateLimitCounter.hits > 0,
                )
                .values(hits=RateLimitCounter.hits - 1)
                .execution_options(synchronize_session=False)
            )

    @staticmethod
    def _purge(session: Session, now: int) -> None:
        columns = (RateLimitCounter.rule, RateLimitCounter.key_hash, RateLimitCounter.window_start)
        expired = (
            select(*columns)
            .where(RateLimitCounter.expires_at < now)
            .limit(_PURGE_BATCH)
            .with_for_update(skip_locked=True)
        )
        session.execute(
            delete(RateLimitCounter)
            .where(tuple_(*columns).in_(expired))
            .execution_options(synchronize_session=False)
        )
