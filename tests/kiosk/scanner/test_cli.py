"""`soca-kiosk decode IMAGE...`: a JSON line per image; unreadable files fail with status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from kiosk.cli import app
from kiosk.scanner.synth import Condition, render_blank, render_frame


@pytest.fixture
def images(tmp_path: Path, tickets: list[str]) -> dict[str, Path]:
    paths = {
        "one": tmp_path / "one.png",
        "crowd": tmp_path / "crowd.jpg",
        "empty": tmp_path / "empty.png",
        "broken": tmp_path / "broken.png",
    }
    cv2.imwrite(str(paths["one"]), render_frame(Condition.CLEAN, tickets, seed=1).image)
    crowd = render_frame(Condition.MULTIPLE, tickets, seed=11)
    cv2.imwrite(str(paths["crowd"]), crowd.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(str(paths["empty"]), render_blank(seed=2))
    paths["broken"].write_bytes(b"\x89PNG but not really")
    return paths


def run(args: list[str]) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(app, args)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, lines, result.stderr


def test_prints_one_json_line_per_image_with_codes_nearest_the_centre_first(
    images: dict[str, Path], tickets: list[str]
) -> None:
    status, lines, stderr = run(["decode", str(images["one"]), str(images["crowd"])])
    assert status == 0, stderr
    assert [line["file"] for line in lines] == [str(images["one"]), str(images["crowd"])]
    assert lines[0]["codes"] == [tickets[0]]
    crowd_codes = lines[1]["codes"]
    assert isinstance(crowd_codes, list) and sorted(crowd_codes) == sorted(tickets[:3])
    expected_first = render_frame(Condition.MULTIPLE, tickets, seed=11).expected
    assert crowd_codes[0] == expected_first
    assert all(isinstance(line["ms"], float) and line["ms"] >= 0 for line in lines)
    assert set(lines[0]) == {"file", "codes", "ms"}


def test_an_image_without_a_code_has_an_empty_list(images: dict[str, Path]) -> None:
    status, lines, _ = run(["decode", str(images["empty"])])
    assert status == 0
    assert lines[0]["codes"] == []


def test_unreadable_files_fail_with_status_2_and_the_rest_are_still_decoded(
    images: dict[str, Path], tmp_path: Path, tickets: list[str]
) -> None:
    missing = tmp_path / "missing.png"
    status, lines, stderr = run(
        ["decode", str(missing), str(images["one"]), str(images["broken"]), str(images["empty"])]
    )
    assert status == 2
    assert [line["file"] for line in lines] == [str(images["one"]), str(images["empty"])]
    assert lines[0]["codes"] == [tickets[0]]
    assert f"cannot read {missing}" in stderr and "No such file" in stderr
    assert f"cannot read {images['broken']}: not an image" in stderr


@pytest.mark.parametrize("decoder", ["zxing", "pyzbar", "opencv"])
def test_every_decoder_can_be_chosen(
    images: dict[str, Path], tickets: list[str], decoder: str
) -> None:
    status, lines, _ = run(["decode", "--decoder", decoder, str(images["one"])])
    assert status == 0
    assert lines[0]["codes"] == [tickets[0]]


def test_an_unknown_decoder_is_a_usage_error(images: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["decode", "--decoder", "quagga", str(images["one"])])
    assert result.exit_code != 0
    assert "quagga" in result.stderr


def test_installed_console_script_runs(images: dict[str, Path], tickets: list[str]) -> None:
    script = Path(sys.executable).with_name("soca-kiosk")
    completed = subprocess.run(
        [str(script), "decode", str(images["one"]), str(images["broken"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    (line,) = completed.stdout.splitlines()
    assert json.loads(line)["codes"] == [tickets[0]]
    assert "not an image" in completed.stderr
