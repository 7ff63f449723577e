"""The waiting pull: a thread that asks the server to answer as soon as this device's scope changes.

`GET /sync/pull?wait=S&limit=1` from the last cursor the synchronizer
stored: when the answer's cursor moved, something changed (a scan at another
door) and `on_change` asks the sync loop for a cycle now, which pulls it.
The watcher pulls nothing into the cache itself (the synchronizer owns the
cache). A server that does not wait answers at once, and the watcher then
simply asks again after `IDLE_S`; any failure pauses it for `RETRY_S`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

IDLE_S = 2.0
RETRY_S = 2.0
#: After a change, how long to wait for the synchronizer's cursor to move before asking again.
SETTLE_S = 3.0

Target = tuple[str, str | None] | None  # (server base URL, cursor), or None: nothing to watch


class ChangeWatcher:
    """Long-polls the current server; `on_change()` when the device's scope changed.

    Threading contract: runs on its own daemon thread with its own HTTP client;
    `target()` and `on_change()` are called from it, so both must be thread-safe
    (reading one attribute, setting an event).
    """

    def __init__(
        self,
        *,
        token: str,
        wait_s: float,
        target: Callable[[], Target],
        on_change: Callable[[], None],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.wait_s, self.target, self.on_change = wait_s, target, on_change
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(wait_s + 10, connect=2.0),
            transport=transport,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soca-watch", daemon=True)

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current request (bounded by its wait)."""
        self._stop.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                target = self.target()
                if target is None:
                    self._stop.wait(IDLE_S)
                    continue
                self._watch_once(*target)
        finally:
            self._http.close()

    def _watch_once(self, url: str, cursor: str | None) -> None:
        params: dict[str, str | float] = {"limit": 1, "wait": self.wait_s}
        if cursor is not None:
            params["cursor"] = cursor
        started = time.monotonic()
        try:
            response = self._http.get(f"{url}/api/v1/sync/pull", params=params)
            moved = response.status_code == 200 and response.json().get("cursor") != cursor
        except (httpx.HTTPError, ValueError):
            self._stop.wait(RETRY_S)
            return
        if not moved:
            if time.monotonic() - started < 1.0:  # it did not wait: do not hammer it
                self._stop.wait(IDLE_S)
            return
        self.on_change()
        deadline = time.monotonic() + SETTLE_S
        while self.target() == (url, cursor) and time.monotonic() < deadline:
            if self._stop.wait(0.05):
                return
