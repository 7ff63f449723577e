"""Engines from `make_engine`: the connection settings the app relies on."""

from __future__ import annotations

from sqlalchemy import text

from server.db.session import RANDOM_PAGE_COST, make_engine
from tests.conftest import postgres_url


def test_every_postgresql_connection_prices_random_reads_for_memory() -> None:
    """Set once per connection, and kept after a rollback and when the pool hands it out again."""
    engine = make_engine(postgres_url(), pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW random_page_cost")).scalar() == "1.1"
            connection.rollback()
            assert connection.execute(text("SHOW random_page_cost")).scalar() == "1.1"
        with engine.connect() as connection:
            assert float(connection.execute(text("SHOW random_page_cost")).scalar_one()) == (
                RANDOM_PAGE_COST
            )
            assert connection.execute(text("SHOW seq_page_cost")).scalar() == "1"
    finally:
        engine.dispose()
