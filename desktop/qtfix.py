"""Work-arounds for bugs in the Qt binding that would otherwise crash the app.

PySide6 6.12.0 on CPython < 3.12: ``SignalInstance.emit()`` returns ``True`` without taking a
reference to it, so every signal emitted from Python (ours, and pyqtgraph's on every mouse
click and range change) drops one reference to ``True``.  After a few thousand emits the
interpreter frees ``True`` itself and aborts ("Fatal Python error: bool_dealloc"), at the
latest when it exits.  CPython 3.12 made ``True``/``False`` immortal, which hides the bug; here
we do the same by hand: when the leak is detected, their reference counts are raised by 2**40
(they are never freed anyway).  ``apply()`` is idempotent and cheap; ``desktop/__init__.py``
calls it, so every entry point (the app, tests, benchmarks) gets it.
"""
from __future__ import annotations

import ctypes
import sys

_APPLIED = False
BUMP = 1 << 40


def emit_leaks_true() -> bool:
    """Does ``signal.emit()`` drop a reference to True in this Qt binding?"""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(16):
        probe.ping.emit()
    return sys.getrefcount(True) <= before - 16


def apply() -> bool:
    """Make True/False effectively immortal when emit() leaks (CPython < 3.12).  Returns
    whether the work-around is active."""
    global _APPLIED
    if _APPLIED:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    try:
        leaks = emit_leaks_true()
    except Exception:  # noqa: BLE001 - no Qt: nothing to fix
        return False
    if leaks:
        for obj in (True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += BUMP  # ob_refcnt is the first field
        _APPLIED = True
    return _APPLIED
