"""The page index finds the page the full walk of the app's routes would, and leaves every
other request (the API, 404, 405, slash redirects) to the routes as before; the app is built
with its templates compiled."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse
from starlette.routing import Match
from starlette.testclient import TestClient

from server.web.render import compile_templates, templates
from server.web.routing import PageIndex, add_pages, page_router, web_pages


def _router(*paths: str) -> APIRouter:
    router = page_router()
    for path in paths:

        def endpoint(path: str = path) -> PlainTextResponse:
            return PlainTextResponse(path)

        router.add_api_route(path, endpoint)
    return router


def _app(*paths: str) -> FastAPI:
    app = FastAPI()
    api = APIRouter()

    @api.get("/api/v1/things")
    def things() -> dict[str, str]:
        return {"from": "api"}

    app.include_router(api)
    add_pages(app, _router(*paths))
    return app


def test_the_index_comes_first_and_serves_the_first_page_of_a_path_in_order() -> None:
    app = _app("/promoter/events/new", "/promoter/events/{event_id}", "/passport")
    assert isinstance(app.router.routes[0], PageIndex)
    client = TestClient(app)
    assert client.get("/promoter/events/new").text == "/promoter/events/new"
    assert client.get("/promoter/events/e1").text == "/promoter/events/{event_id}"
    assert client.get("/passport").text == "/passport"
    assert client.get("/api/v1/things").json() == {"from": "api"}
    assert [page.path for page in web_pages(app)] == [
        "/promoter/events/new",
        "/promoter/events/{event_id}",
        "/passport",
    ]


def test_other_requests_are_answered_as_without_the_index() -> None:
    client = TestClient(_app("/passport"), follow_redirects=False)
    assert client.post("/passport").status_code == 405  # the page, another method
    assert client.get("/passports").status_code == 404
    assert client.get("/passport/").headers["location"].endswith("/passport")
    assert client.get("/api/v1/nothing").status_code == 404


def test_the_index_builds_page_urls_by_name() -> None:
    app = _app("/promoter/events/{event_id}")
    assert app.url_path_for("endpoint", event_id="e1") == "/promoter/events/e1"


def test_a_scope_that_is_not_http_matches_no_page() -> None:
    index = PageIndex(web_pages(_app("/passport")))
    assert index.matches({"type": "websocket", "path": "/passport"}) == (Match.NONE, {})


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/api/v1/page", "share first segments"),
        ("/docs/page", "share first segments"),
        ("/{slug}", "fixed segment"),
    ],
)
def test_a_page_the_index_could_not_place_is_refused(path: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        _app(path)


def test_the_served_app_finds_every_page_it_serves(app: FastAPI) -> None:
    pages = web_pages(app)
    assert len(pages) > 50
    index = app.router.routes[0]
    assert isinstance(index, PageIndex)
    for page in pages:
        concrete = page.path.replace("{", "").replace("}", "")
        scope = {"type": "http", "path": concrete, "method": next(iter(page.methods))}
        match, child = index.matches({**scope, "root_path": ""})
        assert match == Match.FULL, page.path
        walked = next(
            route for route in pages if route.matches({**scope, "root_path": ""})[0] == Match.FULL
        )
        assert child["soca.page"] is walked


def test_every_template_is_compiled_before_the_first_request(app: FastAPI) -> None:
    """Built into the app, so no crowd's first page waits on Jinja's compiler."""
    names = set(templates.env.list_templates(extensions=("html",)))
    compiled = {name for _loader, name in templates.env.cache}
    assert "passport.html" in names
    assert names <= compiled
    assert compile_templates() == len(names)
