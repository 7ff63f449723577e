"""A promoter's door history made for real, then pulled by a real PROMOTER kiosk.

On a seeded live server: three attendees get tickets for the Miami event too,
one of tonight's tickets is revoked after tonight's door synced (so the door
admits it offline and the server refuses it), two door kiosks (tonight's and Miami's)
scan at chosen door times and push, and a PROMOTER device pairs and pulls.
Door times are exact: each door kiosk's clock offset is set to zero and its
clock is a `FixedClock` moved before every scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.clock import FixedClock
from kiosk.app import open_kiosk, open_synchronizer, pair_device
from kiosk.services.verdict import Colour
from kiosk.settings import KioskSettings, load_settings
from tests.kiosk.live import LiveServer

# Minutes after each event's hour: (attendee index, minutes, expected colour).
TONIGHT_SCANS = (
    (0, 5, Colour.GREEN),
    (1, 7, Colour.GREEN),
    (11, 10, Colour.GREEN),  # revoked after the door synced: the server refuses it
    (2, 20, Colour.GREEN),
    (3, 50, Colour.GREEN),
    (4, 52, Colour.GREEN),
    (0, 70, Colour.AMBER),  # re-entry
)
MIAMI_HOLDERS = (0, 1, 2)
MIAMI_SCANS = ((0, 10, Colour.GREEN), (1, 25, Colour.GREEN))


@dataclass
class PromoterHistory:
    """The promoter kiosk's settings and what the test made happen."""

    settings: KioskSettings
    tonight: dict[str, Any]
    miami: dict[str, Any]
    tonight_hour: datetime
    miami_hour: datetime
    miami_tickets: dict[int, dict[str, Any]]  # attendee index -> ticket view


def _hour(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def pair(live: LiveServer, folder: Path, body: dict[str, str], gate: str) -> KioskSettings:
    """A kiosk paired with a code for `body` (role and scope), synced once."""
    settings = load_settings(data_dir=folder, gate=gate, sync_interval_s=30.0)
    response = live.hq("POST", "/devices/pairing-codes", json=body)
    assert response.status_code == 201, response.text
    pair_device(settings, server_url=live.url, code=str(response.json()["code"]))
    _sync(settings)
    return settings


def _sync(settings: KioskSettings) -> None:
    synchronizer = open_synchronizer(settings)
    try:
        report = synchronizer.sync_once()
        assert report.ok, report
    finally:
        synchronizer.close()


def _scan_at_door(
    live: LiveServer,
    folder: Path,
    event_id: str,
    gate: str,
    hour: datetime,
    scans: tuple[tuple[int, int, Colour], ...],
    qr_of: dict[int, str],
    revoke: str | None = None,
) -> None:
    settings = pair(live, folder, {"role": "DOOR", "event_id": event_id}, gate)
    if revoke is not None:
        response = live.hq("POST", f"/tickets/{revoke}/revoke")
        assert response.status_code == 200, response.text
    clock = FixedClock(hour)
    with open_kiosk(settings, clock=clock) as kiosk:
        kiosk.outbox.set_clock(timedelta(0), measured_at=hour)
        for index, minutes, colour in scans:
            clock.set(hour + timedelta(minutes=minutes))
            verdict = kiosk.require_door().scan(qr_of[index])
            assert verdict.colour is colour, (index, minutes, verdict)
    _sync(settings)


def make_history(live: LiveServer, folder: Path) -> PromoterHistory:
    """Scan, push, then pair and pull a PROMOTER kiosk (see the module docstring)."""
    world = live.world
    attendees = world["attendees"]
    tonight, miami = world["events"][0], world["events"][1]
    miami_tickets = {}
    for index in MIAMI_HOLDERS:
        response = live.hq(
            "POST",
            f"/events/{miami['id']}/tickets",
            json={
                "email": attendees[index]["email"],
                "holder_name": attendees[index]["display_name"],
            },
        )
        assert response.status_code == 201, response.text
        miami_tickets[index] = dict(response.json())
    tonight_hour, miami_hour = _hour(tonight["starts_at"]), _hour(miami["starts_at"])
    _scan_at_door(
        live,
        folder / "door-tonight",
        tonight["id"],
        "Gate 2",
        tonight_hour,
        TONIGHT_SCANS,
        {index: a["tickets"][0]["qr"] for index, a in enumerate(attendees)},
        revoke=attendees[11]["tickets"][0]["ticket_id"],
    )
    _scan_at_door(
        live,
        folder / "door-miami",
        miami["id"],
        "North",
        miami_hour,
        MIAMI_SCANS,
        {index: str(ticket["qr"]) for index, ticket in miami_tickets.items()},
    )
    promoter = pair(
        live,
        folder / "promoter",
        {"role": "PROMOTER", "promoter_id": world["promoter"]["id"]},
        "Office",
    )
    return PromoterHistory(promoter, tonight, miami, tonight_hour, miami_hour, miami_tickets)
