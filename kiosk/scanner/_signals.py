"""Emit Qt signals without PySide6 6.12.0's reference leak on `True` (Python 3.11).

`SignalInstance.emit()` in PySide6 6.12.0 returns `True` without taking a
reference to it. On Python 3.11, where `True` is an ordinary refcounted
object, every emit from Python lowers its count by one, and after some
thousand emits the interpreter aborts with "Fatal Python error: bool_dealloc".
A scanner emitting previews at 15 fps would crash within a minute. Python
3.12+ (immortal bools) and a fixed PySide6 are unaffected.

`emit()` below detects the leak once, at import, by emitting a probe signal
and watching `sys.getrefcount(True)`, and gives the reference back only when
the leak is there, so it stays correct after an upgrade.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance


class _Probe(QObject):
    ping = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) < before


_RETURNS_BORROWED_RESULT = _emit_drops_a_reference()


def emit(signal: SignalInstance, *args: Any) -> None:
    """`signal.emit(*args)`, giving back the reference PySide6 6.12.0 drops."""
    # The stubs say emit returns None; at run time it returns a bool, the object at issue.
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]
    if _RETURNS_BORROWED_RESULT:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
