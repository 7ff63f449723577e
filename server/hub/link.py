"""The hub's connection to HQ: pairing, its saved state, and the pull and relay threads.

Two daemon threads, each with its own HTTP client and its own short
transactions on the hub's database. The puller asks HQ for the scope's
changes with a waiting pull (`wait`), so a scan decided at HQ reaches the
hub within a moment; the relayer looks for accepted ops every `RELAY_TICK`
seconds and forwards them in batches of at most `limits.HUB_RELAY_OPS`.
Both keep going through outages: a failed call marks HQ unreachable and is
retried after `RETRY_DELAY`. Neither ever blocks a kiosk's push or pull: the
hub decides on its own and catches up when HQ is back.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import limits
from core.wire import DeviceScope, PairResponse
from server.db.models import Device, Event, SyncOp, utcnow
from server.hub import mirror
from server.hub.wire import HubInfo, HubPage, RelayRequest, RelayResponse
from server.settings import ServerSettings

_log = logging.getLogger("soca.hub")
STATE_FILE = "hub.json"
PULL_WAIT = 10.0
RELAY_TICK = 0.2
RETRY_DELAY = 2.0
PAGE = 2000


@dataclass
class HubState:
    """What a paired hub remembers between runs (in `hub.json`, owner-only)."""

    upstream: str
    device_id: str
    token: str
    name: str
    event_id: str | None = None
    promoter_id: str | None = None
    cursor: str | None = None

    @classmethod
    def load(cls, folder: Path) -> HubState | None:
        """The saved state, or None for a hub never paired."""
        path = folder / STATE_FILE
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, folder: Path) -> None:
        """Write the state atomically, readable by the owner only."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = folder / f".{STATE_FILE}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / STATE_FILE)


def pair(upstream: str, code: str, name: str) -> HubState:
    """Pair with HQ using a HUB code; the state to save. Raises RuntimeError with HQ's reason."""
    base = upstream.rstrip("/")
    try:
        response = httpx.post(
            f"{base}/api/v1/devices/pair", json={"code": code, "name": name}, timeout=30
        )
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot reach {base}: {exc}") from exc
    if response.status_code != 201:
        raise RuntimeError(f"pairing refused ({response.status_code}): {response.text[:300]}")
    paired = PairResponse.model_validate(response.json())
    if paired.role != "HUB":
        raise RuntimeError(f"this code pairs a {paired.role} device, not a hub")
    scope = paired.scope
    return HubState(
        upstream=base,
        device_id=str(paired.device_id),
        token=paired.token,
        name=name,
        event_id=str(scope.event_id) if scope.event_id else None,
        promoter_id=str(scope.promoter_id) if scope.promoter_id else None,
    )


