"""Which server a sync cycle talks to: the venue hub when reachable, else HQ, else offline.

The candidates, in order: the hub this kiosk is pointed at (`hub_url`), the
one it was paired through, or one found on the local network for its event
(`discovery`); then HQ (the server it was paired with, or the hub's upstream).
A hub is used only after `GET /hub/info` says it is a hub serving this
kiosk's event. The hub gets quick timeouts, so a dead hub costs a second
before the cycle falls back to HQ. What was used last is kept in
`route.json` beside the outbox, for the status line (`load_route`).

Ops never depend on the route: an op stays pending until some server
answers it, a repeat is answered with its first result, and ops a hub
answered are kept in `held` until HQ is known to hold them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

import httpx

from core.clock import Clock
from core.wire import HubInfo
from kiosk.errors import RequestRefused, SyncError
from kiosk.store.config import DeviceConfig
from kiosk.sync.client import RetryPolicy, SyncClient

ROUTE_FILE = "route.json"
Via = Literal["hub", "upstream", "offline"]
#: Seconds a hub that failed rests before it is tried again (HQ meanwhile).
HUB_RETRY_S = 5.0
HUB_POLICY = RetryPolicy(
    attempts=2, deadline_s=10.0, connect_timeout_s=1.0, read_timeout_s=10.0, backoff_max_s=0.5
)


class Browser(Protocol):
    """What the router needs of a hub browser (`kiosk.sync.discovery.HubBrowser`)."""

    def found(self) -> list[str]:
        """Base URLs of hubs announced for this kiosk's event."""
        ...

    def close(self) -> None:
        """Stop looking."""
        ...


@dataclass
class RouteState:
    """What the kiosk knows of its servers, and which one the last cycle used."""

    upstream: str | None = None
    hub: str | None = None
    via: Via | None = None
    via_url: str | None = None
    at: float | None = None  # time.time() of the last cycle


def load_route(folder: Path) -> RouteState:
    """The saved route state (empty when none was saved or it cannot be read)."""
    try:
        data = json.loads((folder / ROUTE_FILE).read_text(encoding="utf-8"))
        return RouteState(**data)
    except (OSError, ValueError, TypeError):
        return RouteState()


def _save_route(folder: Path, state: RouteState) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{ROUTE_FILE}.tmp"
    temporary.write_text(json.dumps(asdict(state)), encoding="utf-8")
    os.replace(temporary, folder / ROUTE_FILE)


def learn_route(folder: Path, server: str, info: HubInfo | None) -> None:
    """Record whether the server a kiosk paired with is a hub (then its upstream is HQ)."""
    state = load_route(folder)
    server = server.rstrip("/")
    if info is not None and info.hub and info.upstream:
        state.hub, state.upstream = server, info.upstream.rstrip("/")
    else:
        state.upstream = server
    _save_route(folder, state)


class Router:
    """Hands a sync cycle its candidate servers and remembers which one worked.

    Threading contract: belongs to the sync thread, like the synchronizer that owns it.
    """

    def __init__(
        self,
        *,
        folder: Path,
        config: DeviceConfig,
        policy: RetryPolicy,
        clock: Clock,
        hub_url: str | None = None,
        browser: Browser | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.folder, self.config, self.policy, self.clock = folder, config, policy, clock
        self.pointed = hub_url.rstrip("/") if hub_url else None
        self.browser = browser
        self.transport = transport
        self.state = load_route(folder)
        if config.server_url.rstrip("/") not in (self.state.upstream, self.state.hub):
            # The device's server was changed (setup, or device.json by hand) since the route
            # was learned: what was learned is about another server, so learn it again.
            self.state = RouteState()
        self._clients: dict[str, SyncClient] = {}
        self._good_hubs: set[str] = set()
        self._bad_hubs: dict[str, float] = {}  # url -> when it last failed (monotonic)

    def close(self) -> None:
        """Close every client and stop looking for hubs."""
        if self.browser is not None:
            self.browser.close()
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def client(self, url: str) -> SyncClient:
        """The client for one server (quick timeouts for a hub)."""
        if url not in self._clients:
            policy = HUB_POLICY if url != self._upstream() else self.policy
            self._clients[url] = SyncClient(
                url,
                token=self.config.token,
                policy=policy,
                transport=self.transport,
                clock=self.clock,
            )
        return self._clients[url]

    def _upstream(self) -> str:
        return self.state.upstream or self.config.server_url.rstrip("/")

    def learn(self) -> None:
        """Ask the server we were paired with whether it is a hub, once it has answered a sync."""
        if self.state.upstream is not None:
            return
        server = self.config.server_url.rstrip("/")
        try:
            info = self.client(server).hub_info()
        except RequestRefused:
            info = None  # a server from before hubs
        except SyncError:
            return  # ask again after the next cycle
        learn_route(self.folder, server, info)
        self.state = load_route(self.folder)

    def _usable_hub(self, url: str) -> bool:
        if url in self._good_hubs:
            return True
        try:
            info = self.client(url).hub_info()
        except SyncError:
            return False
        event_id = self.config.event_id
        usable = info.hub and (event_id is None or event_id in info.event_ids)
        if usable:
            self._good_hubs.add(url)
            if info.upstream and self.state.upstream is None:
                self.state.upstream = info.upstream.rstrip("/")
        return usable

    def candidates(self) -> list[tuple[Via, str]]:
        """The servers to try this cycle, preferred first: one hub that answers, then HQ."""
        upstream = self._upstream()
        known = [url for url in (self.pointed, self.state.hub) if url]
        found = self.browser.found() if self.browser is not None else []
        for url in dict.fromkeys([*known, *found]):
            if url == upstream or self._resting(url):
                continue
            if self._usable_hub(url):
                return [("hub", url), ("upstream", upstream)]
            self._bad_hubs[url] = time.monotonic()
        return [("upstream", upstream)]

    def _resting(self, url: str) -> bool:
        """A hub that failed is tried again only after `HUB_RETRY_S`."""
        failed_at = self._bad_hubs.get(url)
        return failed_at is not None and time.monotonic() - failed_at < HUB_RETRY_S

    def failed(self, via: Via, url: str) -> None:
        """A server did not answer: a hub rests before it is tried again."""
        if via == "hub":
            self._good_hubs.discard(url)
            self._bad_hubs[url] = time.monotonic()

    def used(self, via: Via, url: str | None) -> None:
        """Record the route of the cycle that just ended."""
        self.state.via, self.state.via_url, self.state.at = via, url, time.time()
        _save_route(self.folder, self.state)
