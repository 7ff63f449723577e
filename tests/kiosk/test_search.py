"""Manual look-up at the door by name, handle or ticket code, offline."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from core.clock import FixedClock
from core.wire import TicketRow
from kiosk.app import Kiosk, open_kiosk
from kiosk.store.cache import Cache
from tests.kiosk.world import World, install, make_world


def test_search_finds_by_name_ignoring_case_and_accents(door: Kiosk, world: World) -> None:
    found = door.require_search().search("zoe")
    assert [match.holder_name for match in found] == ["Zoë Baptiste"]
    assert door.require_search().search("ZOË BAP")[0].handle == world.attendees[1].handle


def test_search_finds_by_handle_with_or_without_at(door: Kiosk, world: World) -> None:
    target = world.attendees[3]
    assert [m.ticket_id for m in door.require_search().search(f"@{target.handle}")] == [
        target.ticket_id
    ]
    assert door.require_search().search(target.handle)[0].ticket_id == target.ticket_id


def test_search_finds_by_ticket_code_typed_any_way_exact_match_first(
    door: Kiosk, world: World
) -> None:
    target = world.attendees[2]
    for typed in (
        target.ticket_code,
        target.ticket_code.replace("-", ""),
        target.ticket_code.lower(),
    ):
        found = door.require_search().search(typed)
        assert found and found[0].ticket_id == target.ticket_id, typed


def test_search_shows_local_checkins_and_ignores_blank_or_wild_queries(
    door: Kiosk, world: World
) -> None:
    target = world.attendees[0]
    door.require_door().scan(target.ticket_qr)
    match = door.require_search().search(target.name)[0]
    assert match.checked_in_at is not None and match.checked_in_gate == "Main gate"
    assert door.require_search().search("   ") == []
    assert door.require_search().search("%") == []
    assert door.require_search().search("_") == []
    assert door.require_search().search("\x00\x1b") == []
    found = door.require_search().search(target.name + "\x00" + " " * 200 + "x" * 500)
    assert [m.ticket_id for m in found] in ([], [target.ticket_id])  # cut to 100, never an error


def test_search_only_returns_tickets_of_this_event(door: Kiosk, world: World) -> None:
    other = TicketRow(
        id=uuid.uuid4(), event_id=world.other_event.id, holder_name="Marcus Elsewhere"
    )
    door.cache.apply_page(world.page(tickets=[other]), ack_mark=0)
    names = [m.holder_name for m in door.require_search().search("marcus")]
    assert "Marcus Elsewhere" not in names and names


def test_search_over_fifty_thousand_tickets_stays_fast(tmp_path: Path, clock: FixedClock) -> None:
    world = make_world(1)
    settings, _ = install(tmp_path / "big", world)
    rows = [
        TicketRow(
            id=uuid.uuid4(),
            event_id=world.event.id,
            holder_name=f"Guest Number {index}",
            handle=f"guest{index:05d}",
            code=f"G{index:07d}",
        )
        for index in range(50_000)
    ]
    cache = Cache.open(settings.cache_path, busy_timeout_ms=1000)
    cache.apply_page(world.page(tickets=rows), ack_mark=0)
    cache.close()
    with open_kiosk(settings, clock=clock) as kiosk:
        search = kiosk.require_search()
        timings = []
        for query in ("number 4999", "guest12345", "G0031337", "nobody here", "num"):
            started = time.perf_counter()
            found = search.search(query)
            timings.append(time.perf_counter() - started)
            assert query == "nobody here" or found
        assert search.search("G0031337")[0].handle == "guest31337"
    assert max(timings) < 0.5  # the benchmark holds the real target (p95 <= 50 ms)
