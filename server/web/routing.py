"""Page routes: FastAPI routes (dependencies, policies) that stay out of the OpenAPI document.

A page is a `PolicyRoute` wrapped in `WebPage`, which is not an `APIRoute`:
the API's OpenAPI document and its schema tests describe JSON operations
only, while `web_pages(app)` lets the web tests walk every page and check its
declared policy with the same `route_policies` the API uses.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from server.api.auth import PolicyRoute


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


def add_pages(app: FastAPI, *routers: APIRouter) -> None:
    """Add every route of these routers to the app as pages."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"a page router holds a non-page route: {route!r}")
            app.router.routes.append(WebPage(route))


def web_pages(app: FastAPI) -> list[WebPage]:
    """Every page the app serves."""
    return [route for route in app.router.routes if isinstance(route, WebPage)]
