"""A promoter's door devices: a pairing code shown as text and as the QR the kiosk's setup
screen scans (with its expiry counting down), the devices paired into the promoter's scopes,
and revoking one after a confirmation."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from core.wire import DeviceRole, DeviceScope
from server.api import tenancy
from server.api.deps import DbSession
from server.api.devices import pairing_qr
from server.db.models import utcnow
from server.domain import device_lines, devices
from server.domain.qr_codes import qr_svg
from server.errors import NotFound
from server.web.auth import CheckedForm, Promoter
from server.web.forms import confirm, done
from server.web.promoter import own_event
from server.web.render import render
from server.web.routing import page_router

router = page_router()


@router.post("/promoter/events/{event_id}/pairing-code")
def pairing_code(
    request: Request, event_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm
) -> Response:
    """A one-time pairing code for a door device at this event, as text and as a QR."""
    event = own_event(session, promoter, event_id)
    now = utcnow()
    issued = devices.create_pairing_code(
        session,
        role=DeviceRole.DOOR,
        scope=DeviceScope(event_id=event.id),
        now=now,
        created_by_user_id=promoter.user_id,
    )
    text = pairing_qr(str(request.base_url), issued.code)
    context = {
        "event": event,
        "code": issued.code,
        "qr_text": text,
        "qr_svg": qr_svg(text),
        "expires_at": issued.expires_at,
        "seconds_left": int((issued.expires_at - now).total_seconds()),
    }
    return render(request, "promoter/pairing.html", context)


@router.get("/promoter/devices")
def device_list(request: Request, session: DbSession, promoter: Promoter) -> Response:
    """Every device paired into the promoter's events, branches or office."""
    assert promoter.promoter_id is not None
    lines = device_lines.list_lines(session, promoter_id=promoter.promoter_id)
    return render(request, "promoter/devices.html", {"devices": lines})


def _own_device(session: DbSession, promoter: Promoter, raw_id: str) -> uuid.UUID:
    try:
        device_id = uuid.UUID(raw_id)
    except ValueError:
        raise NotFound("We couldn't find that device.") from None
    return tenancy.manageable_device(session, promoter, device_id).id


@router.get("/promoter/devices/{device_id}/revoke")
def revoke_confirm(
    request: Request, device_id: str, session: DbSession, promoter: Promoter
) -> Response:
    """Ask before revoking a device."""
    device = devices.get(session, device_id=_own_device(session, promoter, device_id))
    if device.revoked_at is not None:
        return done("/promoter/devices", f"{device.name} was already revoked.")
    return confirm(
        request,
        title=f"Revoke {device.name}?",
        lines=[
            f"{device.name} stops syncing at once: the server refuses its token from now on.",
            "Scans it makes offline after this never reach the server, so revoke a device only "
            "when it is lost or retired. To use it again, pair it with a new code.",
        ],
        action=f"/promoter/devices/{device.id}/revoke",
        button="Revoke the device",
        back="/promoter/devices",
    )


@router.post("/promoter/devices/{device_id}/revoke")
def revoke(device_id: str, session: DbSession, promoter: Promoter, _form: CheckedForm) -> Response:
    """Revoke the device: its token is refused from now on."""
    device = devices.revoke(
        session, device_id=_own_device(session, promoter, device_id), now=utcnow()
    )
    return done("/promoter/devices", f"{device.name} is revoked; it can no longer sync.")
