"""The door's three counters: this device, this gate, the whole event as last synced."""

from __future__ import annotations

import uuid

from core.wire import TicketRow
from kiosk.app import Kiosk
from kiosk.services.counters import DoorCounters, get_counters
from tests.kiosk.world import NOW, World


def _counters(kiosk: Kiosk) -> DoorCounters:
    door = kiosk.require_door()
    return get_counters(
        door.outbox, door.cache, event_id=door.event_id, gate=door.gate, device_id=door.device_id
    )


def _synced_checkin(row: TicketRow, *, gate: str, device: str) -> TicketRow:
    return row.model_copy(
        update={"checked_in_at": NOW, "checked_in_gate": gate, "checked_in_device": device}
    )


def test_a_fresh_door_counts_nothing(door: Kiosk) -> None:
    assert _counters(door) == DoorCounters(device=0, gate=0, event=0)


def test_a_local_admission_counts_for_device_and_gate_and_for_the_event_once_synced(
    door: Kiosk, world: World
) -> None:
    door.require_door().scan(world.attendees[0].ticket_qr)
    # Offline, the event counter never reads lower than this device's own admissions.
    assert _counters(door) == DoorCounters(device=1, gate=1, event=1)

    this_device = str(door.require_door().device_id)
    synced = _synced_checkin(world.ticket_rows()[0], gate="Main gate", device=this_device)
    door.cache.apply_page(world.page(tickets=[synced]), ack_mark=0)
    # The pulled copy of our own admission is not counted a second time at the gate.
    assert _counters(door) == DoorCounters(device=1, gate=1, event=1)


def test_other_devices_count_for_their_gate_and_the_event_only(door: Kiosk, world: World) -> None:
    rows = world.ticket_rows()
    elsewhere = str(uuid.uuid4())
    other_event_ticket = TicketRow(id=uuid.uuid4(), event_id=world.other_event.id)
    pulled = [
        _synced_checkin(rows[1], gate="Main gate", device=elsewhere),
        _synced_checkin(rows[2], gate="North gate", device=elsewhere),
        _synced_checkin(other_event_ticket, gate="Main gate", device=elsewhere),
    ]
    door.cache.apply_page(world.page(tickets=pulled), ack_mark=0)
    assert _counters(door) == DoorCounters(device=0, gate=1, event=2)
