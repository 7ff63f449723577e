"""The PySide6 shell: screens that render value objects and wire signals; no rules live here.

Threads (each the only owner of what it touches):

- the GUI thread: widgets, the `Scanner` facade, timers;
- the window's `StoreThread` (`kiosk.ui.ops`): the one `Kiosk` (outbox and
  cache connections); every operation (scan, check-in, search, status,
  pairing, saving) is a `StoreOp` run there, one at a time;
- `SyncWorker`'s thread: its own `Synchronizer`;
- the scanner's capture and decode threads.

Signals are the only bridge: a worker's signal reaches a widget only through a bound
`@Slot` method (queued to the GUI thread), never a lambda.
"""
