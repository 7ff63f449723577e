"""`soca-kiosk setup`, `pin set | clear`, and `run` opening the saved mode in kiosk mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kiosk.cli import app
from kiosk.services.pin import PinGuard, verify_pin
from kiosk.services.setup import set_pin_hash
from kiosk.store.config import load_config, save_config
from tests.kiosk.world import World, install

runner = CliRunner()
SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_pin_set_asks_twice_and_stores_only_a_hash(tmp_path: Path, world: World) -> None:
    settings, _ = install(tmp_path, world)
    code, out, _ = invoke("pin", "set", "--data-dir", str(tmp_path), stdin="2468\n2468\n")
    assert code == 0 and "PIN set" in out
    config = load_config(settings.config_path)
    assert config is not None and config.pin_hash is not None
    assert verify_pin("2468", config.pin_hash)
    assert "2468" not in settings.config_path.read_text(encoding="utf-8")
    assert settings.config_path.stat().st_mode & 0o777 == 0o600


def test_pin_set_with_two_different_entries_changes_nothing(tmp_path: Path, world: World) -> None:
    settings, _ = install(tmp_path, world)
    code, _, err = invoke("pin", "set", "--data-dir", str(tmp_path), stdin="2468\n8642\n")
    assert code == 1 and "error: the two PINs differ" in err and "Traceback" not in err
    config = load_config(settings.config_path)
    assert config is not None and config.pin_hash is None


def test_pin_set_refuses_a_short_pin(tmp_path: Path, world: World) -> None:
    install(tmp_path, world)
    code, _, err = invoke("pin", "set", "--data-dir", str(tmp_path), stdin="12\n12\n")
    assert code == 1 and "4 to 32 characters" in err


def test_pin_set_on_an_unpaired_kiosk_says_pair_first_without_asking(tmp_path: Path) -> None:
    code, out, err = invoke("pin", "set", "--data-dir", str(tmp_path))
    assert code == 1 and "not paired" in err and "New PIN" not in out


def test_pin_clear_removes_it(tmp_path: Path, world: World) -> None:
    settings, _ = install(tmp_path, world)
    invoke("pin", "set", "--data-dir", str(tmp_path), stdin="2468\n2468\n")
    code, out, _ = invoke("pin", "clear", "--data-dir", str(tmp_path))
    config = load_config(settings.config_path)
    assert code == 0 and "PIN removed" in out and config is not None and config.pin_hash is None


@pytest.fixture
def window_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the Qt windows and the camera: record what `run` would open, and with what."""
    import kiosk.cli
    import kiosk.ui.main

    calls: list[dict[str, Any]] = []

    def fake(kind: str) -> Any:
        def run(settings: Any, *args: Any, pin: Any = None) -> int:
            calls.append({"kind": kind, "gate": settings.gate, "pin": pin})
            return 0

        return run

    for kind in ("door", "prize", "review"):
        monkeypatch.setattr(kiosk.ui.main, f"run_{kind}_window", fake(kind))
    monkeypatch.setattr(kiosk.cli, "_open_camera", lambda camera, fallback, **_: None)
    return calls


def test_run_opens_the_saved_mode_and_gate_in_kiosk_mode_with_the_stored_pin(
    tmp_path: Path, world: World, window_calls: list[dict[str, Any]]
) -> None:
    settings, config = install(tmp_path, world)
    code, _, _ = invoke("run", "--data-dir", str(tmp_path))
    assert code == 0 and window_calls[-1] == {"kind": "door", "gate": "Main gate", "pin": None}

    save_config(settings.config_path, config.model_copy(update={"gate": "North gate"}))
    invoke("pin", "set", "--data-dir", str(tmp_path), stdin="2468\n2468\n")
    code, _, _ = invoke("run", "--data-dir", str(tmp_path))
    call = window_calls[-1]
    assert code == 0 and (call["kind"], call["gate"]) == ("door", "North gate")
    assert isinstance(call["pin"], PinGuard)
    assert not call["pin"].check("1111").ok and call["pin"].check("2468").ok

    code, _, _ = invoke("run", "--data-dir", str(tmp_path), "--gate", "Side", "--pin", "9999")
    assert code == 0 and window_calls[-1] == {"kind": "door", "gate": "Side", "pin": "9999"}


def test_run_opens_review_when_it_was_chosen(
    tmp_path: Path, world: World, window_calls: list[dict[str, Any]]
) -> None:
    settings, config = install(tmp_path, world)
    set_pin_hash(settings, None)
    save_config(settings.config_path, config.model_copy(update={"mode": "review"}))
    code, _, _ = invoke("run", "--data-dir", str(tmp_path))
    assert code == 0 and window_calls[-1]["kind"] == "review"


def test_the_installed_command_sets_the_pin_from_a_pipe(tmp_path: Path, world: World) -> None:
    settings, _ = install(tmp_path, world)
    result = subprocess.run(
        [SOCA_KIOSK, "pin", "set", "--data-dir", str(tmp_path)],
        input="2468\n2468\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config = load_config(settings.config_path)
    assert config is not None and config.pin_hash is not None
    assert verify_pin("2468", config.pin_hash)


def test_setup_opens_the_setup_window_with_the_camera_only_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiosk.cli
    import kiosk.ui.main

    opened: list[Any] = []
    calls: list[tuple[Any, ...]] = []

    def fake_window(settings: Any, camera: Any, *, server: str = "") -> int:
        calls.append((settings.data_dir, server, camera))
        return 0

    monkeypatch.setattr(kiosk.ui.main, "run_setup_window", fake_window)
    monkeypatch.setattr(kiosk.cli, "_open_camera", lambda camera, fallback: opened.append(camera))
    code, _, _ = invoke(
        "setup", "--server", "http://hq:8000", "--camera", "2", "--data-dir", str(tmp_path)
    )
    assert code == 0 and calls[0][:2] == (tmp_path, "http://hq:8000")
    assert opened == []  # the camera opens when "Scan pairing QR" is pressed
    calls[0][2]()
    assert opened == ["2"]
