"""The crowd's pages are served in one worker-thread call each (`server.web.one_call`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from server.api import deps
from server.api.auth import route_policies
from server.web.auth import SignedInPolicy, WebPublicPolicy
from server.web.one_call import InOneCall
from server.web.pages import CROWD_PAGE_PREFIXES, CROWD_PAGES
from server.web.routing import WebPage, web_pages
from tests.server.web.conftest import login
from tests.server.web.world import WebWorld


def _crowd_pages(app: FastAPI) -> list[WebPage]:
    return [
        page
        for page in web_pages(app)
        if "GET" in page.methods
        and (page.path in CROWD_PAGES or page.path.startswith(CROWD_PAGE_PREFIXES))
        and page.path.count("/") <= 2  # /events/{event_id}, not the forms under it
    ]


def _dependency_calls(page: WebPage) -> list[Callable[..., Any] | None]:
    found: list[Callable[..., Any] | None] = []
    todo = list(page.route.dependant.dependencies)
    while todo:
        sub = todo.pop()
        found.append(sub.call)
        todo.extend(sub.dependencies)
    return found


def test_each_crowd_page_is_an_async_endpoint_with_its_policy_in_one_call(app: FastAPI) -> None:
    """No unit of work and no policy run before the page's own call: the endpoint is async,
    and its one dependency is the policy it checks inside that call."""
    pages = _crowd_pages(app)
    assert sorted(page.path for page in pages) == [
        "/events",
        "/events/{event_id}",
        "/passport",
        "/socaport-app",
    ]
    for page in pages:
        assert inspect.iscoroutinefunction(page.route.endpoint), page.path
        (policy,) = route_policies(page.route)
        assert isinstance(policy, InOneCall), page.path
        calls = _dependency_calls(page)
        assert deps._session not in calls and deps._admitted not in calls, page.path
    policies = {page.path: route_policies(page.route)[0] for page in pages}
    assert isinstance(policies["/passport"].policy, SignedInPolicy)  # type: ignore[attr-defined]
    assert isinstance(policies["/events"].policy, WebPublicPolicy)  # type: ignore[attr-defined]


@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function the app hands to a worker thread (every thread hop)."""
    calls: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        called = getattr(func, "func", func)  # run_in_threadpool hands over a partial
        calls.append(getattr(called, "__qualname__", repr(called)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return calls


def test_a_crowd_page_costs_one_thread_hop(
    client: TestClient, world: WebWorld, thread_calls: list[str]
) -> None:
    """The policy's check, the page's reads, its commit and its template: one call."""
    login(client, world.emails["attendee"])
    paths = ["/passport", "/socaport-app", "/events", f"/events/{world.event_a_id}"]
    for path in paths:
        assert client.get(path).status_code == 200, path  # warm
    for path in paths:
        thread_calls.clear()
        page = client.get(path)
        assert page.status_code == 200, path
        assert thread_calls == ["PageCall._run"], path
    thread_calls.clear()
    assert client.get("/events/manage-me").status_code == 404  # not an event id: no call
    assert thread_calls == []


def test_a_signed_out_visitor_is_sent_to_sign_in_from_inside_the_call(client: TestClient) -> None:
    page = client.get("/passport")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/passport"
