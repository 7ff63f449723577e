"""Page routes: FastAPI routes (dependencies, policies) that stay out of the OpenAPI document.

A page is a `PolicyRoute` wrapped in `WebPage`, which is not an `APIRoute`:
the API's OpenAPI document and its schema tests describe JSON operations
only, while `web_pages(app)` lets the web tests walk every page and check its
declared policy with the same `route_policies` the API uses.

The pages are served through one `PageIndex`, first in the app's routes,
which finds a page by its path's first segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path  # the path Starlette's own routes match on
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from server.api.auth import PolicyRoute, api_routes

#: Where `PageIndex.matches` leaves the page it found, for `PageIndex.handle`.
_FOUND: Final = "soca.page"


class WebPage(BaseRoute):
    """An HTML page: matches and runs exactly like the route it wraps."""

    def __init__(self, route: APIRoute) -> None:
        self.route = route

    @property
    def path(self) -> str:
        """The page's path template."""
        return self.route.path

    @property
    def methods(self) -> set[str]:
        """The page's HTTP methods."""
        return set(self.route.methods or ())

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match like the wrapped route."""
        return self.route.matches(scope)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """Build a URL like the wrapped route."""
        return self.route.url_path_for(name, **path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve like the wrapped route."""
        await self.route.handle(scope, receive, send)


def page_router() -> APIRouter:
    """A router whose routes declare policies the way the API's do."""
    return APIRouter(route_class=PolicyRoute, include_in_schema=False)


def first_segment(path: str) -> str:
    """A path's first segment: "passport" for "/passport/rewards/{id}/use"."""
    return path.split("/", 2)[1] if path.startswith("/") else ""


class PageIndex(BaseRoute):
    """Every page, found by its path's first segment rather than by trying every route.

    FastAPI tries an app's routes in turn, and a page came after the API's 23
    routers: matching /passport cost 0.4 ms of Python on this host, on every
    page request. The index sits first in the app's routes and tries only the
    pages whose first segment is the request's, in the pages' own order, so
    it chooses the page the full walk would (`add_pages` checks that no API
    path shares a page's first segment). A request for no page falls through
    to the other routes as before, so 404s, 405s and slash redirects are
    answered exactly as they were.
    """

    def __init__(self, pages: Sequence[WebPage]) -> None:
        self.pages = list(pages)
        self._by_segment: dict[str, list[WebPage]] = {}
        for page in self.pages:
            segment = first_segment(page.path)
            if not segment or "{" in segment:
                raise ValueError(f"a page path must start with a fixed segment: {page.path}")
            self._by_segment.setdefault(segment, []).append(page)

    def segments(self) -> frozenset[str]:
        """The first segments of the pages' paths."""
        return frozenset(self._by_segment)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """The first page matching path and method (FULL), else the first matching the path."""
        if scope["type"] != "http":
            return Match.NONE, {}
        partial: tuple[WebPage, Scope] | None = None
        for page in self._by_segment.get(first_segment(get_route_path(scope)), ()):
            match, child = page.matches(scope)
            if match == Match.FULL:
                return Match.FULL, {**child, _FOUND: page}
            if match == Match.PARTIAL and partial is None:
                partial = (page, child)
        if partial is None:
            return Match.NONE, {}
        return Match.PARTIAL, {**partial[1], _FOUND: partial[0]}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """Build a page's URL by its route name."""
        for page in self.pages:
            try:
                return page.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the page `matches` found."""
        page: WebPage = scope[_FOUND]
        await page.handle(scope, receive, send)


def add_pages(app: FastAPI, *routers: APIRouter) -> None:
    """Serve every route of these routers as a page, through one `PageIndex` ahead of the API.

    Call it once, after the API routers are included: it refuses a page whose
    first path segment a route already there also starts with (the API's
    "api" and "health", FastAPI's "docs"), which the index would otherwise
    answer first.
    """
    pages = []
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"a page router holds a non-page route: {route!r}")
            pages.append(WebPage(route))
    index = PageIndex(pages)
    ahead = [served.path for served in api_routes(app)] + [
        route.path for route in app.router.routes if isinstance(route, Route)
    ]
    shared = index.segments() & {first_segment(path) for path in ahead}
    if shared:
        raise ValueError(f"pages and API paths share first segments: {sorted(shared)}")
    app.router.routes.insert(0, index)


def web_pages(app: FastAPI) -> list[WebPage]:
    """Every page the app serves."""
    return [
        page for route in app.router.routes if isinstance(route, PageIndex) for page in route.pages
    ]
