"""Run a kiosk window: `soca-kiosk run` (door or prize) and `soca-kiosk demo` (door)."""

from __future__ import annotations

import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from kiosk.app import open_kiosk
from kiosk.scanner.sources import FrameSource
from kiosk.scanner.worker import Scanner
from kiosk.settings import KioskSettings
from kiosk.ui.door import DoorWindow
from kiosk.ui.prize import PrizeWindow
from kiosk.ui.review import ReviewWindow

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_door_window(settings: KioskSettings, source: FrameSource, *, pin: str | None = None) -> int:
    """Check this is a paired door device (KioskError if not), show the window, run Qt.

    With a `pin`, the window is full screen (kiosk mode) and asks for the PIN to close.
    """
    with open_kiosk(settings) as kiosk:
        kiosk.require_door()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    return _run(app, DoorWindow(settings, source, pin=pin), full_screen=pin is not None)


def run_prize_window(settings: KioskSettings, source: FrameSource) -> int:
    """Check this is a paired branch device (KioskError if not), show the prize screen, run Qt."""
    with open_kiosk(settings) as kiosk:
        kiosk.require_prize()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    return _run(app, PrizeWindow(settings, scanner=Scanner(source)))


def run_review_window(settings: KioskSettings) -> int:
    """The review screen: sync state and the ops the server did not apply."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    return _run(app, ReviewWindow(settings))


Window = DoorWindow | PrizeWindow | ReviewWindow


def _run(app: QCoreApplication, window: Window, *, full_screen: bool = False) -> int:
    window.resize(1280, 800)
    if full_screen:
        window.showFullScreen()
    else:
        window.show()
    window.start()
    # Ctrl-C and SIGTERM end the event loop, then the window stops its threads (and the demo
    # its server); the timer gives Python a moment every 200 ms to run its signal handlers.
    previous = {sig: signal.signal(sig, lambda *_: app.quit()) for sig in _STOP_SIGNALS}
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    try:
        return int(app.exec())
    finally:
        ticker.stop()
        window.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
