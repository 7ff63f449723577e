"""`soca-kiosk pair | sync | status | run --headless` as people and scripts use them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.wire import DeviceRole
from kiosk.cli import app
from tests.kiosk.scanner.helpers import write_door_video
from tests.kiosk.world import World, install

runner = CliRunner()
SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_status_of_an_unpaired_kiosk_in_text_and_json(tmp_path: Path) -> None:
    code, out, _ = invoke("status", "--data-dir", str(tmp_path))
    assert code == 0 and "not paired" in out
    code, out, _ = invoke("status", "--data-dir", str(tmp_path), "--json")
    data = json.loads(out)
    assert code == 0 and data["paired"] is False and data["pending"] == 0
    assert (tmp_path / "outbox.sqlite3").exists() and (tmp_path / "cache.sqlite3").exists()


def test_status_with_a_corrupt_config_names_the_file_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "device.json").write_text("{not json", encoding="utf-8")
    code, out, err = invoke("status", "--data-dir", str(tmp_path))
    assert code == 1 and str(tmp_path / "device.json") in err
    assert "Traceback" not in err + out and "soca-kiosk pair" in err


def test_run_headless_prints_one_contract_line_per_scan(tmp_path: Path, world: World) -> None:
    install(tmp_path, world)
    codes = [world.attendees[0].ticket_qr, world.attendees[0].ticket_qr, "not a code", ""]
    code, out, _ = invoke(
        "run",
        "--headless",
        "--codes",
        "-",
        "--no-sync",
        "--data-dir",
        str(tmp_path),
        stdin="\n".join(codes) + "\n",
    )
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [set(line) for line in lines] == [{"op_id", "type", "verdict", "reason"}] * 3
    assert [(line["verdict"], line["reason"]) for line in lines] == [
        ("green", None),
        ("amber", "already_scanned"),
        ("red", "bad_format"),
    ]
    assert lines[0]["type"] == "ticket.scan"
    assert lines[2]["op_id"] is not None and lines[2]["type"] == "scan.refused"  # recorded


def test_run_headless_in_prize_mode_stamps_and_claims(tmp_path: Path, world: World) -> None:
    install(tmp_path, world, role=DeviceRole.BRANCH)
    codes = "\n".join([world.attendees[0].passport_qr] * 6) + "\n"
    code, out, _ = invoke(
        "run",
        "--headless",
        "--codes",
        "-",
        "--no-sync",
        "--prize-action",
        "auto",
        "--data-dir",
        str(tmp_path),
        stdin=codes,
    )
    assert code == 0
    types = [json.loads(line)["type"] for line in out.splitlines()]
    assert types == ["pass.stamp"] * 5 + ["pass.claim"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--headless", "--codes", "-"), "not paired"),
        (("run", "--codes", "-"), "--headless"),
        (("run", "--headless"), "--camera INDEX|FILE, or --codes"),
        (("sync",), "not paired"),
        (("pair", "--server", "ftp://x", "--code", "C"), "http:// or https://"),
    ],
)
def test_commands_that_cannot_run_say_why_in_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = invoke(*args, "--data-dir", str(tmp_path), stdin="")
    assert code == 1 and message in err and "Traceback" not in err + out


def test_door_mode_on_a_branch_device_is_refused(tmp_path: Path, world: World) -> None:
    install(tmp_path, world, role=DeviceRole.BRANCH)
    code, _, err = invoke(
        "run",
        "--headless",
        "--mode",
        "door",
        "--codes",
        "-",
        "--data-dir",
        str(tmp_path),
        stdin="",
    )
    assert code == 1 and "door mode needs a DOOR device" in err


def test_sync_against_an_unreachable_server_fails_and_status_says_offline(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCA_KIOSK_RETRY_ATTEMPTS", "1")
    install(tmp_path, world, server_url="http://127.0.0.1:9")
    code, out, _ = invoke("sync", "--data-dir", str(tmp_path), "--json")
    report = json.loads(out)
    assert code == 1 and report["error_code"] == "server_unavailable"
    code, out, _ = invoke("status", "--data-dir", str(tmp_path), "--json")
    assert json.loads(out)["online"] is False


def test_the_installed_command_reads_a_keyboard_wedge_on_stdin(
    tmp_path: Path, world: World
) -> None:
    install(tmp_path, world)
    wedge = "".join(f"{attendee.ticket_qr}\r\n" for attendee in world.attendees[:3])
    result = subprocess.run(
        [SOCA_KIOSK, "run", "--headless", "--codes", "-", "--no-sync", "--data-dir", str(tmp_path)],
        input=wedge,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["verdict"] for line in result.stdout.splitlines()] == ["green"] * 3


def test_run_headless_scans_a_door_video_through_the_real_scanner(
    tmp_path: Path, world: World
) -> None:
    install(tmp_path / "kiosk", world)
    video = tmp_path / "door.avi"
    tickets = [world.attendees[0].ticket_qr, world.attendees[1].ticket_qr]
    write_door_video(video, tickets)
    code, out, err = invoke(
        "run",
        "--headless",
        "--camera",
        str(video),
        "--no-sync",
        "--data-dir",
        str(tmp_path / "kiosk"),
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["type"], line["verdict"]) for line in lines] == [("ticket.scan", "green")] * 2
    assert len({line["op_id"] for line in lines}) == 2


def test_run_headless_with_a_missing_camera_says_so(tmp_path: Path, world: World) -> None:
    install(tmp_path, world)
    code, _, err = invoke(
        "run", "--headless", "--camera", "57", "--no-sync", "--data-dir", str(tmp_path)
    )
    assert code == 1
    assert "camera" in err.lower() and "Traceback" not in err
