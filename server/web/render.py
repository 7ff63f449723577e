"""Rendering: the Jinja2 environment, the page helper, and HTML errors for page paths.

Pages and their errors are HTML; everything under `/api` keeps the one JSON
error shape. `install_html_errors` wraps the app's JSON error handlers: for
a page path the handler still runs (so logging and status stay in one
place) and its message is shown on the error page instead.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote

import jinja2
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from server.api.auth import api_routes
from server.web.auth import (
    CSRF_FIELD,
    LoginRequired,
    csrf_token,
    current_principal,
    remember_visitor,
)

HERE: Final = Path(__file__).parent
#: Templates are read once per process: checking each file's time on every render cost a
#: crowded page a stat() per template (restart the server to see an edited template).
templates: Final = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(),
        auto_reload=False,
    )
)


def compile_templates() -> int:
    """Compile every template now (once per process; later calls find them cached).

    A worker used to compile a page's templates on its first request for it:
    a quarter of a second or more of Python inside the first crowd after a
    start, paid while every phone waited. Returns how many there are.
    """
    names = templates.env.list_templates(extensions=("html",))
    for name in names:
        templates.env.get_template(name)
    return len(names)


#: Paths that are never pages: the API and its documents keep JSON errors.
_NOT_PAGES: Final = ("/api", "/docs", "/redoc", "/openapi.json")

#: A one-shot message for the next page (set by `forms.done`, shown and cleared by `render`).
FLASH_COOKIE: Final = "soca_flash"
FLASH_MAX: Final = 400

_FRIENDLY: Final = {
    403: "You don't have access to this page.",
    404: "We couldn't find that page.",
    405: "That isn't something this page does.",
}


def is_page_path(path: str, api_paths: frozenset[str] = frozenset()) -> bool:
    """True for paths answered in HTML: not the API's (`api_paths` adds those outside /api)."""
    if path in api_paths:
        return False
    return not any(path == prefix or path.startswith(prefix + "/") for prefix in _NOT_PAGES)


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a template with the visitor, their CSRF token, any flash message and the page's
    own context; the request's database work is committed first (see `release_database`)."""
    release_database(request)
    flash = unquote(request.cookies.get(FLASH_COOKIE) or "")[:FLASH_MAX]
    full = {
        "principal": current_principal(request),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "flash": flash,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, full, status_code=status)
    remember_visitor(request, response)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def release_database(request: Request) -> None:
    """Commit the request's unit of work now, handing its connection back to the pool.

    A page is rendered at the end of its handler, when its reads and writes are
    done: committing here is the unit of work's own commit, moved forward by the
    time the template takes, so no pooled connection waits on Jinja while a crowd
    queues for one. Anything the template still loads opens a new transaction,
    which the edge commits as before.
    """
    session = getattr(request.state, "db_session", None)
    if session is not None and session.in_transaction():
        session.commit()


def redirect(url: str) -> RedirectResponse:
    """See other: the answer to every successful form."""
    return RedirectResponse(url, status_code=303)


def safe_next(raw: str | None, default: str = "/passport") -> str:
    """A local path to go back to after signing in (never another site)."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return default


Handler = Callable[[Request, Any], Awaitable[Response]]
AnyHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def _html_or_json(handler: AnyHandler, api_paths: frozenset[str]) -> Handler:
    async def wrapped(request: Request, exc: Exception) -> Response:
        page = is_page_path(request.url.path, api_paths)
        if isinstance(exc, LoginRequired) and page:
            return redirect(f"/login?next={quote(exc.next_path, safe='/')}")
        answer = handler(request, exc)
        if inspect.isawaitable(answer):
            answer = await answer
        if not page:
            return answer
        try:
            message = json.loads(bytes(answer.body))["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = "Something went wrong."
        status = answer.status_code
        if status in _FRIENDLY and not isinstance(getattr(exc, "message", None), str):
            message = _FRIENDLY[status]
        request.state.db_session = None  # a failed request's work is never committed here
        retry = answer.headers.get("retry-after")
        context = {"status": status, "message": message, "retry_after": None}
        if retry is not None and status == 503 and request.method == "GET":
            context["retry_after"] = retry  # the page reloads itself then
        response = render(request, "error.html", context, status=status)
        if retry is not None:
            response.headers["retry-after"] = retry
        return response

    return wrapped


def install_html_errors(app: FastAPI) -> None:
    """Answer errors on page paths with the HTML error page (the API keeps its JSON).

    Call it after the API routers are included: their paths outside `/api`
    (such as `/health`) keep JSON errors too.
    """
    api_paths = frozenset(served.path for served in api_routes(app))
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _html_or_json(handler, api_paths)
