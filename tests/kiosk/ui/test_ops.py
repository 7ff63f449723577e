"""`StoreOp` on a `StoreThread`: in order on one thread, callbacks on the GUI thread, clean stops."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QThread
from pytestqt.qtbot import QtBot

from kiosk.app import Kiosk, open_kiosk
from kiosk.errors import KioskError
from kiosk.settings import load_settings
from kiosk.ui.ops import StoreOp, StoreThread, describe_error

WAIT_MS = 10_000


def test_operations_run_in_order_on_one_thread_and_report_on_the_gui_thread(
    qtbot: QtBot,
) -> None:
    store = StoreThread("test-store")
    store.start()
    gui = threading.get_ident()
    ran_on: list[int] = []
    results: list[tuple[int, bool]] = []

    def work(n: int) -> int:
        ran_on.append(threading.get_ident())
        return n

    def done(n: int) -> None:
        results.append((n, QThread.currentThread() is QCoreApplication.instance().thread()))

    for n in range(50):
        StoreOp(lambda n=n: work(n)).success(done).run_in_background(store)
    qtbot.waitUntil(lambda: len(results) == 50, timeout=WAIT_MS)
    assert [n for n, _ in results] == list(range(50))
    assert all(on_gui for _, on_gui in results)
    assert len(set(ran_on)) == 1 and ran_on[0] != gui
    assert store.pending == 0
    assert store.stop()
    assert not store.running()


def test_a_failure_is_one_message_in_words_on_the_gui_thread(qtbot: QtBot) -> None:
    store = StoreThread("test-store")
    store.start()
    messages: list[str] = []
    successes: list[object] = []

    def refuse() -> None:
        raise KioskError("this device is not paired")

    def crash() -> None:
        raise ValueError("bad row")

    StoreOp(refuse).success(successes.append).failure(messages.append).run_in_background(store)
    StoreOp(crash).failure(messages.append).run_in_background(store)
    StoreOp(crash).run_in_background(store)  # no failure callback: logged, nothing else
    qtbot.waitUntil(lambda: store.pending == 0, timeout=WAIT_MS)
    assert messages == ["this device is not paired", "ValueError: bad row"]
    assert successes == []
    assert describe_error(KioskError("x")) == "x"
    assert store.stop()


def test_the_kiosk_opens_once_on_the_store_thread_and_closes_at_stop(
    qtbot: QtBot, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path / "kiosk")
    opened: list[Kiosk] = []

    def opener() -> Kiosk:
        kiosk = open_kiosk(settings)
        opened.append(kiosk)
        return kiosk

    store = StoreThread("test-store", open_store=opener)
    store.start()
    seen: list[Kiosk] = []
    for _ in range(3):
        StoreOp(store.kiosk).success(seen.append).run_in_background(store)
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=WAIT_MS)
    assert len(opened) == 1 and all(kiosk is opened[0] for kiosk in seen)
    with pytest.raises(RuntimeError, match="off the store thread"):
        store.kiosk()
    assert store.stop()
    with pytest.raises(Exception, match="closed"):
        opened[0].status.get_status()


def test_stop_waits_for_a_slow_operation_and_no_callback_runs_after_it(qtbot: QtBot) -> None:
    store = StoreThread("test-store")
    store.start()
    finished: list[str] = []
    calls: list[str] = []
    StoreOp(lambda: (time.sleep(0.5), finished.append("slow"))).success(
        lambda _v: calls.append("success")
    ).run_in_background(store)
    time.sleep(0.05)  # the slow op is running
    assert store.stop(timeout=0.05) is False  # too slow for the timeout, waited for anyway
    assert finished == ["slow"] and not store.running()
    StoreOp(lambda: calls.append("late")).run_in_background(store)  # dropped
    QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert calls == []
    assert not shiboken6.isValid(store._thread)  # deleted (deleteLater) once ended
    assert store.stop()  # a second stop is a no-op


def test_a_store_never_started_stops_at_once() -> None:
    store = StoreThread("test-store")
    assert store.stop() and not store.running()