class HubLink:
    """The running hub's tie to HQ: pulls the scope in, relays the doors' ops out."""

    def __init__(
        self,
        state: HubState,
        folder: Path,
        factory: sessionmaker[Session],
        settings: ServerSettings,
    ) -> None:
        self.state, self.folder, self.factory, self.settings = state, folder, factory, settings
        self.reachable: bool | None = None
        self.last_relay_at: datetime | None = None
        self.last_pull_at: datetime | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the puller and the relayer."""
        for name, target in (("hub-pull", self._pull_loop), ("hub-relay", self._relay_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask both threads to stop and wait a little for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.state.upstream,
            headers={"Authorization": f"Bearer {self.state.token}"},
            timeout=httpx.Timeout(30.0, connect=5.0),
        )

    def _note(self, reachable: bool) -> None:
        self.reachable = reachable

    # ---------------------------------------------------------------- pulling

    def _pull_loop(self) -> None:
        with self._client() as client:
            while not self._stop.is_set():
                try:
                    self.pull_once(client, wait=PULL_WAIT)
                    self._note(True)
                except httpx.HTTPError:
                    self._note(False)
                    self._stop.wait(RETRY_DELAY)
                except Exception:  # a bad page must not end the thread: log, retry later
                    _log.exception("hub pull failed")
                    self._stop.wait(RETRY_DELAY)

    def pull_once(self, client: httpx.Client, *, wait: float = 0.0) -> int:
        """Pull pages until HQ has no more (the first may wait); the number of ops replayed."""
        replayed = 0
        more, first = True, True
        while more and not self._stop.is_set():
            params: dict[str, Any] = {"limit": PAGE}
            if self.state.cursor:
                params["cursor"] = self.state.cursor
            if first and wait:
                params["wait"] = wait
            response = client.get("/api/v1/hub/pull", params=params, timeout=wait + 30)
            if response.status_code != 200:
                raise RuntimeError(f"hub pull refused ({response.status_code})")
            page = HubPage.model_validate_json(response.content)
            with self._lock, self.factory.begin() as session:
                replayed += mirror.apply_page(session, page, settings=self.settings, now=utcnow())
            self.state.cursor = page.cursor
            self.state.save(self.folder)
            self.last_pull_at = utcnow()
            more, first = page.more, False
        return replayed

    # ---------------------------------------------------------------- relaying

    def _relay_loop(self) -> None:
        with self._client() as client:
            while not self._stop.is_set():
                try:
                    sent = self.relay_once(client)
                    if sent:
                        self._note(True)
                except httpx.HTTPError:
                    self._note(False)
                    self._stop.wait(RETRY_DELAY)
                    continue
                except Exception:  # HQ refused the batch, or the database failed: log, retry
                    _log.exception("hub relay failed")
                    self._stop.wait(RETRY_DELAY)
                    continue
                if not sent:
                    self._stop.wait(RELAY_TICK)

    def relay_once(self, client: httpx.Client) -> int:
        """Forward one batch of accepted ops to HQ and mark them; how many were relayed."""
        with self.factory() as session:
            batches = mirror.outgoing(
                session, limit=limits.HUB_RELAY_OPS.maximum // 2, now=utcnow()
            )
        if not batches:
            return 0
        body = RelayRequest(batches=batches).model_dump_json()
        response = client.post(
            "/api/v1/hub/relay", content=body, headers={"Content-Type": "application/json"}
        )
        if response.status_code != 200:
            raise RuntimeError(f"relay refused ({response.status_code}): {response.text[:200]}")
        answer = RelayResponse.model_validate_json(response.content)
        done = [op.op_id for batch in batches for op in batch.ops]
        with self._lock, self.factory.begin() as session:
            mirror.mark_relayed(session, done, now=utcnow())
        self.last_relay_at = answer.server_time
        return len(done)

    # ---------------------------------------------------------------- status

    def event_ids(self, session: Session) -> list[uuid.UUID]:
        """The events this hub serves (known from HQ's rows)."""
        if self.state.event_id:
            return [uuid.UUID(self.state.event_id)]
        promoter_id = uuid.UUID(str(self.state.promoter_id))
        return list(session.scalars(select(Event.id).where(Event.promoter_id == promoter_id)))

    def info(self, session: Session) -> HubInfo:
        """What `GET /hub/info` says (read in the caller's session)."""
        pending = session.scalar(
            select(func.count())
            .select_from(SyncOp)
            .where(SyncOp.relayed_at.is_(None), SyncOp.device_id.is_not(None))
        )
        return HubInfo(
            hub=True,
            device_id=uuid.UUID(self.state.device_id),
            name=self.state.name,
            scope=DeviceScope(
                event_id=uuid.UUID(self.state.event_id) if self.state.event_id else None,
                promoter_id=uuid.UUID(self.state.promoter_id) if self.state.promoter_id else None,
            ),
            event_ids=self.event_ids(session),
            upstream=self.state.upstream,
            upstream_reachable=self.reachable,
            last_relay_at=self.last_relay_at,
            pending_relay=int(pending or 0),
        )


def register_device(session: Session, paired: PairResponse, name: str, now: datetime) -> None:
    """Record a kiosk HQ just paired through this hub, so it syncs here at once."""
    from server.domain import accounts

    if session.get(Device, paired.device_id) is None:
        session.add(
            Device(
                id=paired.device_id,
                name=name,
                role=paired.role.value,
                event_id=paired.scope.event_id,
                branch_id=paired.scope.branch_id,
                promoter_id=paired.scope.promoter_id,
                token_hash=accounts.hash_token(paired.token),
                created_at=now,
            )
        )
