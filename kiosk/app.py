"""The composition root: settings → store → services → sync client, built in one place.

`open_kiosk` builds the scan path's objects (one `Outbox`, one `Cache`, the
services for this device's role) for the calling thread, which then owns
them: the kiosk's database thread, or a command's main thread.
`open_synchronizer` builds the sync side's own objects for the thread that
will run it, and `start_sync_loop` hands that factory to a `SyncLoop`, whose
thread opens them itself. `pair_device` is the setup operation.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError

from core.clock import Clock, SystemClock
from core.wire import DeviceRole
from kiosk.errors import ConfigError, NotPaired, SettingsError, WrongMode
from kiosk.services.attendance import AttendanceService
from kiosk.services.door import DoorService
from kiosk.services.headless import PrizeAction, ScanMode, prize_handler
from kiosk.services.prize import PrizeService
from kiosk.services.search import TicketSearch
from kiosk.services.status import StatusService
from kiosk.services.verdict import Verdict
from kiosk.settings import KioskSettings
from kiosk.store.cache import Cache
from kiosk.store.config import DeviceConfig, load_config, new_config, save_config
from kiosk.store.outbox import Outbox, SyncRecord

if TYPE_CHECKING:  # httpx and stamina load only when syncing: a scan-only start stays quick
    import httpx

    from kiosk.sync.client import RetryPolicy, SyncClient
    from kiosk.sync.loop import SyncLoop
    from kiosk.sync.route import Router
    from kiosk.sync.synchronizer import Synchronizer, SyncProgress, SyncReport


@dataclass(slots=True)
class Kiosk:
    """The scan path's objects for one thread: store, config and the services for its role.

    Threading contract: everything here wraps the SQLite connections opened by
    `open_kiosk`, so the whole object belongs to the thread that called it (a
    Qt shell runs every operation on its one database worker thread and sends
    the returned value objects to the GUI thread). The sync loop never uses it.
    """

    settings: KioskSettings
    config: DeviceConfig | None
    outbox: Outbox
    cache: Cache
    clock: Clock
    status: StatusService
    door: DoorService | None = None
    search: TicketSearch | None = None
    prize: PrizeService | None = None
    attendance: AttendanceService | None = None

    def close(self) -> None:
        """Close both database connections."""
        self.outbox.close()
        self.cache.close()

    def __enter__(self) -> Kiosk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def require_door(self) -> DoorService:
        """The door service, or a clear error when this device is not a paired door device."""
        if self.door is None:
            raise self._mode_error("door", DeviceRole.DOOR)
        return self.door

    def require_search(self) -> TicketSearch:
        """The ticket search of a door device."""
        if self.search is None:
            raise self._mode_error("door", DeviceRole.DOOR)
        return self.search

    def require_prize(self) -> PrizeService:
        """The prize service, or a clear error when this device is not a paired branch device."""
        if self.prize is None:
            raise self._mode_error("prize", DeviceRole.BRANCH)
        return self.prize

    def require_attendance(self) -> AttendanceService:
        """The promoter's attendance review, or a clear error when this is not a promoter device."""
        if self.attendance is None:
            raise self._mode_error("review", DeviceRole.PROMOTER)
        return self.attendance

    def default_mode(self) -> ScanMode:
        """The mode chosen at setup, else the role's: door (DOOR), prize (BRANCH) or review."""
        if self.config is not None and self.config.mode is not None:
            return ScanMode(self.config.mode)
        if self.door is not None:
            return ScanMode.DOOR
        if self.prize is not None:
            return ScanMode.PRIZE
        return ScanMode.REVIEW

    def scan_handler(
        self, mode: ScanMode, action: PrizeAction = PrizeAction.STAMP
    ) -> Callable[[str], Verdict]:
        """The operation one scanned code runs in `mode` (a clear error if this device cannot)."""
        if self.config is None:
            raise self._mode_error(mode.value, DeviceRole.DOOR)
        if mode is ScanMode.DOOR:
            return self.require_door().scan
        if mode is ScanMode.PRIZE:
            return prize_handler(self.require_prize(), action)
        raise WrongMode("review mode does not scan codes; run it in the kiosk window")

    def _mode_error(self, mode: str, role: DeviceRole) -> NotPaired | WrongMode:
        if self.config is None:
            return NotPaired(
                f"this kiosk ({self.settings.data_dir}) is not paired: "
                "run `soca-kiosk pair --server URL --code CODE` first"
            )
        return WrongMode(
            f"{mode} mode needs a {role.value} device; this one is paired as "
            f"{self.config.role.value}"
        )


