"""The venue hub over real processes: HQ, a hub and door sync clients, all on loopback HTTP.

HQ is stopped while the doors scan: the hub alone decides, and a second
door learns of the first door's admission within a second through a
waiting pull. When HQ is back every op reaches it exactly once, decided by
HQ itself: one applied, one duplicate, no conflict.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.devtools import HubProcess
from tests.kiosk.live import LiveServer, live_server
from tests.server.hub.venue import hub_code, now_minus, pair_door, tickets


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server("sqlite", tmp_path / "hq") as server:
        yield server


@pytest.fixture
def hub(hq: LiveServer, tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path / "hub", hq.url, hub_code(hq, event_id=hq.event_id))
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _until(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_two_doors_cut_off_from_hq_do_not_both_admit_one_ticket(
    hq: LiveServer, hub: HubProcess
) -> None:
    door_a, door_b = pair_door(hq, "A", hub.base_url), pair_door(hq, "B", hub.base_url)
    ticket = tickets(hq)[0]
    _until(lambda: bool(door_b.pull() and ticket["ticket_id"] in door_b.tickets))
    hq.process.stop()

    sent = door_a.scan_op(ticket["qr"], at=now_minus(3), verdict="green")
    first = door_a.push(sent)
    started = time.monotonic()
    door_b.pull(wait=10)
    learned = time.monotonic() - started
    assert door_b.tickets[ticket["ticket_id"]]["checked_in_gate"] == "Gate A"
    assert learned < 2
    second = door_b.push(door_b.scan_op(ticket["qr"], at=now_minus(0), verdict="amber"))
    assert first[0]["status"] == "applied"
    assert second[0]["status"] == "duplicate"
    assert second[0]["reason"] == "already_scanned"
    assert "at Gate A" in second[0]["message"]

    hq.process.start()
    hub.wait_relayed()
    at_hq = hq.op(first[0]["op_id"])
    assert at_hq["result"]["status"] == "applied"
    assert (at_hq["seq"], at_hq["payload"]) == (sent["seq"], sent["payload"])
    assert at_hq["occurred_at"] == at_hq["device_clock"] == sent["occurred_at"]
    assert hq.op(second[0]["op_id"])["result"]["status"] == "duplicate"
    assert hq.hq("GET", "/sync/conflicts").json() == []


def test_a_kiosk_paired_at_hq_syncs_at_the_hub_with_its_token(
    hq: LiveServer, hub: HubProcess
) -> None:
    door = pair_door(hq, "C")
    ticket = tickets(hq)[1]
    _until(
        lambda: (
            httpx.get(
                f"{hub.base_url}/api/v1/sync/pull",
                headers={"Authorization": f"Bearer {door.token}"},
                timeout=10,
            ).status_code
            == 200
        )
    )
    result = door.push(door.scan_op(ticket["qr"], at=now_minus(1)), server=hub.base_url)
    assert result[0]["status"] == "applied"
    hub.wait_relayed()
    assert hq.op(result[0]["op_id"])["result"]["status"] == "applied"
