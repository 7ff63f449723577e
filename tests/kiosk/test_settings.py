"""Typed settings: flags over SOCA_KIOSK_* variables over defaults; bad values are one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.errors import SettingsError
from kiosk.settings import default_data_dir, load_settings


def test_defaults_put_the_three_files_in_the_platform_data_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SOCA_KIOSK_DATA_DIR", raising=False)
    settings = load_settings()
    assert settings.data_dir == default_data_dir()
    assert {settings.outbox_path.name, settings.cache_path.name, settings.config_path.name} == {
        "outbox.sqlite3",
        "cache.sqlite3",
        "device.json",
    }
    assert settings.outbox_path != settings.cache_path


def test_flags_win_over_the_environment_which_wins_over_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOCA_KIOSK_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("SOCA_KIOSK_GATE", "North gate")
    assert load_settings().data_dir == tmp_path / "env"
    assert load_settings(gate=None).gate == "North gate"  # None means "flag not given"
    assert load_settings(data_dir=tmp_path / "flag").data_dir == tmp_path / "flag"


def test_an_invalid_value_is_one_settings_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCA_KIOSK_PUSH_BATCH_SIZE", "5000")
    with pytest.raises(SettingsError, match="push_batch_size"):
        load_settings()


@pytest.mark.parametrize("gate", ["G" * 61, "Gate\x00A", ""])
def test_a_gate_the_server_would_refuse_is_a_settings_error(gate: str) -> None:
    with pytest.raises(SettingsError, match="gate"):
        load_settings(gate=gate)
