"""HQ's side of a relay: a hub forwards its doors' ops, and HQ decides each device's batch itself.

Every op arrives as its device sent it to the hub (op id, seq, door time,
raw clock, payload), and is pushed here as that device's own push: the op
log, the order of decisions and the results are exactly those of a direct
sync, and a batch relayed twice is answered from the log the second time.
A device the hub may not relay for (another event's, revoked, unknown) gets
its batch refused as a whole, with the reason; the hub then stops retrying it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.wire import PushRequest
from server.db.models import Device
from server.hub import replica
from server.hub.wire import RelayedBatch, RelayRequest, RelayResponse
from server.settings import ServerSettings
from server.sync import push


def relay(
    session: Session, *, hub: Device, request: RelayRequest, now: datetime, settings: ServerSettings
) -> RelayResponse:
    """Decide each device's relayed ops as that device's push; note which hub they came through."""
    answers = []
    for batch in request.batches:
        device = session.get(Device, batch.device_id)
        refused = _refusal(session, hub, device)
        if refused is not None or device is None:
            answers.append(RelayedBatch(device_id=batch.device_id, refused=refused))
            continue
        result = push.push(
            session,
            device=device,
            request=PushRequest(device_time=batch.device_time, ops=batch.ops),
            now=now,
            settings=settings,
        )
        device.hub_id = hub.id
        answers.append(RelayedBatch(device_id=device.id, results=result.results))
    hub.last_relay_at = now
    hub.last_seen_at = now
    return RelayResponse(server_time=now, batches=answers)


def _refusal(session: Session, hub: Device, device: Device | None) -> str | None:
    if device is None:
        return "unknown device"
    if device.revoked_at is not None:
        return "device revoked"
    if not replica.in_scope(session, hub, device):
        return "device outside the hub's scope"
    return None
