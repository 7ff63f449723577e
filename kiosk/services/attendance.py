"""The promoter's review of their own events, offline, from what the last pulls cached.

A PROMOTER device pulls its events, their tickets, the door scans the server
recorded and the holders' passports (see `server.sync.pull`). From those rows
alone `AttendanceService` works out, in plain Python:

- per event and in total: tickets, arrivals, no-shows, re-entries and refusals;
- arrivals over time: each ticket's first admission, counted per bucket of
  `ARRIVAL_BUCKET` (15 minutes), widened when an event's arrivals span more
  than `MAX_BUCKETS` buckets so a chart stays readable;
- superfans: holders admitted at `SUPERFAN_MIN_EVENTS` (2) or more of the
  promoter's events;
- arrivals per event country and per carnival circuit;
- the attendance CSV: one row per ticket, in a fixed column order.

An arrival is a ticket's earliest ADMITTED scan, or, when the server sent no
scan row for it, the ticket's first check-in as pulled. A revoked ticket
counts apart (`revoked`): never in tickets, arrivals, the chart or the fans;
the export still shows its admission. Times are UTC.

Threading contract: the service wraps the `Cache` it was given and belongs to
the thread that opened it, like every other service.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.store.cache import Cache, CachedEvent, CachedTicket
from kiosk.store.codec import parse_time

ARRIVAL_BUCKET = timedelta(minutes=15)
#: Wider buckets, tried in turn when an event's arrivals need more than `MAX_BUCKETS`.
WIDER_BUCKETS = tuple(timedelta(minutes=m) for m in (30, 60, 120, 240, 720, 1440))
MAX_BUCKETS = 96
SUPERFAN_MIN_EVENTS = 2
CSV_COLUMNS = (
    "event_id",
    "event",
    "event_starts_at",
    "country",
    "circuit",
    "ticket_id",
    "ticket_code",
    "holder_name",
    "handle",
    "tier",
    "status",
    "arrived_at",
    "gate",
    "reentries",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EventAttendance:
    """One of the promoter's events and its door totals."""

    id: uuid.UUID
    name: str
    starts_at: datetime | None
    venue: str | None
    country_code: str | None
    carnival_circuit: str | None
    tickets: int  # valid (unrevoked) tickets
    arrived: int  # tickets admitted at least once
    reentries: int
    refused: int
    revoked: int

    @property
    def no_shows(self) -> int:
        """Valid tickets never admitted."""
        return max(0, self.tickets - self.arrived)

    @property
    def turnout(self) -> float:
        """Arrived over valid tickets (0.0 when none were sold)."""
        return self.arrived / self.tickets if self.tickets else 0.0


@dataclass(frozen=True, slots=True)
class Totals:
    """The sums over all the promoter's events; `fans` counts distinct holders admitted."""

    events: int
    tickets: int
    arrived: int
    reentries: int
    refused: int
    fans: int

    @property
    def no_shows(self) -> int:
        """Valid tickets never admitted."""
        return max(0, self.tickets - self.arrived)


@dataclass(frozen=True, slots=True)
class ArrivalBucket:
    """Arrivals whose first admission fell in [start, start + bucket)."""

    start: datetime
    count: int


@dataclass(frozen=True, slots=True)
class EventArrivals:
    """One event's arrivals over time: consecutive buckets, empty ones included."""

    event_id: uuid.UUID
    bucket: timedelta
    buckets: tuple[ArrivalBucket, ...]

    @property
    def total(self) -> int:
        """All arrivals counted."""
        return sum(bucket.count for bucket in self.buckets)

    @property
    def peak(self) -> ArrivalBucket | None:
        """The busiest bucket (the earliest of equals)."""
        return max(self.buckets, key=lambda b: b.count, default=None)


