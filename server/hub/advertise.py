"""Announcing a venue hub on the local network (zeroconf / mDNS, DNS-SD type `SERVICE_TYPE`).

The TXT record holds the hub's device id, its API path and the events it
serves (as many as fit), so a kiosk can pick the hub for its own event
without asking; it still confirms with `GET /api/v1/hub/info`.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Sequence

from zeroconf import IPVersion, ServiceInfo, Zeroconf

SERVICE_TYPE = "_soca-hub._tcp.local."
#: UUIDs in the TXT record (a DNS TXT string holds 255 bytes; one UUID is 36).
TXT_EVENTS = 6


def _addresses(host: str) -> list[bytes]:
    if host in ("0.0.0.0", ""):  # noqa: S104 (the address we were told to serve on)
        found = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        names = {str(info[4][0]) for info in found} | {"127.0.0.1"}
        return [socket.inet_aton(name) for name in sorted(names)]
    return [socket.inet_aton(socket.gethostbyname(host))]


def service_info(
    *, name: str, host: str, port: int, device_id: str, event_ids: Sequence[uuid.UUID]
) -> ServiceInfo:
    """The DNS-SD record of a hub listening on host:port."""
    label = "".join(char for char in name if char.isalnum() or char in " -")[:40] or "hub"
    events = ",".join(str(event) for event in list(event_ids)[:TXT_EVENTS])
    return ServiceInfo(
        SERVICE_TYPE,
        f"Soca hub {label} {device_id[:8]}.{SERVICE_TYPE}",
        addresses=_addresses(host),
        port=port,
        properties={"device": device_id, "path": "/api/v1", "events": events},
        server=f"soca-hub-{device_id[:8]}.local.",
    )


class Advertiser:
    """Registers the hub's service on start and withdraws it on stop."""

    def __init__(self, info: ServiceInfo) -> None:
        self.info = info
        self._zeroconf: Zeroconf | None = None

    def start(self) -> None:
        """Announce the hub."""
        self._zeroconf = Zeroconf(ip_version=IPVersion.V4Only)
        self._zeroconf.register_service(self.info)

    def stop(self) -> None:
        """Withdraw the announcement."""
        if self._zeroconf is not None:
            self._zeroconf.unregister_service(self.info)
            self._zeroconf.close()
            self._zeroconf = None
