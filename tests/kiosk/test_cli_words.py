"""`soca-kiosk pair | sync | status` speak in words: refusals, retries, progress, the event.

The real `soca-kiosk` program against a real seeded `soca-server` over HTTP;
its standard error is a pipe, so progress comes as plain lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.store.config import load_config, save_config
from tests.kiosk.live import LiveServer, live_server

SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`soca-server serve` on a seeded SQLite file, shared by the module's tests."""
    with live_server("sqlite", tmp_path_factory.mktemp("server")) as server:
        yield server


def kiosk(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `soca-kiosk ARGS` with extra `SOCA_KIOSK_*` settings."""
    return subprocess.run(
        [SOCA_KIOSK, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_a_refused_pairing_code_is_said_in_words(live: LiveServer, tmp_path: Path) -> None:
    done = kiosk("pair", "--server", live.url, "--code", "NOPE-NOPE", "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: the server refused the pairing code: This pairing code is unknown, expired "
        "or already used; ask for a new code."
    )
    assert "HTTP" not in done.stderr and "{" not in done.stderr


def test_sync_shows_a_large_pull_page_by_page_and_status_names_the_event(
    live: LiveServer, tmp_path: Path
) -> None:
    code = live.pairing_code(event_id=live.event_id)
    paired = kiosk(
        "pair", "--server", live.url, "--code", code, "--no-sync", "--data-dir", str(tmp_path)
    )
    assert paired.returncode == 0, paired.stderr
    done = kiosk("sync", "--data-dir", str(tmp_path), SOCA_KIOSK_PULL_PAGE_SIZE="4")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("pulled ")]
    assert len(lines) >= 3 and lines[0] == "pulled 8 row(s) in 2 page(s)…"
    assert "pulled" in done.stdout and "page(s)" in done.stdout
    status = kiosk("status", "--data-dir", str(tmp_path))
    tonight = live.world["events"][0]["name"]
    assert f"event: {tonight}" in status.stdout.splitlines()
    as_json = kiosk("status", "--json", "--data-dir", str(tmp_path))
    assert json.loads(as_json.stdout)["event_name"] == tonight


def test_sync_retries_in_words_not_in_stamina_log_lines(live: LiveServer, tmp_path: Path) -> None:
    code = live.pairing_code(event_id=live.event_id)
    paired = kiosk(
        "pair", "--server", live.url, "--code", code, "--no-sync", "--data-dir", str(tmp_path)
    )
    assert paired.returncode == 0, paired.stderr
    config = load_config(tmp_path / "device.json")
    assert config is not None
    save_config(
        tmp_path / "device.json", config.model_copy(update={"server_url": "http://127.0.0.1:9"})
    )
    done = kiosk(
        "sync",
        "--data-dir",
        str(tmp_path),
        SOCA_KIOSK_RETRY_ATTEMPTS="3",
        SOCA_KIOSK_BACKOFF_INITIAL_S="0.05",
        SOCA_KIOSK_BACKOFF_MAX_S="0.1",
    )
    assert done.returncode == 1
    retries = [line for line in done.stderr.splitlines() if "trying again in" in line]
    assert len(retries) == 2
    assert retries[0].startswith("no connection (the server is down, the address is wrong")
    assert retries[0].endswith("(retry 1)")
    assert "retry_scheduled" not in done.stderr and "stamina" not in done.stderr
    assert "error: cannot reach the server at http://127.0.0.1:9 after 3 attempt(s)" in done.stderr
