"""Builders for the package and reward tests: rows made with the models, and a thread race.

`committed_sessions` is `committed_factory` for one named engine, so a test
module can have a fixture parametrized with only the engine it is about.
`race` starts N workers together, each in its own committed unit of work,
and returns what each returned or raised.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.tokens import SigningKey
from server.db.models import Event, Package, Promoter, User
from server.db.models.enums import PackageItemType, PackageStatus, PromoterStatus
from server.db.session import make_session_factory, unit_of_work
from server.domain import packages
from tests.conftest import _empty_all_tables

T = TypeVar("T")

#: A fixed "now" for tests that pass the clock in.
NOW = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: One key for the whole run; the server's real keys live in `signing_keys`.
KEY = SigningKey.generate(7)
PUBLIC_KEYS = {KEY.key_id: KEY.public_bytes()}


def _tag() -> str:
    return uuid.uuid4().hex[:10]


def make_user(session: Session, *, name: str = "Fan") -> User:
    """A user with a unique username."""
    tag = _tag()
    user = User(username=f"fan_{tag}", display_name=f"{name} {tag}")
    session.add(user)
    session.flush()
    return user


def make_promoter(session: Session) -> Promoter:
    """An APPROVED promoter."""
    promoter = Promoter(
        name="Island Fêtes",
        email=f"bookings+{_tag()}@fetes.example",
        status=PromoterStatus.APPROVED,
    )
    session.add(promoter)
    session.flush()
    return promoter


def make_event(session: Session, *, promoter: Promoter | None = None) -> Event:
    """An event a week after NOW, run by `promoter` (one is made when not given)."""
    promoter = promoter or make_promoter(session)
    event = Event(
        name=f"Soca Sunrise {_tag()}",
        starts_at=NOW + 7 * DAY,
        promoter_id=promoter.id,
        country_code="TT",
    )
    session.add(event)
    session.flush()
    return event


def vip_items() -> list[packages.ItemSpec]:
    """Entry, two 50.00 bracelets and a T-shirt."""
    return [
        packages.ItemSpec(name="Entry", type=PackageItemType.ENTRY),
        packages.ItemSpec(
            name="Bar bracelet",
            type=PackageItemType.BRACELET,
            quantity=2,
            bracelet_amount=Decimal("50.00"),
        ),
        packages.ItemSpec(name="T-shirt", type=PackageItemType.MERCHANDISE),
    ]


def make_package(
    session: Session,
    event: Event,
    *,
    price: Decimal = Decimal("80.00"),
    original_price: Decimal | None = Decimal("100.00"),
    max_quantity: int | None = 100,
    max_per_user: int | None = 2,
    status: str = PackageStatus.ACTIVE,
    sale_start_date: datetime | None = NOW - DAY,
    sale_end_date: datetime | None = NOW + DAY,
) -> Package:
    """An ACTIVE VIP package on sale around NOW, made through the service."""
    return packages.create(
        session,
        event_id=event.id,
        name="Early Bird VIP",
        price=price,
        original_price=original_price,
        max_quantity=max_quantity,
        max_per_user=max_per_user,
        status=status,
        sale_start_date=sale_start_date,
        sale_end_date=sale_end_date,
        items=vip_items(),
    )


@contextmanager
def committed_sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory that really commits on `engine`; every table is emptied around it."""
    _empty_all_tables(engine)
    try:
        yield make_session_factory(engine)
    finally:
        _empty_all_tables(engine)


def race(
    factory: sessionmaker[Session], workers: int, work: Callable[[Session, int], T]
) -> list[T | Exception]:
    """Run `work(session, i)` in `workers` threads started together; each commits its own work."""
    barrier = threading.Barrier(workers, timeout=60)
    outcomes: list[T | Exception | None] = [None] * workers

    def run(index: int) -> None:
        try:
            barrier.wait()
            with unit_of_work(factory) as session:
                outcomes[index] = work(session, index)
        except Exception as exc:  # reported to the test, which asserts on it
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker never finished"
    assert all(outcome is not None for outcome in outcomes), "a worker reported nothing"
    return [outcome for outcome in outcomes if outcome is not None]
