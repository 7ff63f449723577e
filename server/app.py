"""The FastAPI application factory: settings in, app out; one session per request.

Errors are rendered here and only here, always as
`{"error": {"code", "message"}}` (plus `fields` for per-field problems):
`SocaError` with its own status, validation errors as 422, the framework's
own HTTP errors (unknown path, wrong method) with their status, database
failures as 503 (a request that waited out the pool, or the admission
gate, with `Retry-After`), and anything unexpected as 500 `internal_error` — its
traceback goes to the server log, never to the client.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from core import limits
from core.errors import CoreError
from server.api import (
    billing,
    branch_manager,
    branches,
    businesses,
    devices,
    events,
    hub,
    integrations,
    login,
    memberships,
    meta,
    offers,
    packages,
    passports,
    promoters,
    purchases,
    rewards,
    sync,
    tickets,
    tiers,
    users,
    wallet,
    wallet_apple,
)
from server.api.admission import Admission, Busy, retry_after_for
from server.api.auth import PolicyRoute
from server.api.bodyguard import BodyGuard, BodyRefused
from server.api.deps import DbSession
from server.api.errors import HttpError, code_for_status
from server.api.ratelimit import RateLimiter, Rules
from server.db.models import utcnow
from server.db.session import make_engine, make_session_factory
from server.domain.landing import LandingFigures
from server.domain.passport import shown_point_tiers
from server.domain.promoters import FieldErrors
from server.errors import SocaError
from server.headers import SecurityHeaders
from server.settings import ServerSettings
from server.wallet.runtime import load_wallets
from server.web import pages as web_pages

__all__ = ["DbSession", "create_app", "error_body"]

logger = logging.getLogger("server.api")

ROUTERS = (
    meta.router,
    passports.router,
    login.router,
    devices.router,
    sync.router,
    hub.router,
    branch_manager.router,
    offers.router,
    packages.router,
    purchases.router,
    rewards.router,
    integrations.router,
    promoters.router,
    events.router,
    billing.router,
    tickets.router,
    tiers.router,
    memberships.router,
    businesses.router,
    branches.router,
    users.router,
    wallet.router,
    wallet_apple.router,
)


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """The one JSON shape of every error."""
    inner: dict[str, Any] = {"code": code, "message": message}
    if fields:
        inner["fields"] = fields
    return {"error": inner}


def database_failure(exc: SQLAlchemyError) -> str:
    """A database error for the log without the values it touched, and where it happened.

    The engines hide bound parameters (`hide_parameters`), but PostgreSQL's
    DETAIL lines quote the failing row or key ("Failing row contains (...)"),
    so only the SQLSTATE, the primary message and the statement (with
    placeholders) are kept, then the traceback's frames without its message.
    """
    original = getattr(exc, "orig", None)
    diagnostics = getattr(original, "diag", None)
    primary = getattr(diagnostics, "message_primary", None)
    if original is None:
        described = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    elif primary is not None:  # psycopg: the message without DETAIL or HINT
        described = f"{type(original).__name__} [{getattr(original, 'sqlstate', '')}]: {primary}"
    else:  # sqlite3 names the constraint and column, never the values
        described = f"{type(original).__name__}: {str(original).splitlines()[0]}"
    statement = getattr(exc, "statement", None)
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{described}\n[SQL: {statement}]\n{frames}" if statement else f"{described}\n{frames}"


def _where(loc: Any) -> str:
    return ".".join(str(part) for part in loc)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SocaError)
    async def _soca_error(_request: Request, exc: SocaError) -> JSONResponse:
        fields = exc.fields if isinstance(exc, FieldErrors) else None
        headers = exc.headers if isinstance(exc, HttpError) else None
        return JSONResponse(
            error_body(exc.code, exc.message, fields), status_code=exc.status, headers=headers
        )

    @app.exception_handler(CoreError)
    async def _core_error(_request: Request, exc: CoreError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"msg": "invalid request", "loc": ()}
        fields = {_where(error.get("loc", ())): str(error.get("msg")) for error in errors}
        return JSONResponse(
            error_body(
                "invalid_request", f"{_where(first.get('loc', ()))}: {first['msg']}", fields
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, BodyRefused):
            body = error_body(exc.code, exc.message, exc.fields)
        else:
            body = error_body(code_for_status(exc.status_code), str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        logger.warning("no database connection in time for %s %s", request.method, request.url.path)
        wait = request.app.state.settings.db_pool_timeout
        busy = Busy(retry_after_for(wait))
        return JSONResponse(
            error_body(busy.code, busy.message), status_code=busy.status, headers=busy.headers
        )

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        logger.error(
            "database error on %s %s: %s", request.method, request.url.path, database_failure(exc)
        )
        return JSONResponse(
            error_body("database_unavailable", "the database could not complete the request"),
            status_code=503,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "something went wrong on the server; it has been logged"),
            status_code=500,
        )


class SocaApp(FastAPI):
    """The FastAPI app with `SecurityHeaders` outermost, so every response has them (500s too)."""

    def build_middleware_stack(self) -> ASGIApp:
        """The usual stack, with a browser's concurrent reloads of a crowd page joined, wrapped
        in the security headers (which each copy of a joined answer gets as well)."""
        shared = self.state.settings.join_folder
        return SecurityHeaders(web_pages.coalesced(super().build_middleware_stack(), shared))


def _serving_engine(settings: ServerSettings) -> Engine:
    """The engine a served app builds for itself.

    SQLite admits one writer at a time and its busy handler polls rather than
    queues, so under many concurrent pushes an unlucky request can wait out any
    timeout. Serving from one pooled connection makes requests queue in order
    in the process instead (every transaction takes the write lock anyway).
    """
    if settings.is_sqlite:
        return make_engine(
            settings.database_url,
            echo=settings.echo_sql,
            pool_size=1,
            max_overflow=0,
            pool_timeout=600,
        )
    return make_engine(
        settings.database_url,
        echo=settings.echo_sql,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_overflow,
        pool_timeout=settings.db_pool_timeout,
    )


def _admission(settings: ServerSettings, engine: Engine) -> Admission:
    """The gate in front of the pool: SOCA_DB_CONCURRENCY slots, never more than the pool's
    connections (no gate on SQLite, whose one pooled connection queues requests in order
    on purpose)."""
    sqlite = engine.dialect.name == "sqlite"
    connections = settings.db_pool_size + settings.db_pool_overflow
    capacity = None if sqlite else min(settings.db_concurrency, connections)
    return Admission(capacity, settings.db_pool_timeout)


def create_app(settings: ServerSettings, engine: Engine | None = None) -> FastAPI:
    """Build the app for these settings (with `engine`, the caller owns and disposes it)."""
    owned = engine is None
    wallets = load_wallets(settings, now=utcnow())  # a broken wallet setup stops start-up here
    db_engine = engine if engine is not None else _serving_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        wallets.close()
        if owned:
            db_engine.dispose()

    app = SocaApp(
        title="Soca Passport",
        version="0.1.0",
        description=(
            "Sync server and API of Soca Passport. Send `Authorization: Bearer <token>`. "
            "Each operation's `x-soca-policy` names who may call it. Every error is "
            '`{"error": {"code", "message"}}`.'
        ),
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyGuard,
        max_bytes=limits.JSON_BODY_BYTES,
        path_max_bytes={sync.PUSH_PATH: sync.MAX_PUSH_BYTES, hub.RELAY_PATH: sync.MAX_PUSH_BYTES},
        nul_allowed={sync.PUSH_PATH, hub.RELAY_PATH},
    )
    app.router.route_class = PolicyRoute
    app.state.settings = settings
    app.state.engine = db_engine
    app.state.wallets = wallets
    app.state.session_factory = make_session_factory(db_engine)
    app.state.admission = _admission(settings, db_engine)
    app.state.landing = LandingFigures()
    app.state.point_tiers = shown_point_tiers()
    app.state.rate_limiter = RateLimiter(Rules.from_settings(settings))
    _install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    web_pages.install(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for `SOCA_*` environment settings: the factory each worker process calls."""
    return create_app(ServerSettings())
