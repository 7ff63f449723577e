"""The prize screen's database worker: look up, add a stamp, confirm a prize, on one thread.

Threading contract as for `DatabaseWorker`: the `Kiosk` is opened on the
worker's thread when it starts; slots are reached by queued signals;
`verdict_ready(action, Verdict)`, `status_ready(KioskStatus)` and
`failed(message)` arrive in the GUI thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from kiosk.app import Kiosk, open_kiosk
from kiosk.errors import KioskError
from kiosk.scanner._signals import emit
from kiosk.services.prize import PrizeService
from kiosk.services.verdict import Verdict
from kiosk.settings import KioskSettings
from kiosk.ui.i18n import tr

logger = logging.getLogger(__name__)

LOOK_UP = "look_up"
ADD_STAMP = "add_stamp"
ADD_STAMP_AGAIN = "add_stamp_again"  # the second yes after "Add another stamp?"
UNDO_STAMP = "undo_stamp"
CONFIRM_PRIZE = "confirm_prize"
LOOK_UP_HOLDER = "look_up_holder"  # `code` is a cardholder's user id, found by search


class PrizeWorker(QObject):
    """Runs `PrizeService` operations for the GUI, one at a time, on its own thread."""

    verdict_ready = Signal(str, object)
    matches_ready = Signal(object)
    status_ready = Signal(object)
    activity_ready = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, settings: KioskSettings, *, opener: Callable[[], Kiosk] | None = None):
        super().__init__()
        self._opener = opener or (lambda: open_kiosk(settings))
        self._kiosk: Kiosk | None = None

    @Slot()
    def open(self) -> None:
        """Open the store on this thread (connected to `QThread.started`)."""
        try:
            self._kiosk = self._opener()
            self._kiosk.require_prize()
        except Exception as exc:
            logger.exception("cannot open the kiosk store")
            emit(self.failed, exc.message if isinstance(exc, KioskError) else str(exc))
            return
        self.refresh()

    @Slot(str, str)
    def act(self, action: str, code: str) -> None:
        """Run `action` (one of the names above) on the pass `code`."""

        def work(prize: PrizeService) -> None:
            operation: Callable[[str], Verdict] = {
                LOOK_UP: prize.look_up,
                ADD_STAMP: prize.add_stamp,
                ADD_STAMP_AGAIN: lambda qr: prize.add_stamp(qr, again=True),
                UNDO_STAMP: prize.undo_stamp,
                CONFIRM_PRIZE: prize.confirm_prize,
                LOOK_UP_HOLDER: lambda user_id: prize.look_up_holder(uuid.UUID(user_id)),
            }[action]
            emit(self.verdict_ready, action, operation(code))

        self._run(work)

    @Slot(str)
    def search(self, query: str) -> None:
        """Find the offer's cardholders by name or handle; `matches_ready(list)`."""
        kiosk = self._kiosk
        if kiosk is None:
            return
        try:
            emit(self.matches_ready, kiosk.require_prize().search(query))
        except Exception as exc:
            logger.exception("a cardholder search failed")
            emit(self.failed, exc.message if isinstance(exc, KioskError) else str(exc))

    @Slot()
    def refresh(self) -> None:
        """Emit the sync status as it is now."""
        self._run(lambda _prize: None)

    @Slot()
    def close(self) -> None:
        """Close the store and end."""
        if self._kiosk is not None:
            self._kiosk.close()
            self._kiosk = None
        emit(self.finished)

    def _run(self, work: Callable[[PrizeService], None]) -> None:
        kiosk = self._kiosk
        if kiosk is None:
            emit(self.failed, tr("the kiosk store is not open"))
            return
        try:
            prize = kiosk.require_prize()
            work(prize)
            emit(self.status_ready, kiosk.status.get_status())
            emit(self.activity_ready, prize.recent_activity())
        except Exception as exc:
            logger.exception("a prize operation failed")
            emit(self.failed, exc.message if isinstance(exc, KioskError) else str(exc))
