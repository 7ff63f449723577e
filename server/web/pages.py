"""Every page router, in the order they are added to the app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from server.web import (
    accounts,
    apply,
    business,
    hq,
    hq_businesses,
    hq_devices,
    hq_tiers,
    manage,
    manage_rewards,
    offers,
    passport,
    promoter,
    promoter_devices,
    promoter_events,
    promoter_tickets,
    public,
    reset,
    sales,
    sales_manage,
    wording,
)
from server.web.auth import SESSION_COOKIE
from server.web.coalesce import Coalesce
from server.web.render import compile_templates, install_html_errors, templates
from server.web.routing import add_pages

STATIC = Path(__file__).parent / "static"
#: Pages a crowd reloads at once (the end of a fête), whose concurrent reloads by one
#: signed-in browser share one answer (`server.web.coalesce`).
CROWD_PAGES = ("/passport", "/socaport-app", "/events")
CROWD_PAGE_PREFIXES = ("/events/",)


def coalesced(app: ASGIApp, shared_folder: Path | None = None) -> ASGIApp:
    """`app` with a signed-in browser's concurrent reloads of the crowd's pages joined
    (across the worker processes that share `shared_folder`)."""
    return Coalesce(
        app,
        session_cookie=SESSION_COOKIE,
        paths=CROWD_PAGES,
        prefixes=CROWD_PAGE_PREFIXES,
        shared_folder=shared_folder,
    )


def install(app: FastAPI) -> None:
    """Add the pages, their static files and HTML errors for page paths."""
    wording.register(templates.env)
    routers = (
        public,
        apply,
        accounts,
        reset,
        passport,
        promoter_events,  # before `promoter`: /promoter/events/new is not an event id
        promoter,
        promoter_tickets,
        promoter_devices,
        manage,
        manage_rewards,
        hq,
        hq_devices,
        hq_tiers,
        business,
        offers,
        hq_businesses,
        sales,
        sales_manage,
    )
    add_pages(app, *(module.router for module in routers))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_html_errors(app)
    compile_templates()  # after `wording` registers the filters the templates use
