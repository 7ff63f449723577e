"""SIGKILL `soca-kiosk run --headless --codes -` at random moments: no printed op is ever lost.

Each round starts the command on one data folder paired with a real server,
feeds it a burst of codes (tickets, re-entries, packages, garbage) on stdin,
reads some of its output, and kills it with SIGKILL at a random moment: during
start-up, mid-burst, mid-sync (half the rounds sync in the background) or
idle. After every kill the files are opened as a restart would: every op the
command printed is there, `PRAGMA integrity_check` and `foreign_key_check`
pass, and every op has exactly its local effect (no partial rows). At the end
one sync leaves nothing pending, and the server holds every op once: seq 1..N
without a gap, each printed op recorded, each admission's points counted once.

Most rounds run the real entry point (`kiosk.cli.main`) in processes forked
from a forkserver that preloaded it, so 200 kills fit in seconds; a few run
the installed `soca-kiosk` script itself. SOCA_KIOSK_CRASHES sets the count
(default 200), SOCA_KIOSK_CRASH_SEED the seed (printed on failure).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kiosk.app import open_kiosk, open_synchronizer, pair_device
from kiosk.settings import KioskSettings, load_settings
from kiosk.store.cache import Cache
from kiosk.store.outbox import Outbox
from kiosk.sync.synchronizer import SyncReport
from tests.kiosk.crash_child import run_cli
from tests.kiosk.live import LiveServer, live_server

CRASHES = int(os.environ.get("SOCA_KIOSK_CRASHES", "200"))
REAL_SCRIPT_ROUNDS = 5
PRELOAD = [
    "kiosk.cli",
    "kiosk.app",
    "kiosk.services.headless",
    "kiosk.sync.loop",
    "kiosk.sync.synchronizer",
    "kiosk.sync.client",
    "tests.kiosk.crash_child",
]
SOCA_KIOSK = str(Path(sys.executable).parent / "soca-kiosk")


def _code_pool(world: dict[str, Any]) -> list[str]:
    pool = [attendee["tickets"][0]["qr"] for attendee in world["attendees"]]
    pool += [purchase["qr"] for purchase in world["purchases"]]
    pool += [world["attendees"][0]["passport_qr"], "garbage", "7" * 5000]
    return pool


def _read_lines(readable: Callable[[float], bool], fd: int, want: int, timeout: float) -> bytes:
    """Read from `fd` until `want` complete lines arrived, EOF, or `timeout`."""
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < want and time.monotonic() < deadline:
        if not readable(0.05):
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data


def _drain(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    return data


def _printed(output: bytes) -> list[dict[str, object]]:
    """Complete lines only: a line cut by the kill was never printed."""
    complete = output[: output.rfind(b"\n") + 1] if b"\n" in output else b""
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


class Round:
    """One start-feed-kill cycle; returns the lines the command printed."""

    def __init__(self, settings: KioskSettings, pool: list[str], rng: random.Random) -> None:
        self.argv = [
            "run",
            "--headless",
            "--codes",
            "-",
            "--no-sync",
            "--data-dir",
            str(settings.data_dir),
        ]
        self.pool = pool
        self.rng = rng

    def burst(self) -> tuple[bytes, int, float]:
        codes = [self.rng.choice(self.pool) for _ in range(self.rng.randint(5, 40))]
        payload = "".join(f"{code}\n" for code in codes).encode()
        if self.rng.random() < 0.15:  # kill during start-up, before any output
            return payload, 0, self.rng.uniform(0, 0.05)
        return payload, self.rng.randint(1, len(codes)), self.rng.uniform(0, 0.004)

    def options(self) -> list[str]:
        """Half the rounds sync in the background, so kills also land mid-push and mid-pull."""
        return ["--sync" if self.rng.random() < 0.5 else "--no-sync"]

    def forked(self, ctx: multiprocessing.context.ForkServerContext) -> list[dict[str, object]]:
        payload, want, delay = self.burst()
        argv = [*self.argv, *self.options()]
        child_in, feed = ctx.Pipe(duplex=False)
        output, child_out = ctx.Pipe(duplex=False)
        process = ctx.Process(target=run_cli, args=(argv, child_in, child_out), daemon=True)
        with _bare_main():
            process.start()
        child_in.close()
        child_out.close()
        try:
            os.write(feed.fileno(), payload)
            data = _read_lines(output.poll, output.fileno(), want, timeout=30)
            time.sleep(delay)
            if process.pid is not None:
                os.kill(process.pid, signal.SIGKILL)
            process.join(10)
            data += _drain(output.fileno())
        finally:
            feed.close()
            output.close()
            process.close()
        return _printed(data)

    def real_script(self) -> list[dict[str, object]]:
        payload, want, delay = self.burst()
        process = subprocess.Popen(
            [SOCA_KIOSK, *self.argv, *self.options()], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(payload)
            process.stdin.flush()
            fd = process.stdout.fileno()

            def readable(timeout: float) -> bool:
                import select

                return bool(select.select([fd], [], [], timeout)[0])

            data = _read_lines(readable, fd, want, timeout=60)
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            data += _drain(fd)
        finally:
            process.stdin.close()
            process.stdout.close()
        return _printed(data)


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """Start children without re-importing pytest's `__main__` in each (half a second apiece)."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def _check_files(settings: KioskSettings, printed: dict[str, dict[str, object]]) -> int:
    """Open the files as a restart would and check them; return how many ops exist."""
    outbox = Outbox.open(settings.outbox_path, busy_timeout_ms=5000).db.conn
    try:
        assert outbox.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert outbox.execute("PRAGMA foreign_key_check").fetchall() == []
        ops = {
            op_id: (kind, verdict)
            for op_id, kind, verdict in outbox.execute("SELECT op_id, type, verdict FROM ops")
        }
        missing = set(printed) - set(ops)
        assert not missing, f"printed but lost after SIGKILL: {sorted(missing)}"
        for op_id, line in printed.items():
            assert ops[op_id] == (line["type"], line["verdict"])
        green_scans = {
            op_id
            for op_id, (kind, verdict) in ops.items()
            if kind == "ticket.scan" and verdict == "green"
        }
        checkins = {row[0] for row in outbox.execute("SELECT op_id FROM checkins")}
        assert checkins == green_scans, "an admission without its check-in, or the reverse"
        activations = {row[0] for row in outbox.execute("SELECT op_id FROM activations")}
        assert activations == {op for op, (kind, _) in ops.items() if kind == "package.activate"}
        seqs = [row[0] for row in outbox.execute("SELECT seq FROM ops ORDER BY seq")]
        assert len(seqs) == len(set(seqs))
        return len(ops)
    finally:
        outbox.close()
        cache = Cache.open(settings.cache_path, busy_timeout_ms=5000).db.conn
        try:
            assert cache.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            cache.close()


