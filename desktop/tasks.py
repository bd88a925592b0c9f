"""Background jobs for the UI: run a plain function off the GUI thread, get result or error back on it.

    runner = TaskRunner(parent=window)
    task = runner.submit(catalog.rows, on_result=model.set_rows, on_error=show_error)

``on_result(value)`` / ``on_error(exc, traceback_text)`` / ``on_finished()`` are called on the
GUI thread (queued signals).  Core code reports progress through plain callables called from
any thread; ``Relay`` turns them into a Qt signal on the GUI thread, batched so that a flood of
events (a scan of 20,000 files) costs the UI at most ~20 updates per second:

    relay = Relay(interval_ms=50, parent=window)
    relay.delivered.connect(lambda events: ...)      # a list of every event since the last one
    scanner.scan(folder, on_progress=relay)          # called from a worker thread

``Relay.latest`` gives a signal with only the newest event (progress counters).

``lower_thread_priority(nice)`` makes the calling worker thread (Linux) yield the CPU to the GUI
thread; ``warm_imports(names)`` imports modules on a worker thread ahead of the GUI thread's own
``import`` (which then costs a dictionary look-up instead of reading and compiling a module).
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

log = logging.getLogger(__name__)


class _TaskSignals(QObject):
    result = Signal(object)
    error = Signal(object, str)
    finished = Signal()


class Task(QRunnable):
    """One call of ``fn(*args, **kwargs)`` on a pool thread.  ``cancel()`` drops its outcome
    (the function itself is not interrupted; long functions can poll ``task.cancelled``)."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, nice: int = 0):
        super().__init__()
        self.nice = nice
        self.setAutoDelete(False)  # the runner keeps it until finished (PySide ownership)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = _TaskSignals()  # created on the GUI thread: its slots run there
        self._cancel = threading.Event()
        self.done = threading.Event()
        self.name = getattr(fn, "__qualname__", repr(fn))

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:  # pool thread
        try:
            if self.cancelled:
                return
            if self.nice:
                lower_thread_priority(self.nice)
            value = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
            tb = traceback.format_exc()
            log.debug("task %s failed:\n%s", self.name, tb)
            if not self.cancelled:
                self.signals.error.emit(exc, tb)
        else:
            if not self.cancelled:
                self.signals.result.emit(value)
        finally:
            self.done.set()
            self.signals.finished.emit()


class TaskRunner(QObject):
    """Submits ``Task`` s to a ``QThreadPool`` (its own by default, so UI jobs never queue
    behind someone else's) and keeps them alive until their outcome reached the GUI thread.
    ``nice``: the pool's threads run at least this nice (``lower_thread_priority``; Linux)."""

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 2, pool: QThreadPool | None = None,
                 nice: int = 0):
        super().__init__(parent)
        self.nice = int(nice)
        if pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(max_threads)
        self.pool = pool
        self._live: set[Task] = set()
        self._closed = False

    def submit(
        self,
        fn: Callable,
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException, str], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Task:
        task = Task(fn, args, kwargs, nice=self.nice)
        # checked again on the GUI thread: an outcome already queued when the task was cancelled
        # (``cancel_all`` at shutdown) is dropped too, never handed to a window that is going away
        if on_result is not None:
            task.signals.result.connect(lambda value, t=task: None if t.cancelled else on_result(value))
        if on_error is not None:
            task.signals.error.connect(lambda exc, tb, t=task: None if t.cancelled else on_error(exc, tb))
        else:
            task.signals.error.connect(lambda exc, tb, name=task.name: log.error("background task %s failed:\n%s", name, tb))
        if on_finished is not None:
            task.signals.finished.connect(on_finished)
        task.signals.finished.connect(lambda t=task: self._live.discard(t))
        if self._closed:  # after close(): nothing more runs (the app is shutting down)
            task.cancel()
            log.debug("task %s dropped: the runner is closed", task.name)
            return task
        self._live.add(task)
        try:
            self.pool.start(task)
        except RuntimeError:  # the pool's C++ object is gone: the app is closing; nothing runs any more
            self._live.discard(task)
            task.cancel()
            log.debug("task %s dropped: the app is closing", task.name)
        return task

    @property
    def active(self) -> int:
        return len(self._live)

    def cancel_all(self) -> None:
        for t in list(self._live):
            t.cancel()

    def close(self) -> None:
        """Cancel every task and refuse new ones: outcomes still on their way are dropped, and
        work handed in later (a player event during shutdown) never runs.  For app shutdown,
        after ``wait``."""
        self._closed = True
        self.cancel_all()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is idle (for shutdown and tests)."""
        return self.pool.waitForDone(msecs)


class Relay(QObject):
    """A thread-safe callable that delivers the events it is called with on the GUI thread.

    ``relay(event)`` (or ``relay(*args)``: the args tuple is the event) may be called from any
    thread, as often as it likes.  At most once per ``interval_ms`` the GUI thread receives
    ``delivered(list_of_events)`` (all of them, in order) and ``latest(last_event)``.
    """

    delivered = Signal(list)
    latest = Signal(object)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 50):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: list = []
        self._scheduled = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        self._wake.connect(self._on_wake)  # queued when emitted from another thread

    def __call__(self, *args: Any) -> None:
        event = args[0] if len(args) == 1 else args
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        self._wake.emit()

    @Slot()
    def _on_wake(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def flush(self) -> None:
        """Deliver what is pending now (GUI thread)."""
        with self._lock:
            events, self._pending = self._pending, []
            self._scheduled = False
        if events:
            self.delivered.emit(events)
            self.latest.emit(events[-1])


def warm_imports(names: "list[str] | tuple[str, ...]") -> None:
    """Import the modules ``names`` here (call it on a worker thread): a module the GUI thread
    imports later is then a dictionary look-up, not tens to hundreds of milliseconds of reading,
    compiling (without a ``.pyc``) and executing it inside an event handler.  Compiling one
    module still holds the GIL, but one module at a time: the GUI thread runs in between.
    A module that fails to import raises (the task reports it)."""
    for name in names:
        importlib.import_module(name)


def lower_thread_priority(nice: int) -> bool:
    """Give the calling thread (not the process) at least this POSIX nice, on Linux, where a
    thread has its own priority; elsewhere it does nothing (``setpriority`` would lower the whole
    process, GUI included).  Only ever lowers: a thread may not take priority back.

    For bulk background work of the UI process (a scan reading thousands of tags): while the GUI
    thread paints (C++, no GIL) it then gets a core before such a thread, and when it waits for
    the GIL the thread holding it still runs at once (nothing else of ours is runnable), so the
    GIL is not held up.  Returns whether the priority was changed."""
    if not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current >= nice:
            return False
        os.setpriority(os.PRIO_PROCESS, tid, int(nice))
        return True
    except OSError as exc:
        log.debug("cannot lower this thread's priority: %s", exc)
        return False
