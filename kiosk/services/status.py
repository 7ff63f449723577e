"""What the screens and `soca-kiosk status` show about sync: reachable, pending, problems, clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.services.scanning import storage_errors
from kiosk.store.cache import Cache
from kiosk.store.config import DeviceConfig
from kiosk.store.outbox import OpRecord, Outbox
from kiosk.sync.route import load_route


@dataclass(frozen=True, slots=True)
class Problem:
    """An op the server did not simply apply (`rejected` or `conflict`), kept and shown."""

    op_id: uuid.UUID
    type: str
    state: str
    reason: str | None
    message: str | None
    occurred_at: datetime

    @classmethod
    def from_record(cls, record: OpRecord) -> Problem:
        """From a stored op."""
        return cls(
            op_id=record.op_id,
            type=record.type.value,
            state=record.state,
            reason=record.reason,
            message=record.message,
            occurred_at=record.occurred_at,
        )


@dataclass(frozen=True, slots=True)
class KioskStatus:
    """Everything a status line needs; `online` is None before the first sync attempt."""

    paired: bool
    device_id: uuid.UUID | None
    device_name: str | None
    role: str | None
    scope: dict[str, str]
    server_url: str | None
    online: bool | None
    revoked: bool
    pending: int
    op_counts: dict[str, int]
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_code: str | None
    last_error_at: datetime | None
    clock_offset_s: float
    clock_measured_at: datetime | None
    clock_warning: bool
    last_pull_at: datetime | None
    cached: dict[str, int]
    problems: list[Problem] = field(default_factory=list)
    event_name: str | None = None  # a door device's event, once pulled
    #: What the last sync cycle used: "hub" (a venue hub), "upstream" (HQ) or "offline".
    via: str | None = None
    via_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As `status --json` prints it."""
        return {
            "paired": self.paired,
            "device_id": None if self.device_id is None else str(self.device_id),
            "device_name": self.device_name,
            "role": self.role,
            "scope": self.scope,
            "event_name": self.event_name,
            "server_url": self.server_url,
            "online": self.online,
            "via": self.via,
            "via_url": self.via_url,
            "revoked": self.revoked,
            "pending": self.pending,
            "ops": self.op_counts,
            "last_attempt_at": _iso(self.last_attempt_at),
            "last_success_at": _iso(self.last_success_at),
            "last_error": self.last_error,
            "last_error_code": self.last_error_code,
            "last_error_at": _iso(self.last_error_at),
            "clock_offset_s": round(self.clock_offset_s, 3),
            "clock_measured_at": _iso(self.clock_measured_at),
            "clock_warning": self.clock_warning,
            "last_pull_at": _iso(self.last_pull_at),
            "cached": self.cached,
            "problems": [
                {
                    "op_id": str(problem.op_id),
                    "type": problem.type,
                    "state": problem.state,
                    "reason": problem.reason,
                    "message": problem.message,
                    "occurred_at": problem.occurred_at.isoformat(),
                }
                for problem in self.problems
            ],
        }

    def _route_words(self) -> str:
        return _via_words(self.via, self.via_url) if self.online else ""

    def to_text(self) -> str:
        """As `status` prints it for a person."""
        lines = []
        if not self.paired:
            lines.append("device: not paired (run `soca-kiosk pair --server URL --code CODE`)")
        else:
            scope = ", ".join(f"{key} {value}" for key, value in self.scope.items())
            lines.append(f"device: {self.device_name} ({self.device_id}), {self.role} for {scope}")
            if self.event_name is not None:
                lines.append(f"event: {self.event_name}")
            elif "event_id" in self.scope:
                lines.append("event: not downloaded yet (run `soca-kiosk sync`)")
            lines.append(f"server: {self.server_url}")
        if self.revoked:
            lines.append(
                f"sync: DEVICE REVOKED; syncing stopped; {self.pending} unsent op(s) are kept "
                "in the outbox: pair again to send them"
            )
        elif self.online is None:
            lines.append("sync: never attempted")
        else:
            lines.append(f"sync: {'online' if self.online else 'OFFLINE'}{self._route_words()}")
        lines.append(
            f"outbox: {self.pending} pending, {self.op_counts.get('applied', 0)} applied, "
            f"{self.op_counts.get('duplicate', 0)} duplicate, "
            f"{self.op_counts.get('conflict', 0)} conflict, "
            f"{self.op_counts.get('rejected', 0)} rejected"
        )
        lines.append(f"last successful sync: {_human(self.last_success_at)}")
        if self.last_error:
            lines.append(f"last error: {self.last_error} ({_human(self.last_error_at)})")
        offset = f"{self.clock_offset_s:+.1f} s"
        if self.clock_measured_at is None:
            lines.append("clock offset: not measured yet")
        elif self.clock_warning:
            lines.append(
                f"clock offset: {offset}  WARNING: this device's clock is off by more "
                "than 2 minutes; fix the system clock"
            )
        else:
            lines.append(f"clock offset: {offset}")
        cached = ", ".join(f"{count} {table}" for table, count in self.cached.items() if count)
        lines.append(f"cache: {cached or 'empty'} (last pull {_human(self.last_pull_at)})")
        for problem in self.problems:
            lines.append(
                f"  {problem.state}: {problem.type} {problem.op_id} "
                f"{problem.reason or ''}{': ' + problem.message if problem.message else ''}"
            )
        return "\n".join(lines)


