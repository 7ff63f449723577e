"""A night at the door, compressed: the real door window offscreen against a real server.

    uv run python bench/kiosk_soak.py                     # 3000 scans, one round
    uv run python bench/kiosk_soak.py --scans 600 --rounds 3 --port 18100

`soca-server serve` runs on a seeded SQLite file (on `--port`), reached
through a TCP relay on the next port that the soak cuts (connections
refused) and restores every `--cut-every` scans. A paired door kiosk runs
the real `DoorWindow`, its store and sync threads (sync every second), a
simulated camera (frames with the code drawn in, decoded by the real
capture and decode threads) and the keyboard wedge (key events through the
application's event filter). Every `--switch-every` scans the screen
switches to the setup screen and back (its own store thread started and
stopped). The collector runs with `gc.set_threshold(--gc)`. Each round runs
in a child process, so a crash is counted, not fatal; the table gives
crashes, scans lost (no verdict within 10 s), sync cycles, the reference
counts of None/True/False at the start and end of the scans, and the
resident memory growth per 1,000 scans after a warm-up (targets: 0, 0, -,
unchanged, under 1 MB).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WARM_UP = 300
WAIT_S = 10.0


class Relay:
    """A TCP relay to `upstream_port`; `cut()` refuses new connections and drops open ones."""

    def __init__(self, port: int, upstream_port: int) -> None:
        self.port = port
        self._upstream = upstream_port
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def restore(self) -> None:
        """Listen again."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and drop every open connection (the cable pulled)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._open:
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self._upstream), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._open.discard(source)


