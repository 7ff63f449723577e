"""The FastAPI application factory: settings in, app out; one session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import make_engine, make_session_factory
from server.domain import landing
from server.errors import SocaError
from server.settings import ServerSettings


def error_body(code: str, message: str) -> dict[str, Any]:
    """The one JSON shape of every error."""
    return {"error": {"code": code, "message": message}}


def _session(request: Request) -> Iterator[Session]:
    """A unit of work per request: commit once at the end, roll back on error."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(_session)]


def create_app(settings: ServerSettings) -> FastAPI:
    """Build the app for these settings."""
    app = FastAPI(title="Soca Passport", version="0.1.0")
    engine = make_engine(settings.database_url, echo=settings.echo_sql)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)

    @app.exception_handler(SocaError)
    async def _soca_error(_request: Request, exc: SocaError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return JSONResponse(
            error_body("invalid_request", f"{where}: {first['msg']}"), status_code=422
        )

    @app.exception_handler(SQLAlchemyError)
    async def _database(_request: Request, _exc: SQLAlchemyError) -> JSONResponse:
        return JSONResponse(
            error_body("database_unavailable", "the database could not complete the request"),
            status_code=503,
        )

    @app.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/api/passport/landing-info", tags=["public"])
    def landing_info(session: DbSession) -> dict[str, int]:
        """Seed 001 §4.1: figures for the /socaport-app landing page."""
        return landing.landing_info(session)

    return app
