"""HQ's devices page: the venue hubs (the doors behind each, its last relay); every device
(name, event or branch, last sync on the reader's clock, clock offset, pending conflicts) with
revoke; and the sync conflicts, each naming its ticket or card and attendee, marked resolved
with a note."""

from __future__ import annotations

from fastapi import Request, Response

from server.api.deps import DbSession
from server.db.models import utcnow
from server.domain import conflicts, device_lines, devices, hub_lines, wallet_queue
from server.errors import FieldErrors
from server.sync.views import CLOCK_SKEW_LIMIT_MS
from server.web.auth import CheckedForm, Hq, field
from server.web.forms import confirm, done
from server.web.hq import parse_id
from server.web.render import render
from server.web.routing import page_router

router = page_router()


def _page(
    request: Request, session: DbSession, *, errors: dict[str, str] | None = None
) -> Response:
    context = {
        "devices": device_lines.list_lines(session),
        "hubs": hub_lines.list_hubs(session),
        "skew_limit_ms": CLOCK_SKEW_LIMIT_MS,
        "conflicts": conflicts.list_(session),
        "wallet_failing": wallet_queue.failing(session),
        "errors": errors or {},
    }
    return render(request, "hq/devices.html", context, status=422 if errors else 200)


@router.get("/hq/devices")
def device_list(request: Request, session: DbSession, _hq: Hq) -> Response:
    """Every device and every sync conflict."""
    return _page(request, session)


@router.get("/hq/devices/{device_id}/revoke")
def revoke_confirm(request: Request, device_id: str, session: DbSession, _hq: Hq) -> Response:
    """Ask before revoking a device."""
    device = devices.get(session, device_id=parse_id(device_id, "device"))
    if device.revoked_at is not None:
        return done("/hq/devices", f"{device.name} was already revoked.")
    line = next(row for row in device_lines.list_lines(session) if row.id == device.id)
    return confirm(
        request,
        title=f"Revoke {device.name}?",
        lines=[
            f"{device.name} ({line.where}) stops syncing at once: its token is refused from now "
            "on, and scans it makes offline afterwards never reach the server.",
            "This cannot be undone; pair the device again with a new code to use it.",
        ],
        action=f"/hq/devices/{device.id}/revoke",
        button="Revoke the device",
        back="/hq/devices",
    )


@router.post("/hq/devices/{device_id}/revoke")
def revoke_device(device_id: str, session: DbSession, _hq: Hq, _form: CheckedForm) -> Response:
    """Revoke a device: its token is refused from now on."""
    device = devices.revoke(session, device_id=parse_id(device_id, "device"), now=utcnow())
    return done("/hq/devices", f"{device.name} is revoked; it can no longer sync.")


@router.post("/hq/conflicts/{op_id}/resolve")
def resolve_conflict(
    request: Request, op_id: str, session: DbSession, hq: Hq, form: CheckedForm
) -> Response:
    """Mark a conflict resolved, with a note of what was done."""
    key = parse_id(op_id, "conflict")
    try:
        with session.begin_nested():
            conflicts.resolve(
                session, op_id=key, note=field(form, "note"), user_id=hq.user_id, now=utcnow()
            )
    except FieldErrors as exc:
        return _page(request, session, errors={str(key): exc.fields["note"]})
    return done("/hq/devices", "Conflict marked resolved; your note is kept with it.")
