"""Every page router, in the order they are added to the app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server.web import (
    accounts,
    business,
    hq,
    hq_businesses,
    manage,
    offers,
    passport,
    promoter,
    public,
    reset,
)
from server.web.render import install_html_errors
from server.web.routing import add_pages

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Add the pages, their static files and HTML errors for page paths."""
    routers = (
        public,
        accounts,
        reset,
        passport,
        promoter,
        manage,
        hq,
        business,
        offers,
        hq_businesses,
    )
    add_pages(app, *(module.router for module in routers))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_html_errors(app)
