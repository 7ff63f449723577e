"""End to end over HTTP: pair, pull, scan offline with the server stopped, restart it, sync.

The kiosk runs as its installed command (`soca-kiosk pair | run --headless |
sync`); the server is `soca-server serve` on SQLite and on PostgreSQL. After
the sync, the server's passports, stamps and cards are what the kiosks showed
while offline, and every op the kiosks printed is on the server exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.app import open_kiosk
from kiosk.services.verdict import CardView
from kiosk.settings import load_settings
from tests.kiosk.live import LiveServer, live_server

SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")
QUICK_FAILURE = {"SOCA_KIOSK_RETRY_ATTEMPTS": "1", "SOCA_KIOSK_REQUEST_DEADLINE_S": "5"}


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(request.param, tmp_path / "server") as server:
        yield server


def kiosk_cli(
    *args: str | Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SOCA_KIOSK, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def scan(data_dir: Path, codes: list[str], *extra: str) -> list[dict[str, Any]]:
    done = kiosk_cli(
        "run",
        "--headless",
        "--codes",
        "-",
        "--no-sync",
        *extra,
        "--data-dir",
        data_dir,
        stdin="".join(f"{code}\n" for code in codes),
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_offline_scans_reach_the_restarted_server_and_it_matches_the_kiosks(
    live: LiveServer, tmp_path: Path
) -> None:
    world = live.world
    attendees = world["attendees"]
    offer_id, branch_id = world["offers"][0]["id"], world["branches"][0]["id"]
    door_dir, branch_dir = tmp_path / "door", tmp_path / "branch"

    # Pair both kiosks; pairing downloads their data.
    for folder, scope in (
        (door_dir, {"event_id": live.event_id}),
        (branch_dir, {"branch_id": branch_id}),
    ):
        paired = kiosk_cli(
            "pair", "--server", live.url, "--code", live.pairing_code(**scope), "--data-dir", folder
        )
        assert paired.returncode == 0 and "downloaded" in paired.stdout, paired.stderr

    # The server goes away; the kiosks keep working.
    live.process.stop()
    tickets = [attendee["tickets"][0]["qr"] for attendee in attendees[:6]]
    door = scan(door_dir, [*tickets, tickets[0], world["purchases"][0]["qr"]])
    assert [line["verdict"] for line in door] == ["green"] * 6 + ["amber", "green"]
    regular, newcomer = attendees[0], attendees[5]  # a full card, and no card yet
    branch = scan(
        branch_dir,
        [regular["passport_qr"]] * 3 + [newcomer["passport_qr"]] * 2,
        "--prize-action",
        "auto",
    )
    assert [line["type"] for line in branch] == ["pass.claim"] + ["pass.stamp"] * 4
    with open_kiosk(load_settings(data_dir=branch_dir)) as kiosk:
        shown: dict[str, CardView | None] = {
            person["user_id"]: kiosk.require_prize().look_up(person["passport_qr"]).card
            for person in (regular, newcomer)
        }
    offline = kiosk_cli("sync", "--data-dir", door_dir, env=QUICK_FAILURE)
    assert offline.returncode == 1 and "cannot reach" in offline.stderr
    with open_kiosk(load_settings(data_dir=door_dir)) as kiosk:
        status = kiosk.status.get_status()
        assert status.online is False and status.pending == 8

    # The server is back: one sync each delivers everything.
    live.process.start()
    for folder in (door_dir, branch_dir):
        synced = kiosk_cli("sync", "--json", "--data-dir", folder)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert json.loads(synced.stdout)["pending"] == 0

    for line in door + branch:
        recorded = live.op(line["op_id"])
        assert recorded["type"] == line["type"]
        assert recorded["result"]["status"] in ("applied", "duplicate")
    points = world["events"][0]["stamp_points_default"]
    with open_kiosk(load_settings(data_dir=door_dir)) as kiosk:
        for attendee in attendees[:6]:
            server = live.passport(attendee["user_id"])
            assert live.event_id in {stamp["event_id"] for stamp in server["stamps"]}
            assert server["total_points"] == attendee["total_points"] + points
            cached = kiosk.cache.passport(uuid.UUID(attendee["user_id"]))
            assert cached is not None and cached.total_points == server["total_points"]
    for user_id, card in shown.items():
        assert card is not None
        progress = live.card(offer_id, user_id)["progress"]
        assert (progress["currentStamps"], progress["rewardsClaimed"]) == (
            card.current_stamps,
            card.completions,
        )
    again = json.loads(kiosk_cli("sync", "--json", "--data-dir", door_dir).stdout)
    assert again["pushed"] == 0 and again["ok"]
