"""The door screen's three counters, read from the kiosk's own stores.

- this device: tickets this kiosk admitted (its local check-ins, synced or not);
- this gate: this device plus the other devices at the same gate, as last synced;
- the event: every admitted ticket of the event as last synced, plus this device's
  admissions the last pull did not know yet (never fewer than this device's own).

Read-only queries; like every operation they run on the thread that owns the
store objects (the shell's database worker), and the screen only renders the
`DoorCounters` they return.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kiosk.services.scanning import storage_errors
from kiosk.store.cache import Cache
from kiosk.store.outbox import Outbox


@dataclass(frozen=True, slots=True)
class DoorCounters:
    """Admissions counted three ways."""

    device: int
    gate: int
    event: int


@storage_errors
def get_counters(
    outbox: Outbox,
    cache: Cache,
    *,
    event_id: uuid.UUID,
    gate: str,
    device_id: uuid.UUID | None,
) -> DoorCounters:
    """Count this device's, this gate's and the whole event's admissions.

    A ticket this device admitted is counted once at the gate: its local
    check-in counts, and the synced copy of it (`checked_in_device` is this
    device) does not count again.
    """
    event = str(event_id)
    local = outbox.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(gate = ?), 0) FROM checkins WHERE event_id = ?",
        [gate, event],
    ).fetchone()
    here, here_at_gate = int(local[0]), int(local[1])
    mine = "" if device_id is None else str(device_id)
    synced = cache.db.execute(
        """
        SELECT COUNT(*),
               COALESCE(SUM(checked_in_gate = ? AND COALESCE(checked_in_device, '') != ?), 0),
               COALESCE(SUM(COALESCE(checked_in_device, '') = ?), 0)
        FROM tickets WHERE event_id = ? AND checked_in_at IS NOT NULL
        """,
        [gate, mine, mine, event],
    ).fetchone()
    synced_total, synced_mine = int(synced[0]), int(synced[2])
    # Offline, the last pull does not know this device's newest admissions: add them, so the
    # whole event never reads lower than this device alone.
    whole = max(synced_total, synced_total - synced_mine + here)
    return DoorCounters(device=here, gate=here_at_gate + int(synced[1]), event=whole)