@dataclass(frozen=True, slots=True)
class Superfan:
    """A holder admitted at several of the promoter's events, with where they followed them."""

    user_id: uuid.UUID
    handle: str | None
    name: str | None
    tier: str | None
    events: tuple[str, ...]  # event names, earliest first
    countries: tuple[str, ...]
    circuits: tuple[str, ...]

    @property
    def event_count(self) -> int:
        """How many of the promoter's events they came to."""
        return len(self.events)


@dataclass(frozen=True, slots=True)
class PlaceCount:
    """Arrivals at the events of one country or carnival circuit (`name` None: not set)."""

    name: str | None
    events: int
    arrived: int
    fans: int


@dataclass(frozen=True, slots=True)
class AttendanceReview:
    """Everything the promoter review screen shows, as of `last_pull_at`."""

    events: tuple[EventAttendance, ...]  # latest first
    totals: Totals
    arrivals: dict[uuid.UUID, EventArrivals]
    superfans: tuple[Superfan, ...]
    countries: tuple[PlaceCount, ...]
    circuits: tuple[PlaceCount, ...]
    last_pull_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttendanceRecord:
    """One ticket's line of the attendance export."""

    event: EventAttendance
    ticket_id: uuid.UUID
    ticket_code: str | None
    holder_name: str | None
    handle: str | None
    tier: str | None
    status: str  # ADMITTED, NO_SHOW or REVOKED
    arrived_at: datetime | None
    gate: str | None
    reentries: int

    def to_row(self) -> list[str]:
        """The CSV cells, in `CSV_COLUMNS` order."""
        return [
            str(self.event.id),
            self.event.name,
            _iso(self.event.starts_at),
            self.event.country_code or "",
            self.event.carnival_circuit or "",
            str(self.ticket_id),
            self.ticket_code or "",
            self.holder_name or "",
            self.handle or "",
            self.tier or "",
            self.status,
            _iso(self.arrived_at),
            self.gate or "",
            str(self.reentries),
        ]


@dataclass(frozen=True, slots=True)
class _Arrival:
    at: datetime
    gate: str | None


@dataclass(slots=True)
class _Rows:
    """The cached rows the review is computed from, read once."""

    events: dict[uuid.UUID, CachedEvent]
    tickets: list[CachedTicket]
    arrivals: dict[uuid.UUID, _Arrival]  # ticket id -> first admission
    reentries: Counter[uuid.UUID]  # ticket id -> REENTRY scans
    refused: Counter[uuid.UUID]  # event id -> REFUSED scans
    tiers: dict[uuid.UUID, tuple[str, str]]  # user id -> (handle, tier)


