"""Push: reconcile a batch of outbox ops (implementation in progress)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.wire import PushRequest, PushResponse
from server.db.models import Device
from server.settings import ServerSettings


def push(
    session: Session,
    *,
    device: Device,
    request: PushRequest,
    now: datetime,
    settings: ServerSettings,
) -> PushResponse:
    """Decide every op of the batch, idempotently and in the contract's deterministic order."""
    raise NotImplementedError