def rss_mb() -> float:
    """This process's resident memory, in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def refcounts() -> list[int]:
    """The reference counts of None, True and False."""
    return [sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)]


def seed_and_serve(folder: Path, port: int) -> tuple[Any, dict[str, Any]]:
    """`soca-server seed-demo` on a SQLite file, then `serve` on `port`."""
    from server.devtools import ServerProcess

    url = f"sqlite:///{folder / 'server.sqlite3'}"
    out = folder / "demo.json"
    subprocess.run(
        [sys.executable, "-c", "from server.cli import main; main()", "seed-demo", "--out", out],
        env={**os.environ, "SOCA_DATABASE_URL": url},
        capture_output=True,
        check=True,
        timeout=300,
    )
    server = ServerProcess(url, port=port)
    server.start()
    return server, json.loads(out.read_text(encoding="utf-8"))


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One round in this process; returns its figures."""
    gc.set_threshold(*args.gc)
    import httpx
    import numpy as np
    from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from bench.kiosk_ui import SwitchingCamera
    from kiosk.app import open_synchronizer, pair_device
    from kiosk.scanner.synth import Condition, render_frame
    from kiosk.scanner.validator import ScanValidator
    from kiosk.scanner.worker import Scanner
    from kiosk.settings import load_settings
    from kiosk.ui.door import DoorWindow
    from kiosk.ui.setup import SetupWindow
    from kiosk.ui.sounds import Sounds

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    server, world = seed_and_serve(folder, args.port)
    relay = Relay(args.port + 1, args.port)
    relay.restore()
    try:
        event_id = str(world["events"][0]["id"])
        response = httpx.post(
            f"{server.base_url}/api/v1/devices/pairing-codes",
            headers={"Authorization": f"Bearer {world['admin_token']}"},
            json={"role": "DOOR", "event_id": event_id},
            timeout=30,
        )
        response.raise_for_status()
        settings = load_settings(
            data_dir=folder / "door", gate="Gate 1", sync_interval_s=1.0, retry_attempts=1
        )
        pair_device(
            settings, server_url=f"http://127.0.0.1:{relay.port}", code=response.json()["code"]
        )
        synchronizer = open_synchronizer(settings)
        synchronizer.sync_once()
        synchronizer.close()
        codes = [t["qr"] for a in world["attendees"] for t in a["tickets"]][:40]
        codes.append("https://menu.example.com/specials")  # a red one
        frames = [
            render_frame(Condition.CLEAN, [c], width=640, height=480, seed=i).image
            for i, c in enumerate(codes)
        ]
        blank = np.full_like(frames[0], 128)
        camera = SwitchingCamera(blank, 30.0)
        scanner = Scanner(camera, validator=ScanValidator(suppress_seconds=0.0))
        window = DoorWindow(
            settings, None, scanner=scanner, sounds=Sounds(audible=False), clear_after_ms=50
        )
        window.resize(1280, 800)
        window.show()
        verdicts: list[object] = []
        window.verdict_shown.connect(verdicts.append)
        window.start()

        def wait_for(count: int) -> bool:
            deadline = time.monotonic() + WAIT_S
            while len(verdicts) < count and time.monotonic() < deadline:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            return len(verdicts) >= count

        figures: dict[str, Any] = {"lost_at": [], "camera": 0, "wedge": 0, "cuts": 0, "switches": 0}
        warm_up = min(WARM_UP, args.scans // 3)
        start_counts, start_rss, warm_rss = refcounts(), rss_mb(), 0.0
        started = time.monotonic()
        cut = False
        for i in range(args.scans):
            if i == warm_up:
                gc.collect()
                warm_rss = rss_mb()
            code = i % len(codes)
            expected = len(verdicts) + 1
            if i % args.camera_every == 0:
                figures["camera"] += 1
                camera.show(frames[code])
                ok = wait_for(expected)
                camera.show(blank)
            else:
                figures["wedge"] += 1
                window.search_box.setFocus()
                QTest.keyClicks(window.search_box, codes[code])
                QTest.keyClick(window.search_box, Qt.Key.Key_Return)
                ok = wait_for(expected)
            if not ok:
                figures["lost_at"].append(f"{i}:{'camera' if i % args.camera_every == 0 else 'wedge'}")
                verdicts.extend([None] * (expected - len(verdicts)))
            if i and i % args.cut_every == 0:
                if cut:
                    relay.restore()
                else:
                    relay.cut()
                cut = not cut
                figures["cuts"] += 1
            if i and i % args.switch_every == 0:
                window.hide()
                setup = SetupWindow(settings)
                setup.show()
                deadline = time.monotonic() + WAIT_S
                while setup.state is None and time.monotonic() < deadline:
                    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
                setup.close()
                setup.deleteLater()
                window.show()
                figures["switches"] += 1
        if cut:
            relay.restore()
        elapsed = time.monotonic() - started
        gc.collect()
        QCoreApplication.processEvents()
        end_counts, end_rss = refcounts(), rss_mb()
        figures["lost"] = len(figures["lost_at"])
        figures["sync_cycles"] = window.sync.cycles
        figures["problems"] = len(window.errors)
        window.close()
        scans_after = max(1, args.scans - warm_up)
        figures.update(
            scans=args.scans,
            seconds=round(elapsed, 1),
            refcounts_start=start_counts,
            refcounts_end=end_counts,
            rss_start_mb=round(start_rss, 1),
            rss_end_mb=round(end_rss, 1),
            rss_per_1000_mb=round((end_rss - warm_rss) * 1000 / scans_after, 3),
            refcount_change=[e - s for s, e in zip(start_counts, end_counts, strict=True)],
            stopped=not window.threads_running(),
        )
        return figures
    finally:
        relay.cut()
        server.stop()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--port", type=int, default=18100, help="the server's; the relay's is +1")
    parser.add_argument("--camera-every", type=int, default=5, help="every Nth scan by camera")
    parser.add_argument("--cut-every", type=int, default=250)
    parser.add_argument("--switch-every", type=int, default=400)
    parser.add_argument("--gc", type=int, nargs=3, default=[50, 5, 5])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the rounds as JSON lines")
    return parser.parse_args(argv)


def run_round(args: argparse.Namespace) -> dict[str, Any]:
    """Run one round in a child process; a child that dies is a crash."""
    command = [sys.executable, __file__, "--child", *sys.argv[1:]]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-5:]
        return {"crashes": 1, "exit": done.returncode, "stderr": tail}
    return {"crashes": 0, **json.loads(lines[-1])}


def main() -> None:
    """Run the rounds and print the table."""
    args = parse()
    if args.child:
        print(json.dumps(child(args)), flush=True)
        return
    rounds = [run_round(args) for _ in range(args.rounds)]
    if args.json:
        for figures in rounds:
            print(json.dumps(figures))
        return
    keys = (
        "crashes",
        "scans",
        "camera",
        "wedge",
        "lost",
        "cuts",
        "switches",
        "sync_cycles",
        "refcounts_start",
        "refcounts_end",
        "refcount_change",
        "rss_start_mb",
        "rss_end_mb",
        "rss_per_1000_mb",
        "seconds",
        "stopped",
    )
    print(f"{'round':<18}" + "".join(f"{n + 1:>22}" for n in range(len(rounds))))
    for key in keys:
        cells = "".join(f"{r.get(key, '-')!s:>22}" for r in rounds)
        print(f"{key:<18}{cells}")
    for r in rounds:
        if r.get("crashes"):
            print("crash:", r.get("exit"), *r.get("stderr", []), sep="\n  ")
        if r.get("lost_at"):
            print("scans lost (index:input):", *r["lost_at"])


if __name__ == "__main__":
    main()