class AttendanceService:
    """`get_review()` and `export_csv()` over one cache (see the module docstring)."""

    def __init__(self, *, cache: Cache) -> None:
        self.cache = cache

    def get_review(self) -> AttendanceReview:
        """Totals, arrivals over time, superfans, countries and circuits of the cached events."""
        rows = self._read()
        events = self._event_totals(rows)
        by_event: dict[uuid.UUID, list[datetime]] = defaultdict(list)
        fans_by_event: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for ticket in rows.tickets:
            arrival = rows.arrivals.get(ticket.id)
            if arrival is None or ticket.revoked or ticket.event_id not in rows.events:
                continue
            by_event[ticket.event_id].append(arrival.at)
            if ticket.user_id is not None:
                fans_by_event[ticket.event_id].add(ticket.user_id)
        all_fans = set().union(*fans_by_event.values()) if fans_by_event else set()
        totals = Totals(
            events=len(events),
            tickets=sum(e.tickets for e in events),
            arrived=sum(e.arrived for e in events),
            reentries=sum(e.reentries for e in events),
            refused=sum(e.refused for e in events),
            fans=len(all_fans),
        )
        return AttendanceReview(
            events=tuple(events),
            totals=totals,
            arrivals={e.id: bucket_arrivals(e.id, by_event.get(e.id, [])) for e in events},
            superfans=self._superfans(rows, fans_by_event),
            countries=_places(events, fans_by_event, lambda e: e.country_code),
            circuits=_places(events, fans_by_event, lambda e: e.carnival_circuit),
            last_pull_at=self.cache.last_pull_at(),
        )

    def list_records(self) -> list[AttendanceRecord]:
        """Every cached ticket: events earliest first; arrivals in order, then the rest."""
        rows = self._read()
        events = {e.id: e for e in self._event_totals(rows)}
        records = []
        for ticket in rows.tickets:
            event = events.get(ticket.event_id)
            if event is None:
                continue
            arrival = rows.arrivals.get(ticket.id)
            status = "NO_SHOW" if arrival is None else "ADMITTED"
            if ticket.revoked:
                status = "REVOKED"
            tier = rows.tiers.get(ticket.user_id) if ticket.user_id is not None else None
            records.append(
                AttendanceRecord(
                    event=event,
                    ticket_id=ticket.id,
                    ticket_code=ticket.code,
                    holder_name=ticket.holder_name,
                    handle=ticket.handle or (tier[0] if tier else None),
                    tier=tier[1] if tier else None,
                    status=status,
                    arrived_at=None if arrival is None else arrival.at,
                    gate=None if arrival is None else arrival.gate,
                    reentries=rows.reentries[ticket.id],
                )
            )
        records.sort(
            key=lambda r: (
                _event_order(r.event),
                r.arrived_at is None,
                r.arrived_at or _EPOCH,
                (r.holder_name or r.handle or "").casefold(),
                str(r.ticket_id),
            )
        )
        return records

    def export_csv(self) -> str:
        """The attendance CSV (header, then one row per ticket; `\\r\\n` line ends)."""
        return attendance_csv(self.list_records())

    def write_csv(self, path: Path) -> int:
        """Write the CSV to `path` (UTF-8 with a BOM, for spreadsheets); the row count."""
        records = self.list_records()
        path.write_text(attendance_csv(records), encoding="utf-8-sig", newline="")
        return len(records)

    # ------------------------------------------------------------------ reading and summing

    def _read(self) -> _Rows:
        db = self.cache.db
        events = {event.id: event for event in self.cache.events()}
        tickets = self.cache.tickets()
        arrivals: dict[uuid.UUID, _Arrival] = {}
        reentries: Counter[uuid.UUID] = Counter()
        refused: Counter[uuid.UUID] = Counter()
        for event_id, ticket_id, gate, scanned_at, outcome in db.execute(
            "SELECT event_id, ticket_id, gate, scanned_at, outcome FROM scans "
            "ORDER BY scanned_at, id"
        ):
            if outcome == "REFUSED":
                refused[uuid.UUID(event_id)] += 1
            elif ticket_id is not None and outcome == "REENTRY":
                reentries[uuid.UUID(ticket_id)] += 1
            elif ticket_id is not None and outcome == "ADMITTED":
                arrivals.setdefault(uuid.UUID(ticket_id), _Arrival(parse_time(scanned_at), gate))
        for ticket in tickets:
            if ticket.id not in arrivals and ticket.checked_in_at is not None:
                arrivals[ticket.id] = _Arrival(ticket.checked_in_at, ticket.checked_in_gate)
        tiers = {p.user_id: (p.handle, p.current_tier) for p in self.cache.passports()}
        return _Rows(events, tickets, arrivals, reentries, refused, tiers)

    @staticmethod
    def _event_totals(rows: _Rows) -> list[EventAttendance]:
        valid: Counter[uuid.UUID] = Counter()
        revoked: Counter[uuid.UUID] = Counter()
        arrived: Counter[uuid.UUID] = Counter()
        reentries: Counter[uuid.UUID] = Counter()
        for ticket in rows.tickets:
            if ticket.revoked:
                revoked[ticket.event_id] += 1
                continue
            valid[ticket.event_id] += 1
            if ticket.id in rows.arrivals:
                arrived[ticket.event_id] += 1
            reentries[ticket.event_id] += rows.reentries[ticket.id]
        events = [
            EventAttendance(
                id=event.id,
                name=event.name,
                starts_at=event.starts_at,
                venue=event.venue,
                country_code=event.country_code,
                carnival_circuit=event.carnival_circuit,
                tickets=valid[event.id],
                arrived=arrived[event.id],
                reentries=reentries[event.id],
                refused=rows.refused[event.id],
                revoked=revoked[event.id],
            )
            for event in rows.events.values()
        ]
        events.sort(key=_event_order)
        events.reverse()  # latest first
        return events

    @staticmethod
    def _superfans(
        rows: _Rows, fans_by_event: dict[uuid.UUID, set[uuid.UUID]]
    ) -> tuple[Superfan, ...]:
        attended: dict[uuid.UUID, list[CachedEvent]] = defaultdict(list)
        for event_id, fans in fans_by_event.items():
            for user_id in fans:
                attended[user_id].append(rows.events[event_id])
        names: dict[uuid.UUID, tuple[str | None, str | None]] = {}
        for ticket in rows.tickets:
            if ticket.user_id is not None and ticket.id in rows.arrivals:
                names.setdefault(ticket.user_id, (ticket.holder_name, ticket.handle))
        superfans = []
        for user_id, events in attended.items():
            if len(events) < SUPERFAN_MIN_EVENTS:
                continue
            events.sort(key=_event_order)
            name, handle = names.get(user_id, (None, None))
            passport = rows.tiers.get(user_id)
            superfans.append(
                Superfan(
                    user_id=user_id,
                    handle=handle or (passport[0] if passport else None),
                    name=name,
                    tier=passport[1] if passport else None,
                    events=tuple(e.name for e in events),
                    countries=_distinct(e.country_code for e in events),
                    circuits=_distinct(e.carnival_circuit for e in events),
                )
            )
        superfans.sort(key=lambda f: (-f.event_count, (f.handle or f.name or "").casefold()))
        return tuple(superfans)


