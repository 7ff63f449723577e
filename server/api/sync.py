"""Sync routes: kiosks pull pages and push outbox batches; HQ reads ops and conflicts.

A push body is read and parsed here, before pydantic sees it, so that an
oversized batch is refused with 413 and a plain message instead of a
thousand validation errors: over `MAX_PUSH_BYTES` → 413 `body_too_large`;
not JSON → 400 `bad_json`; more than 1000 ops → 413 `too_many_ops`; an
envelope that does not match `core.wire.PushRequest` → 422. The sync logic
itself lives in `server.sync`.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from core import limits
from core.wire import MAX_OPS_PER_PUSH, PullResponse, PushRequest, PushResponse
from server.api.auth import DEVICE_ROLES, PolicyRoute, Principal, Role, allow
from server.api.deps import AppSettings, DbSession
from server.api.errors import BadJson, BodyTooLarge, TooManyOps
from server.api.schemas import example_response
from server.db.models import utcnow
from server.sync import pull, push, views, waiting

router = APIRouter(prefix="/api/v1/sync", tags=["sync"], route_class=PolicyRoute)

#: 1000 ops of the largest QR (7089 characters) and their envelopes fit well inside this.
MAX_PUSH_BYTES = 16 * 1024 * 1024
PUSH_PATH = "/api/v1/sync/push"

_OP_EXAMPLE = {
    "op_id": "5b0e6a7c-1d2e-4f3a-9b8c-7d6e5f4a3b2c",
    "seq": 41,
    "type": "ticket.scan",
    "occurred_at": "2026-02-14T21:03:00.120Z",
    "device_clock": "2026-02-14T21:03:01.020Z",
    "payload": {
        "qr": "1" + "0" * 20,
        "event_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
        "gate": "A",
    },
}
_PUSH_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": f"`core.wire.PushRequest`: at most {MAX_OPS_PER_PUSH} ops.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["device_time", "ops"],
                    "additionalProperties": False,
                    "properties": {
                        "device_time": {"type": "string", "format": "date-time"},
                        "ops": {"type": "array", "maxItems": MAX_OPS_PER_PUSH},
                    },
                },
                "examples": {
                    "one scan": {
                        "summary": "One door scan",
                        "value": {"device_time": "2026-02-14T21:05:00Z", "ops": [_OP_EXAMPLE]},
                    }
                },
            }
        },
    }
}


async def read_push_request(request: Request) -> PushRequest:
    """The push body: size-capped, JSON-parsed, op-counted, then validated (see module notes)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PUSH_BYTES:
        raise BodyTooLarge(f"a push body holds at most {MAX_PUSH_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PUSH_BYTES:
            raise BodyTooLarge(f"a push body holds at most {MAX_PUSH_BYTES} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        # The common case in one pass (pydantic-core parses and validates together);
        # a body it refuses takes the path below, which names the problem precisely.
        return PushRequest.model_validate_json(body)
    except ValidationError:
        pass
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJson(f"the push body is not valid JSON ({exc})") from exc
    ops = data.get("ops") if isinstance(data, dict) else None
    if isinstance(ops, list) and len(ops) > MAX_OPS_PER_PUSH:
        raise TooManyOps(len(ops))
    try:
        return PushRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from exc


_PULL_EXAMPLE = {
    "cursor": "c42",
    "more": False,
    "server_time": "2026-02-14T21:05:00Z",
    "keys": [{"key_id": 1, "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}],
    "events": [{"id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "name": "Soca Brainwash Tonight"}],
}
_PUSH_RESULT_EXAMPLE = {
    "server_time": "2026-02-14T21:05:01Z",
    "results": [
        {"op_id": _OP_EXAMPLE["op_id"], "status": "applied", "reason": None, "effects": {}},
    ],
}


def _documented(model: type[Any], example: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "model": model,
        "description": description,
        "content": {"application/json": {"example": example}},
    }


@router.get("/pull", responses={200: _documented(PullResponse, _PULL_EXAMPLE, "One page")})
async def pull_page(
    request: Request,
    session: DbSession,
    caller: Annotated[Principal, allow(*DEVICE_ROLES)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=pull.MAX_PAGE)] = pull.DEFAULT_PAGE,
    wait: Annotated[
        float,
        Query(
            ge=limits.PULL_WAIT_SECONDS.minimum,
            le=limits.PULL_WAIT_SECONDS.maximum,
            allow_inf_nan=False,
            description="Seconds to wait for a change in the device's scope (0: answer now).",
        ),
    ] = 0,
) -> Response:
    """One page of changes in the device's scope after `cursor` (none: from the start).

    With `wait`, an empty page is held back until a change in the scope
    commits or `wait` seconds pass (`server.sync.waiting`).
    """
    device = caller.device
    assert device is not None
    if wait > 0:
        await run_in_threadpool(session.commit)  # wait holding no transaction
        async with request.state.admission_slot.lent():  # nor a slot of the admission gate
            await waiting.until_changed(
                request.app.state.session_factory, device_id=device.id, cursor=cursor, seconds=wait
            )
    page = await run_in_threadpool(
        lambda: pull.pull_json(session, device=device, cursor=cursor, limit=limit, now=utcnow())
    )
    return Response(content=page, media_type="application/json")


@router.post(
    "/push",
    openapi_extra=_PUSH_BODY_DOC,
    responses={
        200: _documented(PushResponse, _PUSH_RESULT_EXAMPLE, "One result per op, in order"),
        400: {"description": "Not JSON"},
        413: {"description": f"More than {MAX_OPS_PER_PUSH} ops, or the body is too large"},
    },
)
def push_batch(
    session: DbSession,
    settings: AppSettings,
    caller: Annotated[Principal, allow(*DEVICE_ROLES)],
    body: Annotated[PushRequest, Depends(read_push_request)],
) -> Response:
    """Reconcile a batch of outbox ops; a replayed op gets its first result back."""
    assert caller.device is not None
    result = push.push(
        session,
        device=caller.device,
        request=body,
        now=utcnow(),
        settings=settings,
        between_steps=session.commit,
    )
    # pydantic-core writes the JSON bytes directly: a result per op, up to a thousand.
    return Response(content=result.model_dump_json(), media_type="application/json")


@router.get(
    "/ops/{op_id}",
    responses={
        200: example_response(
            {"op_id": _OP_EXAMPLE["op_id"], "type": "ticket.scan", "status": "applied"}
        )
    },
)
def get_op(
    op_id: uuid.UUID, session: DbSession, _caller: Annotated[Principal, allow(Role.HQ)]
) -> dict[str, Any]:
    """HQ: one recorded op with its first and current result."""
    return views.get_op(session, op_id=op_id)


@router.get(
    "/conflicts",
    responses={200: example_response([{"op_id": _OP_EXAMPLE["op_id"], "status": "conflict"}])},
)
def list_conflicts(
    session: DbSession, _caller: Annotated[Principal, allow(Role.HQ)]
) -> list[dict[str, Any]]:
    """HQ: ops in conflict, each with the op that won."""
    return views.list_conflicts(session)
