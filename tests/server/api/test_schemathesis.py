"""schemathesis against the app's own OpenAPI schema: no 5xx and no response outside the schema.

Generated requests go to every operation with an HQ token (the role that may
call most routes) on a world with real rows, so paths with real ids and
random ones are both exercised. SQLite only: the point is the HTTP contract,
and the PostgreSQL behaviour of every route is covered by the API suite.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import delete, insert, select

from server.db.models import PassportTier
from server.db.session import make_session_factory
from tests.conftest import _Databases
from tests.server.api.conftest import empty_tables, make_app
from tests.server.api.world import build_world

EXAMPLES_PER_OPERATION = 25


def test_no_server_error_and_every_response_fits_the_schema(databases: _Databases) -> None:
    engine = databases.engine("sqlite")
    empty_tables(engine)
    world = build_world(make_session_factory(engine))
    schema = schemathesis.openapi.from_asgi("/openapi.json", make_app(engine))
    headers = {"Authorization": f"Bearer {world.tokens['hq']}"}
    checked = []
    # Fuzzed PUT /api/v1/tiers calls replace the tier set: put it back afterwards.
    with engine.connect() as connection:
        saved_tiers = connection.execute(select(PassportTier.__table__)).mappings().all()
    try:
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case: schemathesis.Case) -> None:
                case.call_and_validate(
                    headers=headers, checks=[not_a_server_error, response_schema_conformance]
                )

            exercise()
            checked.append(operation.label)
    finally:
        empty_tables(engine)
        with engine.begin() as connection:
            connection.execute(delete(PassportTier.__table__))
            connection.execute(insert(PassportTier.__table__), [dict(row) for row in saved_tiers])
    assert len(checked) >= 40, checked