def test_sigkill_at_random_moments_never_loses_a_printed_op_or_leaves_partial_rows(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("SOCA_KIOSK_CRASH_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    with live_server("sqlite", tmp_path / "server") as live:
        settings = load_settings(data_dir=tmp_path / "kiosk", backoff_initial_s=0.01)
        pair_device(settings, server_url=live.url, code=live.pairing_code(event_id=live.event_id))
        assert _sync(settings).ok
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        round_ = Round(settings, _code_pool(live.world), rng)
        printed: dict[str, dict[str, object]] = {}
        kills_mid_output = 0
        for number in range(CRASHES):
            real = number % (CRASHES // REAL_SCRIPT_ROUNDS or 1) == 0
            lines = round_.real_script() if real else round_.forked(ctx)
            kills_mid_output += bool(lines)
            printed.update(
                {str(line["op_id"]): line for line in lines if line["op_id"] is not None}
            )
            try:
                _check_files(settings, printed)
            except AssertionError as exc:
                raise AssertionError(f"round {number} (seed {seed}): {exc}") from exc
        assert kills_mid_output > CRASHES // 2, "most kills should land after some output"

        report = _sync(settings)
        assert report.ok and report.pending == 0, report.error
        total = _check_files(settings, printed)
        _assert_server_holds_each_op_once(live, settings, printed, total)


def _sync(settings: KioskSettings) -> SyncReport:
    synchronizer = open_synchronizer(settings)
    try:
        return synchronizer.sync_once()
    finally:
        synchronizer.close()


def _assert_server_holds_each_op_once(
    live: LiveServer, settings: KioskSettings, printed: dict[str, dict[str, object]], total: int
) -> None:
    with open_kiosk(settings) as kiosk:
        assert kiosk.config is not None
        device_id = str(kiosk.config.device_id)
        admitted = {
            str(row[0]) for row in kiosk.outbox.db.execute("SELECT DISTINCT user_id FROM checkins")
        }
    report = next(d for d in live.hq("GET", "/devices").json() if d["id"] == device_id)
    assert report["last_seq"] == total and report["seq_gaps"] == []  # seq 1..total, no hole
    for op_id, line in printed.items():  # every op the kiosk printed, recorded once
        recorded = live.op(op_id)
        assert recorded["type"] == line["type"] and recorded["device_id"] == device_id
    points = live.world["events"][0]["stamp_points_default"]
    for attendee in live.world["attendees"]:
        expected = attendee["total_points"] + (points if attendee["user_id"] in admitted else 0)
        assert live.passport(attendee["user_id"])["total_points"] == expected  # effects once
