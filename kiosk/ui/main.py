"""Run a kiosk window: `soca-kiosk run` (door or prize) and `soca-kiosk demo` (door)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from kiosk.app import open_kiosk
from kiosk.scanner.sources import FrameSource
from kiosk.scanner.worker import Scanner
from kiosk.services.pin import PinGuard
from kiosk.settings import KioskSettings
from kiosk.ui.attendance import PromoterReviewWindow
from kiosk.ui.door import DoorWindow
from kiosk.ui.i18n import set_language
from kiosk.ui.lock import KioskModeLock
from kiosk.ui.prize import PrizeWindow
from kiosk.ui.review import ReviewWindow
from kiosk.ui.setup import SetupWindow

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _application(settings: KioskSettings) -> QCoreApplication:
    """The Qt application, speaking the settings' language (set before any window is built)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    set_language(settings.language)
    return app


def run_door_window(
    settings: KioskSettings, source: FrameSource, *, pin: str | PinGuard | None = None
) -> int:
    """Check this is a paired door device (KioskError if not), show the window, run Qt.

    With a `pin`, the window is full screen (kiosk mode) and asks for the PIN to close.
    """
    with open_kiosk(settings) as kiosk:
        kiosk.require_door()
    app = _application(settings)
    return _run(app, DoorWindow(settings, source, pin=pin), full_screen=pin is not None)


def run_prize_window(
    settings: KioskSettings, source: FrameSource, *, pin: str | PinGuard | None = None
) -> int:
    """Check this is a paired branch device (KioskError if not), show the prize screen, run Qt."""
    with open_kiosk(settings) as kiosk:
        kiosk.require_prize()
    app = _application(settings)
    window = PrizeWindow(settings, scanner=Scanner(source))
    if pin is not None:
        KioskModeLock(window, pin)
    return _run(app, window, full_screen=pin is not None)


def review_window(settings: KioskSettings) -> ReviewWindow | PromoterReviewWindow:
    """The review screen for this device: a PROMOTER's attendance (and sync tab), else sync."""
    with open_kiosk(settings) as kiosk:
        promoter = kiosk.attendance is not None
    return PromoterReviewWindow(settings) if promoter else ReviewWindow(settings)


def run_review_window(settings: KioskSettings, *, pin: str | PinGuard | None = None) -> int:
    """Show the review screen (see `review_window`) and run Qt."""
    app = _application(settings)
    window = review_window(settings)
    if pin is not None:
        KioskModeLock(window, pin)
    return _run(app, window, full_screen=pin is not None)


def run_setup_window(
    settings: KioskSettings, camera: Callable[[], FrameSource] | None, *, server: str = ""
) -> int:
    """The setup screen: pair (typed code or pairing QR), choose mode and scope, see the sync."""
    app = _application(settings)
    return _run(app, SetupWindow(settings, camera=camera, server=server))


Window = DoorWindow | PrizeWindow | ReviewWindow | PromoterReviewWindow | SetupWindow


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
    ticker.timeout.connect(_let_python_run)
    ticker.start(200)
    try:
        return int(app.exec())
    finally:
        ticker.stop()
        window.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _let_python_run() -> None:
    """A timer's no-op: returning to Python lets it run its signal handlers (Ctrl-C)."""
