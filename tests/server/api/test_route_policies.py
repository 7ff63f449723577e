"""Every route declares who may call it, through the one mechanism, and documents itself.

`policy_problems` walks the app's routes (included routers flattened): a
route must declare exactly one policy (`allow(...)` or `public()`), and the
OpenAPI operation must record that same policy as `x-soca-policy`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from server.api.auth import POLICY_KEY, PUBLIC, PolicyRoute, api_routes, public, route_policies
from server.app import create_app
from server.settings import ServerSettings


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app; these tests only read its routes and schema (the database is never opened)."""
    folder: Path = tmp_path_factory.mktemp("policies")
    built = create_app(ServerSettings(database_url=f"sqlite:///{folder / 'unused.sqlite3'}"))
    yield built
    built.state.engine.dispose()


def policy_problems(app: FastAPI) -> list[str]:
    """Each route without exactly one declared policy, or whose OpenAPI record disagrees."""
    problems = []
    for served in api_routes(app):
        route = served.route
        where = f"{'/'.join(sorted(served.methods))} {served.path}"
        found = route_policies(route)
        if len(found) != 1:
            problems.append(
                f"{where}: {len(found)} policies; declare exactly one (allow(...) or public())"
            )
        elif (route.openapi_extra or {}).get(POLICY_KEY) != list(found[0].names):
            problems.append(f"{where}: OpenAPI {POLICY_KEY} does not match the declared policy")
    return problems


def test_every_route_declares_exactly_one_policy(app: FastAPI) -> None:
    assert api_routes(app), "no routes found: the walk is broken"
    assert policy_problems(app) == []


def test_a_route_without_a_policy_is_caught() -> None:
    router = APIRouter(route_class=PolicyRoute)

    @router.get("/naked")
    def naked() -> dict[str, str]:
        return {}

    @router.get("/twice", dependencies=[public(), public()])
    def twice() -> dict[str, str]:
        return {}

    app = FastAPI()
    app.include_router(router, prefix="/api")
    problems = policy_problems(app)
    assert len(problems) == 2
    assert problems[0].startswith("GET /api/naked: 0 policies")
    assert problems[1].startswith("GET /api/twice: 2 policies")


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    paths = app.openapi()["paths"]
    return [(method, path, op) for path, ops in paths.items() for method, op in ops.items()]


def test_every_openapi_operation_records_its_policy_and_security(app: FastAPI) -> None:
    operations = _operations(app)
    assert len(operations) == sum(len(route.methods) for route in api_routes(app))
    for method, path, op in operations:
        policy = op.get(POLICY_KEY)
        assert policy, f"{method} {path} has no {POLICY_KEY}"
        secured = bool(op.get("security"))
        assert secured == (policy != [PUBLIC]), f"{method} {path}: security vs {policy}"


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if schema.get("type") == "array" and "items" in schema:
        return _resolve(schema["items"], components)
    return schema


def _documents_example(content: dict[str, Any], components: dict[str, Any]) -> bool:
    if not content:
        return True  # a body-less answer by design (response_class=Response): nothing to show
    if "application/json" not in content:  # a file (a wallet pass, an image): its type says it
        return all(media.get("schema", {}).get("format") == "binary" for media in content.values())
    media = content.get("application/json", {})
    if "example" in media or "examples" in media:
        return True
    return "examples" in _resolve(media.get("schema", {}), components)


def test_every_operation_documents_examples(app: FastAPI) -> None:
    components = app.openapi()["components"]["schemas"]
    missing = []
    for method, path, op in _operations(app):
        body = op.get("requestBody")
        if body is not None and not _documents_example(body["content"], components):
            missing.append(f"{method} {path}: request body")
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        for code, response in ok.items():
            if code != "204" and not _documents_example(response.get("content", {}), components):
                missing.append(f"{method} {path}: {code} response")
    assert missing == []
