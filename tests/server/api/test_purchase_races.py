"""Purchases and spend raced over real HTTP on PostgreSQL (issue 18).

Thirty attendees buy the last five units at the same moment: exactly five
purchases, the others PACKAGE_SOLD_OUT. One attendee sends ten purchases at
once of a package limited to one per person: exactly one. A bar system sends
the same batch five times at once: every transaction recorded once, every
reward earned once. The app runs behind uvicorn (port 18142) with ten
database connections, as a small deployment has.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server.db.models import Package, PackagePurchase, RewardRedemption, SpendTransaction
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.domain import accounts, event_rewards, integrations, packages
from tests.conftest import _Databases, postgres_url
from tests.server.api.conftest import empty_tables, make_app
from tests.server.domain._world_packages import make_event, make_user

PORT = 18142
T = TypeVar("T")


@contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{PORT}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def pg(databases: _Databases) -> Iterator[tuple[Engine, str]]:
    """The suite's PostgreSQL engine (emptied) and the URL of the app served over it."""
    suite = databases.engine("postgresql")
    empty_tables(suite)
    engine = make_engine(
        postgres_url(),
        connect_args={"options": f"-csearch_path={databases.schema}"},
        pool_size=10,
        max_overflow=0,
    )
    try:
        with _served(make_app(engine)) as base_url:
            yield suite, base_url
    finally:
        engine.dispose()
        empty_tables(suite)


def _all_at_once(count: int, work: Callable[[int], T]) -> list[T]:
    ready = threading.Barrier(count, timeout=60)

    def run(index: int) -> T:
        ready.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _buy(base_url: str, package_id: Any, token: str) -> tuple[int, str]:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        answer = client.post(
            f"/api/v1/packages/{package_id}/purchases",
            json={"payment": "cash"},
            headers={"Authorization": f"Bearer {token}"},
        )
        code = answer.json().get("error", {}).get("code", "") if answer.status_code >= 400 else ""
        return answer.status_code, code


def _package(session: Session, **fields: Any) -> tuple[Any, Any]:
    event = make_event(session)
    package = packages.create(
        session, event_id=event.id, name="VIP", price=Decimal("95"), status="ACTIVE", **fields
    )
    return event, package.id


def test_thirty_attendees_buying_the_last_five_get_exactly_five(
    pg: tuple[Engine, str],
) -> None:
    suite, base_url = pg
    with unit_of_work(make_session_factory(suite)) as session:
        _event, package_id = _package(session, max_quantity=5, max_per_user=1)
        tokens = [
            accounts.issue_api_token(session, user_id=make_user(session).id) for _ in range(30)
        ]
    answers = _all_at_once(30, lambda i: _buy(base_url, package_id, tokens[i]))
    assert sorted(answers) == [(201, "")] * 5 + [(409, "PACKAGE_SOLD_OUT")] * 25, answers
    with unit_of_work(make_session_factory(suite)) as session:
        package = session.get_one(Package, package_id)
        assert (package.sold_quantity, package.status) == (5, "SOLD_OUT")
        bought = select(func.count()).select_from(PackagePurchase)
        assert session.scalar(bought.where(PackagePurchase.package_id == package_id)) == 5


def test_one_attendee_sending_ten_purchases_at_once_gets_one(pg: tuple[Engine, str]) -> None:
    suite, base_url = pg
    with unit_of_work(make_session_factory(suite)) as session:
        _event, package_id = _package(session, max_quantity=100, max_per_user=1)
        token = accounts.issue_api_token(session, user_id=make_user(session).id)
    answers = _all_at_once(10, lambda _i: _buy(base_url, package_id, token))
    assert sorted(answers) == [(201, "")] + [(409, "PACKAGE_MAX_PER_USER_EXCEEDED")] * 9, answers
    with unit_of_work(make_session_factory(suite)) as session:
        assert session.get_one(Package, package_id).sold_quantity == 1
        assert session.scalar(select(func.count()).select_from(PackagePurchase)) == 1


def test_the_same_spend_batch_sent_five_times_at_once_counts_once(
    pg: tuple[Engine, str],
) -> None:
    suite, base_url = pg
    with unit_of_work(make_session_factory(suite)) as session:
        event = make_event(session)
        event_rewards.create(
            session,
            event_id=event.id,
            name="Spend 100, get 10",
            trigger_type="MINIMUM_SPEND",
            minimum_spend=Decimal("100"),
            reward_type="RECHARGE",
            reward_amount=Decimal("10"),
            status="ACTIVE",
            max_total_redemptions=15,
        )
        users = [str(make_user(session).id) for _ in range(20)]
        token = integrations.create(session, event_id=event.id, name="Bar").token
    batch = {
        "transactions": [
            {
                "external_id": f"pos-{index}",
                "user_id": users[index % 20],
                "amount": "60.00",
                "currency": "EUR",
                "occurred_at": f"2026-02-14T23:{index % 60:02d}:00Z",
            }
            for index in range(40)
        ]
    }

    def send(_index: int) -> dict[str, Any]:
        with httpx.Client(base_url=base_url, timeout=120) as client:
            answer = client.post(
                "/api/v1/integrations/spend",
                json=batch,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

    answers = _all_at_once(5, send)
    assert sorted(answer["recorded"] for answer in answers) == [0, 0, 0, 0, 40]
    firsts = [[r["id"] for r in res["redemptions"]] for res in answers[0]["results"]]
    assert all(
        [[r["id"] for r in res["redemptions"]] for res in answer["results"]] == firsts
        for answer in answers
    )
    with unit_of_work(make_session_factory(suite)) as session:
        assert session.scalar(select(func.count()).select_from(SpendTransaction)) == 40
        # 20 users × 120.00 each: one redemption each, but the reward stops at 15.
        assert session.scalar(select(func.count()).select_from(RewardRedemption)) == 15
