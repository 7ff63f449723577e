"""The one-slot frame hand-over: newest wins, nothing queues, close wakes the taker."""

from __future__ import annotations

import threading
import time

from kiosk.scanner.mailbox import LatestOnlyMailbox


def test_taker_gets_the_newest_item_and_older_ones_are_dropped() -> None:
    mailbox: LatestOnlyMailbox[int] = LatestOnlyMailbox()
    for item in range(5):
        mailbox.put(item)
    assert mailbox.take(timeout=0) == 4
    assert mailbox.replaced == 4
    assert mailbox.take(timeout=0) is None


def test_take_waits_for_a_put_from_another_thread() -> None:
    mailbox: LatestOnlyMailbox[str] = LatestOnlyMailbox()
    threading.Timer(0.05, mailbox.put, args=("frame",)).start()
    started = time.monotonic()
    assert mailbox.take(timeout=2.0) == "frame"
    assert time.monotonic() - started < 1.0


def test_close_wakes_a_waiting_taker_and_drains() -> None:
    mailbox: LatestOnlyMailbox[str] = LatestOnlyMailbox()
    mailbox.put("last")
    mailbox.close()
    assert not mailbox.drained
    assert mailbox.take(timeout=5.0) == "last"
    started = time.monotonic()
    assert mailbox.take(timeout=5.0) is None
    assert time.monotonic() - started < 1.0
    assert mailbox.drained
