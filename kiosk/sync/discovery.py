"""Finding a venue hub on the local network: zeroconf (mDNS / DNS-SD), `_soca-hub._tcp`.

A hub (`soca-server hub`) announces itself with the events it serves in its
TXT record. A `HubBrowser` listens in the background (zeroconf's own
threads) from the moment the sync thread starts, so looking costs a sync
cycle nothing: `found()` lists the base URLs of hubs announced for the
kiosk's event (or naming none: a promoter's hub with many events), and the
router confirms one with `GET /hub/info` before using it.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import uuid

from zeroconf import ServiceBrowser, ServiceListener, Zeroconf

logger = logging.getLogger(__name__)

SERVICE_TYPE = "_soca-hub._tcp.local."


def serves(events_text: str, event_id: uuid.UUID | None) -> bool:
    """True when a TXT `events` value names this event (or names none)."""
    if event_id is None or not events_text:
        return True
    return str(event_id) in events_text.split(",")


class HubBrowser(ServiceListener):
    """Hubs announced for one event, as base URLs; kept current in the background.

    Threading contract: zeroconf calls the listener methods on its own thread;
    `found()` may be called from any thread (it copies under a lock).
    """

    def __init__(self, event_id: uuid.UUID | None) -> None:
        self.event_id = event_id
        self._urls: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._zeroconf: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None

    def start(self) -> HubBrowser:
        """Start listening; a network without multicast leaves the list empty."""
        try:
            self._zeroconf = Zeroconf()
            self._browser = ServiceBrowser(self._zeroconf, SERVICE_TYPE, self)
        except OSError as exc:
            logger.warning("cannot look for a venue hub on this network: %s", exc)
            self.close()
        return self

    def close(self) -> None:
        """Stop listening."""
        if self._browser is not None:
            self._browser.cancel()
            self._browser = None
        if self._zeroconf is not None:
            self._zeroconf.close()
            self._zeroconf = None

    def found(self) -> list[str]:
        """The hubs' base URLs, in name order."""
        with self._lock:
            return [url for name in sorted(self._urls) for url in self._urls[name]]

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        """A hub appeared: resolve it (on zeroconf's thread)."""
        info = zc.get_service_info(type_, name, timeout=2000)
        if info is None or info.port is None:
            return
        events = (info.properties.get(b"events") or b"").decode("ascii", "replace")
        if not serves(events, self.event_id):
            return
        urls = []
        for address in info.parsed_addresses():
            host = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
            urls.append(f"http://{host}:{info.port}")
        with self._lock:
            self._urls[name] = urls

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        """A hub changed its record: resolve it again."""
        self.add_service(zc, type_, name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        """A hub went away."""
        with self._lock:
            self._urls.pop(name, None)
