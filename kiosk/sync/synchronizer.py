"""One sync cycle: push pending ops in batches and mark each from its result, then pull every page.

Nothing here decides anything about tickets or cards: the server's results
are stored on the ops, the server's rows replace the cached ones. Every op
stays `pending` until the server returns a result for it, so an op whose
response was lost is simply sent again (the server answers a repeated op with
its first result); `rejected` and `conflict` results are stored and shown,
never sent again. With a `Router`, a cycle goes to the venue hub when it
answers and to HQ otherwise (`kiosk.sync.route`); ops a hub answered are
kept in `HeldOps` until HQ holds them. Once a loop sets `on_remote_change`,
a waiting pull (`kiosk.sync.watch`) wakes it when the scope changes. The
clock offset is measured on every response (the NTP midpoint rule) and the
sample with the shortest round trip is kept.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from core.clock import Clock, measure_offset
from core.reasons import Reason
from core.wire import Op, PullResponse, PushRequest, PushResponse
from kiosk.errors import (
    BadResponse,
    DeviceRevoked,
    RequestRefused,
    ServerUnavailable,
    SyncError,
)
from kiosk.store.cache import Cache
from kiosk.store.config import DeviceConfig
from kiosk.store.outbox import Outbox
from kiosk.sync.client import SyncClient, Timed
from kiosk.sync.held import HeldOps
from kiosk.sync.route import Router, Via
from kiosk.sync.watch import ChangeWatcher, Target

_SPLITTABLE = {400, 413, 422}
MAX_PAGES = 100_000
#: Seconds between two questions to a server about the ops a hub answered (`HeldOps`).
SETTLE_EVERY_S = 30.0


@dataclass(slots=True)
class SyncReport:
    """What one cycle did: ops sent and their results, pages pulled, and how it ended."""

    pushed: int = 0
    results: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    rows: int = 0
    pending: int = 0
    revoked: bool = False
    error: str | None = None
    error_code: str | None = None
    clock_offset: timedelta | None = None
    via: str | None = None  # "hub", "upstream" or "offline" (None: no router)

    @property
    def ok(self) -> bool:
        """True when the cycle pushed everything it could and pulled to the end."""
        return self.error is None and not self.revoked

    def to_json(self) -> dict[str, object]:
        """As `sync --json` prints it."""
        return {
            "ok": self.ok,
            "pushed": self.pushed,
            "results": dict(self.results),
            "pages": self.pages,
            "rows": self.rows,
            "pending": self.pending,
            "revoked": self.revoked,
            "error": self.error,
            "error_code": self.error_code,
            "clock_offset_s": None
            if self.clock_offset is None
            else round(self.clock_offset.total_seconds(), 3),
            "via": self.via,
        }


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """How far a cycle is: ops sent of those pending when it began, rows and pages pulled."""

    pushed: int
    to_push: int
    rows: int
    pages: int


@dataclass(slots=True)
class _Sample:
    offset: timedelta
    round_trip: timedelta


class Synchronizer:
    """Runs sync cycles for one paired device.

    Threading contract: owns its `Outbox`, `Cache` and `SyncClient` and belongs
    to the thread that built them (the sync loop's, or a command's). It writes
    the cache (one transaction per pull page) and, in the outbox, only results,
    the clock offset and its status; the scan path, on its own connections,
    keeps recording ops meanwhile.
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        cache: Cache,
        client: SyncClient,
        config: DeviceConfig,
        clock: Clock,
        batch_size: int,
        page_size: int,
        on_progress: Callable[[SyncProgress], None] | None = None,
        router: Router | None = None,
        held: HeldOps | None = None,
        wait_s: float = 0.0,
    ) -> None:
        self.outbox = outbox
        self.cache = cache
        self.client = client
        self.config = config
        self.clock = clock
        self.batch_size = batch_size
        self.page_size = page_size
        self.router = router
        self.held = held
        self.wait_s = wait_s
        #: Set by the loop that runs this synchronizer: asks it for a cycle now.
        self.on_remote_change: Callable[[], None] | None = None
        self._best: _Sample | None = None
        self._on_progress = on_progress
        self._to_push = 0
        self._via: Via | None = None
        self._url: str = client.base_url
        self._target: Target = None
        self._watcher: ChangeWatcher | None = None
        self._settled = float("-inf")
        self._settled_at: tuple[Via | None, str] | None = None

    def close(self) -> None:
        """Close the HTTP client(s), the watcher and the connections."""
        if self._watcher is not None:
            self._watcher.stop()
        self.client.close()
        if self.router is not None:
            self.router.close()
        if self.held is not None:
            self.held.close()
        self.outbox.close()
        self.cache.close()

    def sync_once(self) -> SyncReport:
        """Push everything pending, then pull to the end; never raises for a sync failure."""
        report = SyncReport()
        record = self.outbox.sync_record()
        if record.revoked:
            report.revoked = True
            report.error = "this device is revoked: syncing stopped, the outbox is kept"
            report.error_code = DeviceRevoked.code
            report.pending = self.outbox.pending_count()
            return report
        started = self.clock.now()
        self._best = None
        try:
            self._cycle(report)
        except DeviceRevoked as exc:
            report.revoked = True
            report.error, report.error_code = exc.message, exc.code
            record = dataclasses.replace(
                record,
                last_attempt_at=started,
                online=True,
                revoked=True,
                revoked_at=self.clock.now(),
                last_error=exc.message,
                last_error_code=exc.code,
                last_error_at=self.clock.now(),
            )
        except SyncError as exc:
            report.error, report.error_code = exc.message, exc.code
            record = dataclasses.replace(
                record,
                last_attempt_at=started,
                online=isinstance(exc, RequestRefused),  # it answered, and as itself
                last_error=exc.message,
                last_error_code=exc.code,
                last_error_at=self.clock.now(),
            )
        else:
            record = dataclasses.replace(
                record,
                last_attempt_at=started,
                last_success_at=self.clock.now(),
                online=True,
                last_error=None,
                last_error_code=None,
                last_error_at=None,
            )
        self._store_clock(report)
        self.outbox.set_sync_record(record)
        report.pending = self.outbox.pending_count()
        self._watch()
        return report

    # ------------------------------------------------------------------ route

    def _cycle(self, report: SyncReport) -> None:
        """Push and pull with the first server that answers: the hub, else HQ."""
        if self.router is None:
            self._push_all(report)
            self._pull_all(report)
            return
        failure: SyncError | None = None
        for via, url in self.router.candidates():
            self.client, self._via, self._url = self.router.client(url), via, url
            try:
                self._push_all(report)
                self._pull_all(report)
                self._settle_held()
            except ServerUnavailable as exc:
                failure = exc
                self.router.failed(via, url)
                continue
            self.router.used(via, url)
            self.router.learn()
            report.via = via
            return
        self._target = None
        self.router.used("offline", None)
        report.via = "offline"
        raise failure or ServerUnavailable("no server to sync with")

    def _settle_held(self) -> None:
        """Forget ops HQ holds; send again the ones a lost hub took with it.

        Asked every `SETTLE_EVERY_S` seconds, and whenever the route changes: a
        busy door syncs several times a second and the answer changes slowly.
        """
        if self.held is None:
            return
        place = (self._via, self._url)
        if place == self._settled_at and time.monotonic() - self._settled < SETTLE_EVERY_S:
            return
        self._settled, self._settled_at = time.monotonic(), place
        op_ids = self.held.some(1000)
        if not op_ids:
            return
        try:
            places = self.client.held(op_ids)
        except RequestRefused:
            return  # a server from before hubs: nothing to settle there
        self.held.forget(places.relayed)
        ops = [record.to_op() for i in places.unknown if (record := self.outbox.get_op(i))]
        if ops:
            self.client.push(PushRequest(device_time=self.clock.now(), ops=ops))
            if self._via == "upstream":
                self.held.forget(op.op_id for op in ops)

    def _watch(self) -> None:
        """Start the waiting pull once a loop listens for changes."""
        if self._watcher is not None or self.on_remote_change is None or self.wait_s <= 0:
            return
        self._watcher = ChangeWatcher(
            token=self.config.token,
            wait_s=self.wait_s,
            target=lambda: self._target,
            on_change=self.on_remote_change,
        )
        self._watcher.start()

    # ------------------------------------------------------------------ push

    def _progress(self, report: SyncReport) -> None:
        if self._on_progress is not None:
            self._on_progress(SyncProgress(report.pushed, self._to_push, report.rows, report.pages))

    def _push_all(self, report: SyncReport) -> None:
        self._to_push = self.outbox.pending_count()
        rounds = self._to_push // self.batch_size + 2
        for _ in range(rounds):
            ops = self.outbox.pending_ops(self.batch_size)
            if not ops:
                return
            if not self._push_batch(ops, report):
                raise BadResponse(
                    "the server returned no result for some ops of a batch; "
                    "they stay pending and are sent again at the next sync"
                )
            self._progress(report)

    def _push_batch(self, ops: Sequence[Op], report: SyncReport) -> bool:
        """Send one batch; True when every op got its result."""
        try:
            timed = self.client.push(PushRequest(device_time=self.clock.now(), ops=list(ops)))
        except RequestRefused as exc:
            if exc.status not in _SPLITTABLE:
                raise
            if len(ops) > 1:
                middle = len(ops) // 2
                first = self._push_batch(ops[:middle], report)
                second = self._push_batch(ops[middle:], report)
                return first and second
            self.outbox.mark_refused_locally(
                ops[0].op_id,
                reason=Reason.INVALID_OP,
                message=f"the server refused this op on its own: {exc.message}",
                now=self.clock.now(),
            )
            report.pushed += 1
            report.results["rejected"] += 1
            return True
        self._sample(timed)
        sent = {op.op_id for op in ops}
        results = [result for result in timed.value.results if result.op_id in sent]
        self.outbox.mark_results(results, attempted=[op.op_id for op in ops], now=self.clock.now())
        report.pushed += len(ops)
        report.results.update(result.status.value for result in results)
        answered: set[uuid.UUID] = {result.op_id for result in results}
        if self._via == "hub" and self.held is not None:
            self.held.note(answered, hub=self._url)
        return answered >= sent

    # ------------------------------------------------------------------ pull

    def _pull_all(self, report: SyncReport) -> None:
        owner = str(self.config.device_id)
        if self._via == "hub":  # a hub numbers its changes itself: its cursors are its own
            owner = f"{owner}@{self._url}"
        if self.cache.owner() != owner:
            self.cache.reset(owner=owner)
        ack_mark = self.outbox.ack_counter()
        cursor = self.cache.cursor()
        for _ in range(MAX_PAGES):
            timed = self.client.pull(cursor=cursor, limit=self.page_size)
            self._sample(timed)
            page = timed.value
            self.cache.apply_page(page, ack_mark=ack_mark)
            report.pages += 1
            report.rows += sum(
                len(rows)
                for rows in (
                    page.events,
                    page.tickets,
                    page.passports,
                    page.offers,
                    page.cards,
                    page.purchases,
                    page.scans,
                )
            )
            self._progress(report)
            if not page.more:
                self._target = (self._url, page.cursor)
                return
            if page.cursor is None or page.cursor == cursor:
                raise BadResponse("the pull promised more pages but its cursor did not move")
            cursor = page.cursor
        raise BadResponse(f"the pull did not end after {MAX_PAGES} pages")

    # ------------------------------------------------------------------ clock

    def _sample(self, timed: Timed[PushResponse] | Timed[PullResponse]) -> None:
        try:
            offset = measure_offset(timed.sent_at, timed.value.server_time, timed.received_at)
        except ValueError:
            return  # the local clock jumped during the request: no sample
        sample = _Sample(offset, timed.received_at - timed.sent_at)
        if self._best is None or sample.round_trip < self._best.round_trip:
            self._best = sample

    def _store_clock(self, report: SyncReport) -> None:
        if self._best is None:
            return
        report.clock_offset = self._best.offset
        self.outbox.set_clock(self._best.offset, measured_at=self.clock.now())
