"""`soca-kiosk demo --headless`: seed, serve, pair, sync, scan the simulated camera, sync again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kiosk.demo import GARBAGE_CODE, DemoCameraSource, demo_sequence

SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")


def test_demo_headless_scans_every_attendee_then_a_reentry_and_a_stranger(tmp_path: Path) -> None:
    done = subprocess.run(
        [SOCA_KIOSK, "demo", "--headless", "--folder", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    ops, summary = lines[:-1], lines[-1]["summary"]
    world = json.loads((tmp_path / "demo" / "demo.json").read_text(encoding="utf-8"))
    attendees = len(world["attendees"])
    assert [op["verdict"] for op in ops] == ["green"] * attendees + ["amber", "red"]
    assert ops[attendees]["reason"] == "already_scanned"
    assert ops[0]["handle"] == ops[attendees]["handle"]
    assert ops[-1]["reason"] == "bad_format"
    assert all(set(op) >= {"op_id", "type", "verdict", "reason"} for op in ops)
    assert summary["green"] == attendees and summary["amber"] == 1 and summary["red"] == 1
    # Everything written was pushed, and the server agreed with the kiosk.
    assert summary["pending"] == 0 and summary["sync_error"] is None
    assert summary["results"]["applied"] == attendees + 1  # and the stranger's refusal, recorded
    assert summary["scanner_errors"] == []
    assert "paired a door kiosk" in done.stderr


def test_simulated_camera_shows_each_code_then_an_empty_scene() -> None:
    world = {
        "events": [{"id": "e1"}],
        "attendees": [
            {"tickets": [{"event_id": "e1", "qr": "https://example.com/ticket/one"}]},
            {"tickets": [{"event_id": "other", "qr": "https://example.com/ticket/no"}]},
        ],
    }
    codes = demo_sequence(world)
    assert codes == [
        "https://example.com/ticket/one",
        "https://example.com/ticket/one",
        GARBAGE_CODE,
    ]
    source = DemoCameraSource(codes[:1], hold_s=0.05, gap_s=0.05, fps=200, loop=False)
    source.open()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert source.exhausted
    assert len(frames) >= 4
    assert frames[0].shape == (540, 960, 3) or frames[0].ndim == 2
    assert frames[0] is not frames[1]  # each read is the caller's own copy
    source.close()
