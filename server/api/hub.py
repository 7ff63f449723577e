"""Venue hub routes (`/api/v1/hub/...`): HQ serves a paired hub; a hub says what it is.

`GET /pull` (HUB device) pages the hub's scope as whole rows with the ops
behind them (`server.hub.replica`), waiting like a kiosk's pull with `wait`;
`POST /relay` (HUB device) decides the doors' ops the hub forwards, each as
its own device's push (`server.hub.relay`); `GET /info` (public) tells a
kiosk whether this server is a venue hub and for which events.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from core import limits
from core.wire import HeldRequest, HeldResponse
from server.api.auth import DEVICE_ROLES, PolicyRoute, Principal, Role, allow, public
from server.api.deps import AppSettings, DbSession
from server.api.schemas import example_response
from server.db.models import utcnow
from server.hub import mirror, relay, replica
from server.hub.wire import HubInfo, RelayRequest, RelayResponse
from server.sync import waiting

router = APIRouter(prefix="/api/v1/hub", tags=["hub"], route_class=PolicyRoute)
RELAY_PATH = "/api/v1/hub/relay"
_EVENT_ID = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
_DEVICE_ID = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
_PAGE_EXAMPLE = {
    "cursor": "42",
    "more": False,
    "server_time": "2026-02-14T21:05:00Z",
    "keys": [{"key_id": 1, "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}],
    "devices": [{"id": _DEVICE_ID, "name": "Gate A tablet", "role": "DOOR"}],
    "rows": {"events": [{"id": _EVENT_ID, "name": "Soca Brainwash Tonight"}]},
    "deleted": {},
    "ops": [],
}
_RELAY_EXAMPLE = {
    "server_time": "2026-02-14T21:05:01Z",
    "batches": [{"device_id": _DEVICE_ID, "results": [], "refused": None}],
}
_OP_A = "5b0e6a7c-1d2e-4f3a-9b8c-7d6e5f4a3b2c"
_OP_B = "6c1f7b8d-2e3f-4a5b-8c9d-0e1f2a3b4c5d"
_INFO_EXAMPLE = {"hub": True, "device_id": _DEVICE_ID, "event_ids": [_EVENT_ID]}


@router.get("/pull", responses={200: example_response(_PAGE_EXAMPLE)})
async def hub_pull(
    request: Request,
    session: DbSession,
    caller: Annotated[Principal, allow(Role.HUB_DEVICE)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=replica.MAX_PAGE)] = replica.DEFAULT_PAGE,
    wait: Annotated[
        float,
        Query(
            ge=limits.PULL_WAIT_SECONDS.minimum,
            le=limits.PULL_WAIT_SECONDS.maximum,
            allow_inf_nan=False,
        ),
    ] = 0,
) -> Response:
    """One page of the hub's scope after `cursor`: rows, devices, keys, and the ops behind them."""
    hub = caller.device
    assert hub is not None
    if wait > 0:
        await run_in_threadpool(session.commit)
        await waiting.until_changed(
            request.app.state.session_factory, device_id=hub.id, cursor=cursor, seconds=wait
        )
    found = await run_in_threadpool(
        lambda: replica.page(session, hub=hub, cursor=cursor, limit=limit, now=utcnow())
    )
    return Response(content=found.model_dump_json(), media_type="application/json")


@router.post("/relay", responses={200: example_response(_RELAY_EXAMPLE)})
async def hub_relay(
    session: DbSession,
    settings: AppSettings,
    caller: Annotated[Principal, allow(Role.HUB_DEVICE)],
    body: RelayRequest,
) -> Response:
    """Decide the ops a hub relays, each device's as that device's own push."""
    hub = caller.device
    assert hub is not None
    answer: RelayResponse = await run_in_threadpool(
        lambda: relay.relay(session, hub=hub, request=body, now=utcnow(), settings=settings)
    )
    return Response(content=answer.model_dump_json(), media_type="application/json")


@router.post(
    "/held",
    responses={200: example_response({"relayed": [_DEVICE_ID], "held": [], "unknown": []})},
)
def held(
    request: Request,
    session: DbSession,
    caller: Annotated[Principal, allow(*DEVICE_ROLES)],
    body: Annotated[
        HeldRequest,
        Body(openapi_examples={"ops": {"summary": "Two ops", "value": {"op_ids": [_OP_A, _OP_B]}}}),
    ],
) -> HeldResponse:
    """Where ops this device sent stand: at HQ, held by this hub, or unknown here."""
    assert caller.device is not None
    is_hub = getattr(request.app.state, "hub_link", None) is not None
    return mirror.held_state(session, device_id=caller.device.id, op_ids=body.op_ids, is_hub=is_hub)


@router.get("/info", dependencies=[public()], responses={200: example_response(_INFO_EXAMPLE)})
def hub_info(request: Request, session: DbSession) -> dict[str, Any]:
    """Whether this server is a venue hub and, if so, for which events (kiosks discover it)."""
    link = getattr(request.app.state, "hub_link", None)
    # The request's own session: a hub serves from one connection, which the caller's
    # token lookup already holds.
    info: HubInfo = link.info(session) if link is not None else HubInfo(hub=False)
    return info.model_dump(mode="json")
