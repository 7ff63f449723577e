"""`soca-server hub`: the venue hub's app, database, link to HQ and zeroconf advertisement.

The hub is the server itself on a SQLite file in its data folder, so it
serves the kiosks' pull and push contract unchanged. Its database mirrors
only part of HQ's (no promoters, users or accounts), so foreign keys are not
enforced there: a ticket names a holder the hub has never seen. A kiosk
paired through the hub (`POST /api/v1/devices/pair` here) is paired at HQ,
and its device is recorded here at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, event

from core.wire import PairRequest, PairResponse
from server.api.auth import PolicyRoute, public
from server.app import create_app
from server.db import migrate
from server.db.models import utcnow
from server.db.session import make_engine, make_session_factory
from server.hub.link import HubLink, HubState, pair, register_device
from server.settings import ServerSettings

DATABASE_FILE = "hub.sqlite3"


def database_url(folder: Path) -> str:
    """The hub's SQLite database in its data folder."""
    return f"sqlite:///{folder / DATABASE_FILE}"


def hub_engine(url: str) -> Engine:
    """The hub's engine: one pooled connection (requests queue in order), no foreign keys."""
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=600)

    @event.listens_for(engine, "connect")
    def _partial_mirror(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    return engine


def prepare(folder: Path) -> tuple[Engine, bool]:
    """Migrate the hub's database; also whether it was new (then its cursor starts over)."""
    fresh = not (folder / DATABASE_FILE).exists()
    engine = hub_engine(database_url(folder))
    migrate.upgrade(engine)
    return engine, fresh


def build(folder: Path, state: HubState, engine: Engine) -> tuple[FastAPI, HubLink]:
    """The hub's app (the server's, with pairing forwarded to HQ) and its link to HQ."""
    settings = ServerSettings(database_url=database_url(folder))
    app = create_app(settings, engine=engine)
    link = HubLink(state, folder, make_session_factory(engine), settings)
    app.state.hub_link = link
    router = APIRouter(route_class=PolicyRoute)

    @router.post("/api/v1/devices/pair", dependencies=[public()], status_code=201)
    def pair_through_hub(body: PairRequest) -> JSONResponse:
        """Pair a kiosk at HQ through the hub; it then syncs with the hub."""
        try:
            answer = httpx.post(
                f"{state.upstream}/api/v1/devices/pair",
                json=body.model_dump(mode="json"),
                timeout=30,
            )
        except httpx.HTTPError:
            message = "The hub cannot reach Soca Passport HQ to pair; try again when it is online."
            return JSONResponse(
                {"error": {"code": "upstream_unreachable", "message": message}}, status_code=503
            )
        if answer.status_code == 201:
            paired = PairResponse.model_validate(answer.json())
            with link.factory.begin() as session:
                register_device(session, paired, body.name, utcnow())
        return JSONResponse(answer.json(), status_code=answer.status_code)

    app.include_router(router)
    # Ahead of the server's own pairing route, which would look for the code here.
    app.router.routes.insert(0, app.router.routes.pop())
    return app, link


def _served_events(link: HubLink) -> list[Any]:
    with link.factory() as session:
        return link.event_ids(session)


def default_folder() -> Path:
    """The hub's data folder when none is given (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("soca-passport", "SocaPassport")) / "hub"


def run(
    folder: Path,
    *,
    upstream: str | None,
    code: str | None,
    name: str,
    host: str,
    port: int,
    advertise: bool,
    say: Any = print,
) -> None:
    """Pair if needed, then serve the venue's kiosks until stopped."""
    import faulthandler
    import signal

    from server.hub.advertise import Advertiser, service_info
    from server.serving import run_app

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a stuck hub shows its threads
    state = HubState.load(folder)
    if state is None or (code and upstream and upstream.rstrip("/") != state.upstream):
        if not upstream or not code:
            raise RuntimeError("this hub is not paired yet: give --upstream URL and --code CODE")
        state = pair(upstream, code, name)
        state.save(folder)
        say(f"paired with {state.upstream} as hub {state.device_id}")
    engine, fresh = prepare(folder)
    if fresh and state.cursor is not None:
        state.cursor = None  # a new database: pull the whole scope again
        state.save(folder)
    app, link = build(folder, state, engine)
    link.start()
    advertiser = None
    if advertise:
        try:
            advertiser = Advertiser(
                service_info(
                    name=state.name,
                    host=host,
                    port=port,
                    device_id=state.device_id,
                    event_ids=_served_events(link),
                )
            )
            advertiser.start()
        except OSError as exc:
            say(f"not announced on the local network: {exc}")
            advertiser = None
    try:
        run_app(app, host=host, port=port, log_level="warning")
    finally:
        link.stop()
        if advertiser is not None:
            advertiser.stop()
        engine.dispose()
