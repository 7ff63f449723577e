"""Pull: pages of everything changed in a device's scope since its cursor (in progress)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.wire import PullResponse
from server.db.models import Device

DEFAULT_PAGE = 5000
MAX_PAGE = 10000


def pull(
    session: Session, *, device: Device, cursor: str | None, limit: int, now: datetime
) -> PullResponse:
    """One page of changes in the device's scope after `cursor` (None: from the start)."""
    raise NotImplementedError
