"""The door screen's three counters, read from the kiosk's own stores.

- this device: tickets this kiosk admitted (its local check-ins);
- this gate: this device plus other devices at the same gate, as last synced;
- the event: every admitted ticket of the event as last synced.

These are read-only queries over the store's tables; they belong in a kiosk
service (`kiosk/services`) and live here only until that module can take
them. They run on the database worker's thread like every other operation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kiosk.app import Kiosk


@dataclass(frozen=True, slots=True)
class DoorCounters:
    """Admissions counted three ways."""

    device: int
    gate: int
    event: int


def get_counters(kiosk: Kiosk, *, event_id: uuid.UUID, gate: str) -> DoorCounters:
    """Count this device's, this gate's and the whole event's admissions."""
    device_id = None if kiosk.config is None else str(kiosk.config.device_id)
    event = str(event_id)
    local = kiosk.outbox.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(gate = ?), 0) FROM checkins WHERE event_id = ?",
        [gate, event],
    ).fetchone()
    here, here_at_gate = int(local[0]), int(local[1])
    synced = kiosk.cache.db.execute(
        """
        SELECT COUNT(*),
               COALESCE(SUM(checked_in_gate = ? AND COALESCE(checked_in_device, '') != ?), 0)
        FROM tickets WHERE event_id = ? AND checked_in_at IS NOT NULL
        """,
        [gate, device_id or "", event],
    ).fetchone()
    return DoorCounters(device=here, gate=here_at_gate + int(synced[1]), event=int(synced[0]))