def _via_words(via: str | None, url: str | None) -> str:
    if via == "hub":
        return f" through the venue hub {url}"
    if via == "upstream":
        return f" with HQ {url}"
    return ""


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _human(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


class StatusService:
    """Reads the sync state for screens; belongs to the thread that opened its store objects."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        cache: Cache,
        config: DeviceConfig | None,
        clock_warning_s: float,
    ) -> None:
        self.outbox = outbox
        self.cache = cache
        self.config = config
        self.clock_warning_s = clock_warning_s

    @storage_errors
    def get_status(self, *, problems: int = 20) -> KioskStatus:
        """The current status, with the newest `problems` rejected or conflicting ops."""
        record = self.outbox.sync_record()
        clock = self.outbox.clock()
        counts = self.outbox.state_counts()
        config = self.config
        route = load_route(self.outbox.path.parent)
        offset = clock.offset.total_seconds()
        return KioskStatus(
            paired=config is not None,
            device_id=None if config is None else config.device_id,
            device_name=None if config is None else config.name,
            role=None if config is None else config.role.value,
            scope={}
            if config is None
            else {
                key: str(value)
                for key, value in config.scope.model_dump().items()
                if value is not None
            },
            server_url=None if config is None else config.server_url,
            online=record.online,
            revoked=record.revoked,
            pending=counts["pending"],
            op_counts=counts,
            last_attempt_at=record.last_attempt_at,
            last_success_at=record.last_success_at,
            last_error=record.last_error,
            last_error_code=record.last_error_code,
            last_error_at=record.last_error_at,
            clock_offset_s=offset,
            clock_measured_at=clock.measured_at,
            clock_warning=abs(offset) > self.clock_warning_s,
            last_pull_at=self.cache.last_pull_at(),
            cached=self.cache.counts(),
            problems=self.list_problems(limit=problems),
            event_name=self._event_name(),
            via=route.via,
            via_url=route.via_url,
        )

    def _event_name(self) -> str | None:
        if self.config is None or self.config.event_id is None:
            return None
        event = self.cache.event(self.config.event_id)
        return None if event is None else event.name

    @storage_errors
    def list_problems(self, *, limit: int = 100) -> list[Problem]:
        """Ops the server rejected or found in conflict, newest first."""
        records = self.outbox.list_ops(states=("rejected", "conflict"), limit=limit)
        return [Problem.from_record(record) for record in records]
