"""Door kiosks at a venue hub, end to end: real HQ, a real hub, `soca-kiosk run --headless`.

HQ (`soca-server serve`), the hub (`soca-server hub`) and three door kiosks
(`soca-kiosk run --headless --codes -`, paired through the hub) run as
processes on loopback. With HQ stopped, a ticket at door A and the same
ticket three seconds later at door B: B answers amber, already scanned at
Gate A (the hub told it, through a waiting pull, well within the 20 s sync
interval). HQ back: every op is at HQ exactly once, one applied, one
duplicate, no conflict. Killing the hub mid-scan: the doors carry on (with
HQ), and after the hub's restart nothing is lost or doubled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from server.devtools import HubProcess
from tests.kiosk.live import LiveServer, live_server
from tests.server.hub.venue import hub_code, tickets

SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")
RUN = (SOCA_KIOSK, "run", "--headless", "--codes", "-", "--explain")
KIOSK_ENV = {"SOCA_KIOSK_DISCOVER_HUB": "0", "SOCA_KIOSK_SYNC_INTERVAL_S": "20"}


class Door:
    """A running `soca-kiosk run --headless --codes -` at one gate."""

    def __init__(self, folder: Path, gate: str) -> None:
        self.folder, self.gate = folder, gate
        self.errors = (folder / "stderr.txt").open("w+")
        self.process = subprocess.Popen(
            [*RUN, "--gate", gate, "--data-dir", str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env={**os.environ, **KIOSK_ENV},
        )

    def scan(self, code: str) -> dict[str, Any]:
        """Present one code; the op's JSON line."""
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None and self.process.stdout is not None
        stdin.write(code + "\n")
        stdin.flush()
        return dict(json.loads(self.process.stdout.readline()))

    def explained(self, expected: str) -> str:
        """What --explain printed, once it holds `expected` (stderr comes after the JSON line)."""
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline:
            text = (self.folder / "stderr.txt").read_text()
            if expected in text:
                break
            time.sleep(0.1)
        return text

    def close(self) -> None:
        """End the run (standard input closed) and wait for it."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()


def kiosk(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOCA_KIOSK, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **KIOSK_ENV},
        check=False,
    )


def status(folder: Path) -> dict[str, Any]:
    done = kiosk("status", "--json", "--data-dir", folder)
    return dict(json.loads(done.stdout))


def until(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


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


@pytest.fixture
def doors(hq: LiveServer, hub: HubProcess, tmp_path: Path) -> Iterator[list[Door]]:
    running: list[Door] = []
    try:
        for gate in ("Gate A", "Gate B", "Gate C"):
            folder = tmp_path / gate.replace(" ", "_")
            code = hq.pairing_code(event_id=hq.event_id)
            paired = kiosk("pair", "--server", hub.base_url, "--code", code, "--data-dir", folder)
            assert paired.returncode == 0, paired.stderr
            running.append(Door(folder, gate))
        for door in running:
            until(lambda door=door: status(door.folder).get("via") == "hub")
        yield running
    finally:
        for door in running:
            door.close()


def test_two_doors_without_hq_agree_through_the_hub(
    hq: LiveServer, hub: HubProcess, doors: list[Door]
) -> None:
    door_a, door_b, _door_c = doors
    qr = tickets(hq)[0]["qr"]
    hq.process.stop()

    first = door_a.scan(qr)
    time.sleep(3)
    second = door_b.scan(qr)
    assert first["verdict"] == "green"
    assert (second["verdict"], second["reason"]) == ("amber", "already_scanned")
    assert "at Gate A by another device" in door_b.explained("at Gate A")
    assert status(door_b.folder)["via"] == "hub"

    hq.process.start()
    hub.wait_relayed()
    assert hq.op(first["op_id"])["result"]["status"] == "applied"
    assert hq.op(second["op_id"])["result"]["status"] == "duplicate"
    assert hq.hq("GET", "/sync/conflicts").json() == []


def test_a_hub_killed_mid_scan_loses_and_doubles_nothing(
    hq: LiveServer, hub: HubProcess, doors: list[Door]
) -> None:
    codes = [ticket["qr"] for ticket in tickets(hq)]
    lines = []
    for index, code in enumerate(codes):
        if index == len(codes) // 2:
            hub.kill()  # the doors carry on; their sync falls back to HQ
        lines.append(doors[index % 3].scan(code))
        lines.append(doors[(index + 1) % 3].scan(code))
    assert all(line["op_id"] for line in lines)
    hub.start()
    for door in doors:
        synced = kiosk("sync", "--json", "--data-dir", door.folder)
        assert json.loads(synced.stdout)["pending"] == 0, synced.stdout + synced.stderr
    hub.wait_relayed()
    recorded = [hq.op(line["op_id"]) for line in lines]  # each op is at HQ
    applied = [op for op in recorded if op["result"]["status"] == "applied"]
    assert len(applied) == len(codes)  # one admission per ticket, none doubled
    assert len({op["payload"]["qr"] for op in applied}) == len(codes)
