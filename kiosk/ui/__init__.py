"""The PySide6 shell: screens that render value objects and wire signals; no rules live here.

Threads (each the only owner of what it touches):

- the GUI thread: widgets, the `Scanner` facade, timers;
- `DatabaseWorker`'s thread: the one `Kiosk` (outbox and cache connections);
  every operation (scan, check-in, search, status) runs there;
- `SyncWorker`'s thread: its own `Synchronizer`;
- `SetupWorker`'s thread (setup screen): pairing, the first sync, saving choices;
- the scanner's capture and decode threads.

Signals are the only bridge, and every Python-side emit goes through
`kiosk.scanner._signals.emit` (PySide6 6.12 on Python 3.11 leaks a reference
to `True` per `Signal.emit()`).
"""