def open_kiosk(
    settings: KioskSettings,
    *,
    clock: Clock | None = None,
    offer_id: uuid.UUID | None = None,
) -> Kiosk:
    """Open the store and build the services this device's role allows, for the calling thread."""
    config = load_config(settings.config_path)
    clock = clock or SystemClock()
    outbox = Outbox.open(settings.outbox_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        cache = Cache.open(settings.cache_path, busy_timeout_ms=settings.busy_timeout_ms)
    except BaseException:
        outbox.close()
        raise
    kiosk = Kiosk(
        settings=settings,
        config=config,
        outbox=outbox,
        cache=cache,
        clock=clock,
        status=StatusService(
            outbox=outbox, cache=cache, config=config, clock_warning_s=settings.clock_warning_s
        ),
    )
    device_id = None if config is None else config.device_id
    if config is not None and config.role is DeviceRole.DOOR and config.event_id is not None:
        kiosk.door = DoorService(
            outbox=outbox,
            cache=cache,
            event_id=config.event_id,
            gate=settings.gate,
            device_id=device_id,
            clock=clock,
        )
        kiosk.search = TicketSearch(outbox=outbox, cache=cache, event_id=config.event_id)
    if config is not None and config.role is DeviceRole.BRANCH and config.branch_id is not None:
        kiosk.prize = PrizeService(
            outbox=outbox,
            cache=cache,
            branch_id=config.branch_id,
            offer_id=offer_id or config.offer_id,
            device_id=device_id,
            clock=clock,
            inactivity_days=settings.pass_inactivity_days,
        )
    if config is not None and config.role is DeviceRole.PROMOTER:
        kiosk.attendance = AttendanceService(cache=cache)
    return kiosk


def retry_policy(settings: KioskSettings) -> RetryPolicy:
    """The HTTP retry policy the settings describe."""
    from kiosk.sync.client import RetryPolicy

    return RetryPolicy(
        attempts=settings.retry_attempts,
        deadline_s=settings.request_deadline_s,
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        backoff_initial_s=settings.backoff_initial_s,
        backoff_max_s=settings.backoff_max_s,
    )


def open_synchronizer(
    settings: KioskSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    on_progress: Callable[[SyncProgress], None] | None = None,
) -> Synchronizer:
    """Build a synchronizer (own connections and client) for the calling thread; NotPaired if so."""
    from kiosk.sync.client import SyncClient
    from kiosk.sync.held import HeldOps
    from kiosk.sync.synchronizer import Synchronizer

    config = load_config(settings.config_path)
    if config is None:
        raise NotPaired(
            f"this kiosk ({settings.data_dir}) is not paired: "
            "run `soca-kiosk pair --server URL --code CODE` first"
        )
    clock = clock or SystemClock()
    outbox = Outbox.open(settings.outbox_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        cache = Cache.open(settings.cache_path, busy_timeout_ms=settings.busy_timeout_ms)
    except BaseException:
        outbox.close()
        raise
    client = SyncClient(
        config.server_url,
        token=config.token,
        policy=retry_policy(settings),
        transport=transport,
        clock=clock,
    )
    return Synchronizer(
        outbox=outbox,
        cache=cache,
        client=client,
        config=config,
        clock=clock,
        batch_size=settings.push_batch_size,
        page_size=settings.pull_page_size,
        on_progress=on_progress,
        router=open_router(settings, config, clock=clock, transport=transport),
        held=HeldOps(settings.data_dir),
        wait_s=settings.pull_wait_s,
    )


def _learn_route(settings: KioskSettings, client: SyncClient, server_url: str) -> None:
    """Note whether the kiosk paired through a venue hub (it then syncs there, HQ behind it)."""
    from kiosk.errors import RequestRefused, SyncError
    from kiosk.sync.route import learn_route

    try:
        info = client.hub_info()
    except RequestRefused:
        info = None  # a server from before hubs: HQ itself
    except SyncError:
        return  # the router asks again after its first sync
    learn_route(settings.data_dir, server_url, info)


def open_router(
    settings: KioskSettings,
    config: DeviceConfig,
    *,
    clock: Clock,
    transport: httpx.BaseTransport | None = None,
) -> Router:
    """The route chooser: the venue hub (pointed at, paired through or found), then HQ."""
    from kiosk.sync.route import Browser, Router

    browser: Browser | None = None
    if settings.discover_hub and config.event_id is not None:
        from kiosk.sync.discovery import HubBrowser

        browser = HubBrowser(config.event_id).start()
    return Router(
        folder=settings.data_dir,
        config=config,
        policy=retry_policy(settings),
        clock=clock,
        hub_url=settings.hub_url,
        browser=browser,
        transport=transport,
    )


def sync_once(
    settings: KioskSettings, *, on_progress: Callable[[SyncProgress], None] | None = None
) -> SyncReport:
    """One sync cycle (push, then pull) on a synchronizer opened and closed for it.

    Raises what `open_synchronizer` raises (NotPaired); a failed sync is in the report.
    `on_progress` is called after each pushed batch and each pulled page.
    """
    synchronizer = open_synchronizer(settings, on_progress=on_progress)
    try:
        return synchronizer.sync_once()
    finally:
        synchronizer.close()


def start_sync_loop(
    settings: KioskSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    on_report: Callable[[SyncReport], None] | None = None,
) -> SyncLoop:
    """Start the background sync loop; its thread opens its own synchronizer."""
    from kiosk.sync.loop import SyncLoop

    loop = SyncLoop(
        lambda: open_synchronizer(settings, transport=transport, clock=clock),
        interval_s=settings.sync_interval_s,
        on_report=on_report,
    )
    loop.start()
    return loop


def pair_device(
    settings: KioskSettings,
    *,
    server_url: str,
    code: str,
    name: str | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
) -> DeviceConfig:
    """Pair with a one-time code: save the config (0600), clear a revoked state, empty the cache.

    Unsent ops are kept and go to the server under the new pairing.
    """
    import httpx

    from kiosk.sync.client import SyncClient

    clock = clock or SystemClock()
    if not server_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"the server address must start with http:// or https:// (got {server_url!r})"
        )
    previous = None
    with contextlib.suppress(ConfigError):  # a corrupt config is what pairing again fixes
        previous = load_config(settings.config_path)
    device_name = name or settings.device_name
    try:
        client = SyncClient(
            server_url, policy=retry_policy(settings), transport=transport, clock=clock
        )
    except (httpx.InvalidURL, ValueError) as exc:
        raise SettingsError(f"the server address {server_url!r} is not a valid URL: {exc}") from exc
    with client:
        try:
            response = client.pair(code=code, name=device_name)
        except ValidationError as exc:
            raise SettingsError(
                "the pairing code must be 1-64 characters and the device name 1-100"
            ) from exc
        _learn_route(settings, client, server_url)
    config = new_config(
        server_url=server_url,
        device_id=response.device_id,
        token=response.token,
        role=response.role,
        scope=response.scope,
        name=device_name,
        paired_at=clock.now(),
    )
    if previous is not None and previous.pin_hash is not None:  # kiosk mode survives a re-pair
        config = config.model_copy(update={"pin_hash": previous.pin_hash})
    outbox = Outbox.open(settings.outbox_path, busy_timeout_ms=settings.busy_timeout_ms)
    cache = Cache.open(settings.cache_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        cache.reset(owner=str(config.device_id))
        save_config(settings.config_path, config)
        outbox.set_sync_record(SyncRecord())
    finally:
        outbox.close()
        cache.close()
    return config
