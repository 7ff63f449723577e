"""The wallet worker: a thread in every serving process that sends what the outbox holds.

It wakes when this process commits an update (`wallet_outbox.QUEUED`) and
otherwise polls every `POLL` seconds, so updates committed by another process
(or before a restart) go out too. Each delivery is claimed in one short
transaction, sent with no transaction open (APNs to every registered phone,
a PATCH to Google when the pass was saved there), and recorded in another:
sent, or failed with its error and a backoff (`server.domain.wallet_queue`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session, sessionmaker

from server.db.models import WalletPass, utcnow
from server.db.session import unit_of_work
from server.db.wallet_outbox import QUEUED
from server.domain import wallet, wallet_devices, wallet_queue
from server.errors import NotFound, SocaError
from server.wallet.apple.apns import PushResult
from server.wallet.content import PassContent
from server.wallet.runtime import Wallets

log = logging.getLogger("soca.wallet")

#: Seconds between looks at the outbox when nothing wakes the worker.
POLL: Final = 1.0
#: How often old delivered updates are pruned.
PRUNE_EVERY: Final = timedelta(hours=1)


class WalletWorker:
    """Sends queued pass updates; `run_once` does one round (tests call it directly)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        wallets: Wallets,
        *,
        poll: float = POLL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.factory = factory
        self.wallets = wallets
        self.poll = poll
        self.clock = clock
        self._stop = threading.Event()
        self._pruned: datetime | None = None
        self._thread = threading.Thread(target=self._run, name="soca-wallet", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stop.set()
        QUEUED.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while self.run_once() and not self._stop.is_set():
                    pass
            except Exception:  # the thread must outlive a bad round; the next one tries again
                log.exception("sending wallet updates failed")
            QUEUED.wait(self.poll)
            QUEUED.clear()

    def run_once(self, limit: int = 100) -> int:
        """Claim and send one batch of due updates; how many passes were handled."""
        now = self.clock()
        with unit_of_work(self.factory) as session:
            if self._pruned is None or now - self._pruned >= PRUNE_EVERY:
                wallet_queue.prune(session, now=now)
                self._pruned = now
            deliveries = wallet_queue.claim(session, now=now, limit=limit)
        for delivery in deliveries:
            self._deliver(delivery)
        return len(deliveries)

    def _deliver(self, delivery: wallet_queue.Delivery) -> None:
        try:
            with unit_of_work(self.factory) as session:
                wallet_pass = session.get(WalletPass, delivery.wallet_pass_id)
                if wallet_pass is None:
                    raise NotFound("the pass is gone")
                tokens = wallet_devices.push_tokens(session, wallet_pass.id)
                content = None
                if self.wallets.google is not None and wallet_pass.google_object:
                    content = wallet.content_of(session, wallet_pass)
            gone = self._send(tokens, content, notify=delivery.notify)
        except NotFound as exc:
            with unit_of_work(self.factory) as session:
                wallet_queue.mark_sent(session, delivery, now=self.clock(), note=exc.message)
            return
        except (SocaError, OSError) as exc:
            log.warning("wallet update for pass %s failed: %s", delivery.wallet_pass_id, exc)
            with unit_of_work(self.factory) as session:
                wallet_queue.mark_failed(session, delivery, now=self.clock(), error=str(exc))
            return
        with unit_of_work(self.factory) as session:
            for token in gone:
                wallet_devices.forget_token(session, token)
            wallet_queue.mark_sent(session, delivery, now=self.clock())

    def _send(self, tokens: list[str], content: PassContent | None, *, notify: bool) -> list[str]:
        """Push to every phone and PATCH Google; the tokens APNs said are gone."""
        gone = []
        if self.wallets.apple is not None and tokens:
            client = self.wallets.apple.apns_client()
            for token in tokens:
                if client.push(token) is PushResult.GONE:
                    gone.append(token)
        if self.wallets.google is not None and content is not None:
            self.wallets.google.update(content, notify=notify)
        return gone
