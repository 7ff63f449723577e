"""Device pairing, revocation and token rolls (contract: `/api/v1/devices/...`).

`POST /pairing-codes` makes a one-time code for a DOOR (event), BRANCH
(branch) or PROMOTER (promoter) kiosk, valid 10 minutes; `qr` is the text of
a QR a kiosk can scan instead of typing it, naming the server by
`SOCA_PUBLIC_URL` (when unset, by the address the request came to). `POST
/pair` trades the code for the device's token; failed attempts are
rate-limited per client address.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Request
from pydantic import AwareDatetime, ConfigDict

from core.wire import DeviceRole, DeviceScope, PairingCodeRequest, PairingCodeResponse, PairRequest
from core.wire import PairResponse as WirePairResponse
from server.api import tenancy
from server.api.auth import DEVICE_ROLES, PolicyRoute, Principal, Role, allow, public
from server.api.deps import AppSettings, DbSession, client_address
from server.api.login import rate_limiter
from server.api.schemas import View, example_response
from server.db.models import Device, utcnow
from server.domain import devices
from server.sync import views

router = APIRouter(prefix="/api/v1/devices", tags=["devices"], route_class=PolicyRoute)

_DEVICE_ID = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
_EVENT_ID = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"


class PairingCodeCreated(PairingCodeResponse):
    """The code to type (`XXXX-XXXX`), when it expires, and the pairing QR's text."""

    qr: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "K7Q2-MX9D",
                    "expires_at": "2026-02-14T21:10:00Z",
                    "qr": "socapassport://pair?server=https%3A%2F%2Fsoca.example&code=K7Q2-MX9D",
                }
            ]
        }
    )


class PairResponse(WirePairResponse):
    """The new device's id, its bearer token (shown once), its role and scope."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_id": _DEVICE_ID,
                    "token": "b1Xk...43 characters",
                    "role": "DOOR",
                    "scope": {"event_id": _EVENT_ID, "branch_id": None, "promoter_id": None},
                }
            ]
        }
    )


class DeviceView(View):
    """A device without its token."""

    device_id: uuid.UUID
    name: str
    role: DeviceRole
    scope: DeviceScope
    created_at: datetime
    revoked_at: AwareDatetime | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_id": _DEVICE_ID,
                    "name": "Gate A tablet",
                    "role": "DOOR",
                    "scope": {"event_id": _EVENT_ID, "branch_id": None, "promoter_id": None},
                    "created_at": "2026-02-14T20:00:00Z",
                    "revoked_at": "2026-02-15T03:00:00Z",
                }
            ]
        }
    )

    @classmethod
    def of(cls, device: Device) -> DeviceView:
        """The view of a device row."""
        return cls(
            device_id=device.id,
            name=device.name,
            role=DeviceRole(device.role),
            scope=devices.scope_of(device),
            created_at=device.created_at,
            revoked_at=device.revoked_at,
        )


def pairing_qr(base_url: str, code: str) -> str:
    """The text of a pairing QR: `socapassport://pair?server=<base url>&code=<code>`."""
    return "socapassport://pair?" + urlencode({"server": base_url.rstrip("/"), "code": code})


def _credentials(device: Device, token: str) -> PairResponse:
    return PairResponse(
        device_id=device.id,
        token=token,
        role=DeviceRole(device.role),
        scope=devices.scope_of(device),
    )


@router.post("/pairing-codes", status_code=201)
def create_pairing_code(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    caller: Annotated[Principal, allow(Role.HQ, Role.PROMOTER, Role.BUSINESS, Role.BRANCH_MANAGER)],
    body: Annotated[
        PairingCodeRequest,
        Body(
            openapi_examples={
                "door": {
                    "summary": "A door kiosk for one event",
                    "value": {"role": "DOOR", "event_id": _EVENT_ID},
                },
                "branch": {
                    "summary": "A bar tablet for one branch",
                    "value": {
                        "role": "BRANCH",
                        "branch_id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                    },
                },
                "promoter": {"summary": "The promoter's own laptop", "value": {"role": "PROMOTER"}},
            }
        ),
    ],
) -> PairingCodeCreated:
    """A one-time code (10 minutes) for a device in a scope the caller owns."""
    issued = devices.create_pairing_code(
        session,
        role=body.role,
        scope=tenancy.pairing_scope(session, caller, body),
        now=utcnow(),
        created_by_user_id=caller.user_id,
    )
    return PairingCodeCreated(
        code=issued.code,
        expires_at=issued.expires_at,
        qr=pairing_qr(settings.public_url or str(request.base_url), issued.code),
    )


@router.post(
    "/pair",
    status_code=201,
    dependencies=[public()],
    responses={
        400: {"description": "Unknown, expired or used code"},
        429: {"description": "Rate limited"},
    },
)
def pair(
    request: Request,
    session: DbSession,
    body: Annotated[
        PairRequest,
        Body(
            openapi_examples={
                "door": {
                    "summary": "Pair the gate tablet",
                    "value": {"code": "K7Q2-MX9D", "name": "Gate A tablet"},
                }
            }
        ),
    ],
) -> PairResponse:
    """Trade a pairing code for a device token (once per code)."""
    limiter = rate_limiter(request)
    reservation = limiter.reserve(session, [(limiter.rules.pairing, client_address(request))])
    paired = devices.pair(session, code=body.code, name=body.name, now=utcnow())
    limiter.release(session, reservation)  # only failures count
    return _credentials(paired.device, paired.token)


@router.get(
    "",
    responses={
        200: example_response(
            [
                {
                    "device_id": _DEVICE_ID,
                    "name": "Gate A tablet",
                    "role": "DOOR",
                    "last_sync_at": "2026-02-14T22:00:00Z",
                    "last_seq": 412,
                    "clock_offset_ms": -850,
                    "pending_conflicts": 0,
                }
            ]
        )
    },
)
def list_devices(
    session: DbSession, _caller: Annotated[Principal, allow(Role.HQ)]
) -> list[dict[str, Any]]:
    """HQ: every device's sync health (last sync, seq gaps, clock offset, conflicts)."""
    return views.device_report(session, now=utcnow())


@router.delete("/{device_id}")
def revoke_device(
    device_id: uuid.UUID,
    session: DbSession,
    caller: Annotated[Principal, allow(Role.HQ, Role.PROMOTER)],
) -> DeviceView:
    """Revoke a device (HQ, or the promoter owning its scope); its token is 401 from now on."""
    device = tenancy.manageable_device(session, caller, device_id)
    return DeviceView.of(devices.revoke(session, device_id=device.id, now=utcnow()))


@router.post("/{device_id}/roll-token")
def roll_token(
    device_id: uuid.UUID,
    session: DbSession,
    caller: Annotated[Principal, allow(Role.HQ, *DEVICE_ROLES)],
) -> PairResponse:
    """A new token for the device (the device itself or HQ); the old token dies at once."""
    rolled = devices.roll_token(
        session, device_id=tenancy.self_or_hq_device(session, caller, device_id)
    )
    return _credentials(rolled.device, rolled.token)