def bucket_arrivals(
    event_id: uuid.UUID, arrivals: Sequence[datetime], *, bucket: timedelta = ARRIVAL_BUCKET
) -> EventArrivals:
    """Count arrivals per bucket (aligned to UTC multiples of it), first to last, gaps as zeros."""
    if not arrivals:
        return EventArrivals(event_id, bucket, ())
    first, last = min(arrivals), max(arrivals)
    for size in (bucket, *(b for b in WIDER_BUCKETS if b > bucket)):
        start = _floor(first, size)
        if (last - start) // size < MAX_BUCKETS:
            break
    counts = Counter((moment - start) // size for moment in arrivals)
    return EventArrivals(
        event_id,
        size,
        tuple(
            ArrivalBucket(start + index * size, counts[index]) for index in range(max(counts) + 1)
        ),
    )


def attendance_csv(records: Iterable[AttendanceRecord]) -> str:
    """The CSV text of `records` under the `CSV_COLUMNS` header."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(record.to_row() for record in records)
    return out.getvalue()


def _floor(moment: datetime, size: timedelta) -> datetime:
    return _EPOCH + ((moment - _EPOCH) // size) * size


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _event_order(event: CachedEvent | EventAttendance) -> tuple[bool, datetime, str, str]:
    """Chronological, undated events last, then by name."""
    return (event.starts_at is None, event.starts_at or _EPOCH, event.name, str(event.id))


def _distinct(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _places(
    events: Sequence[EventAttendance],
    fans_by_event: dict[uuid.UUID, set[uuid.UUID]],
    key: Callable[[EventAttendance], str | None],
) -> tuple[PlaceCount, ...]:
    grouped: dict[str | None, list[EventAttendance]] = defaultdict(list)
    for event in events:
        grouped[key(event)].append(event)
    places = [
        PlaceCount(
            name=name,
            events=len(members),
            arrived=sum(e.arrived for e in members),
            fans=len(set().union(*(fans_by_event.get(e.id, set()) for e in members))),
        )
        for name, members in grouped.items()
    ]
    places.sort(key=lambda p: (-p.arrived, p.name is None, p.name or ""))
    return tuple(places)
