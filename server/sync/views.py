"""HQ's views of sync: one op, the conflicts, and every device's health (in progress)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


def get_op(session: Session, *, op_id: uuid.UUID) -> dict[str, Any]:
    """The recorded op, its first result and its current result (NotFound if unknown)."""
    raise NotImplementedError


def list_conflicts(session: Session) -> list[dict[str, Any]]:
    """Ops in conflict, each with the op that won: both devices and both times."""
    raise NotImplementedError


def device_report(session: Session, *, now: datetime) -> list[dict[str, Any]]:
    """Every device: last sync, last seq, gaps in seq, clock offset, pending conflicts."""
    raise NotImplementedError
