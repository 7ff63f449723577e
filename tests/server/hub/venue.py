"""A venue for hub tests: HQ (`soca-server serve`), a hub (`soca-server hub`), door sync clients.

Everything runs as real processes over loopback HTTP. A `Door` is a
kiosk's sync client reduced to the contract: it pushes ops with its own
token and seq, and pulls pages (with `wait`) from whichever server it is
pointed at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.kiosk.live import LiveServer


@dataclass
class Door:
    """A door kiosk's sync client: a device token, a gate and a seq counter."""

    token: str
    gate: str
    event_id: str
    server: str
    seq: int = 0
    cursor: str | None = None
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def scan_op(self, qr: str, *, at: datetime, verdict: str | None = None) -> dict[str, Any]:
        """A `ticket.scan` op at this door, at door time `at`."""
        self.seq += 1
        payload: dict[str, Any] = {"qr": qr, "event_id": self.event_id, "gate": self.gate}
        if verdict is not None:
            payload["verdict"] = verdict
        return {
            "op_id": str(uuid.uuid4()),
            "seq": self.seq,
            "type": "ticket.scan",
            "occurred_at": at.isoformat(),
            "device_clock": at.isoformat(),
            "payload": payload,
        }

    def push(self, *ops: dict[str, Any], server: str | None = None) -> list[dict[str, Any]]:
        """Push ops; the results, in order."""
        body = {"device_time": datetime.now(UTC).isoformat(), "ops": list(ops)}
        response = httpx.post(
            f"{server or self.server}/api/v1/sync/push",
            json=body,
            headers=self._headers(),
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return list(response.json()["results"])

    def pull(self, *, wait: float = 0, server: str | None = None) -> dict[str, Any]:
        """Pull until no more pages (the first may wait); keeps the tickets seen."""
        params: dict[str, Any] = {"limit": 5000}
        if wait:
            params["wait"] = wait
        while True:
            if self.cursor:
                params["cursor"] = self.cursor
            response = httpx.get(
                f"{server or self.server}/api/v1/sync/pull",
                params=params,
                headers=self._headers(),
                timeout=wait + 60,
            )
            assert response.status_code == 200, response.text
            page = dict(response.json())
            self.cursor = page["cursor"]
            for ticket in page.get("tickets", []):
                self.tickets[ticket["id"]] = ticket
            params.pop("wait", None)
            if not page["more"]:
                return page


def pair_door(hq: LiveServer, gate: str, server: str | None = None) -> Door:
    """Pair a door at HQ (or through `server`, a hub) for tonight's event."""
    code = hq.pairing_code(event_id=hq.event_id)
    response = httpx.post(
        f"{server or hq.url}/api/v1/devices/pair",
        json={"code": code, "name": f"Gate {gate}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return Door(response.json()["token"], f"Gate {gate}", hq.event_id, server or hq.url)


def hub_code(hq: LiveServer, **scope: str) -> str:
    """A HUB pairing code made at HQ."""
    response = hq.hq("POST", "/devices/pairing-codes", json={"role": "HUB", **scope})
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def tickets(hq: LiveServer) -> list[dict[str, Any]]:
    """Tonight's tickets of the demo world: {ticket_id, event_id, qr}."""
    return [
        ticket
        for attendee in hq.world["attendees"]
        for ticket in attendee["tickets"]
        if ticket["event_id"] == hq.event_id
    ]


def now_minus(seconds: float) -> datetime:
    """The time `seconds` ago (door times in the recent past)."""
    return datetime.now(UTC) - timedelta(seconds=seconds)
