import sys
import threading

import pytest
from PySide6.QtCore import QThread

from desktop.tasks import Relay, TaskRunner


@pytest.fixture
def runner(qapp):
    r = TaskRunner(max_threads=2)
    yield r
    r.wait(5000)


def test_result_arrives_on_the_gui_thread(runner, qtbot):
    gui = QThread.currentThread()
    seen = {}

    def work(a, b=0):
        seen["worker"] = threading.current_thread()
        return a + b

    def on_result(v):
        seen["value"] = v
        seen["on_gui"] = QThread.currentThread() is gui

    task = runner.submit(work, 2, b=3, on_result=on_result)
    qtbot.waitUntil(lambda: "value" in seen, timeout=3000)
    assert seen == {"worker": seen["worker"], "value": 5, "on_gui": True}
    assert seen["worker"] is not threading.main_thread()
    assert task.done.is_set()
    qtbot.waitUntil(lambda: runner.active == 0, timeout=3000)


def test_errors_are_handed_back_not_lost(runner, qtbot):
    got = []

    def boom():
        raise ValueError("bad file")

    runner.submit(boom, on_error=lambda exc, tb: got.append((exc, tb)))
    qtbot.waitUntil(lambda: bool(got), timeout=3000)
    exc, tb = got[0]
    assert isinstance(exc, ValueError) and "bad file" in tb


def test_cancelled_task_delivers_nothing(runner, qtbot):
    gate = threading.Event()
    got = []
    task = runner.submit(gate.wait, 5, on_result=got.append)
    task.cancel()
    gate.set()
    qtbot.waitUntil(lambda: task.done.is_set(), timeout=3000)
    qtbot.wait(50)
    assert got == []


def test_relay_batches_a_flood_of_events_in_order(qapp, qtbot):
    relay = Relay(interval_ms=50)
    batches = []
    relay.delivered.connect(batches.append)
    gui = QThread.currentThread()
    on_gui = []
    relay.delivered.connect(lambda _e: on_gui.append(QThread.currentThread() is gui))

    def flood():
        for i in range(5000):
            relay(i)

    t = threading.Thread(target=flood)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: sum(len(b) for b in batches) == 5000, timeout=3000)
    assert [e for b in batches for e in b] == list(range(5000))
    assert len(batches) <= 5  # batched, not one signal per event
    assert all(on_gui)


def test_relay_latest_and_multi_arg_events(qapp, qtbot):
    relay = Relay(interval_ms=10)
    latest = []
    relay.latest.connect(latest.append)
    threading.Thread(target=lambda: [relay(i, 10) for i in range(1, 11)]).start()
    qtbot.waitUntil(lambda: bool(latest) and latest[-1] == (10, 10), timeout=3000)


def test_warm_imports_imports_and_a_missing_module_fails():
    import sys

    from desktop.tasks import warm_imports

    sys.modules.pop("json.tool", None)
    warm_imports(["json.tool"])
    assert "json.tool" in sys.modules
    with pytest.raises(ImportError):
        warm_imports(["melograph_no_such_module_here"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are a Linux feature")
def test_lower_thread_priority_changes_that_thread_only():
    import os
    import threading

    from desktop.tasks import lower_thread_priority

    before = os.getpriority(os.PRIO_PROCESS, 0)
    seen = {}

    def work():
        seen["changed"] = lower_thread_priority(before + 3)
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["again"] = lower_thread_priority(before + 1)  # never raises it back

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == {"changed": True, "thread": before + 3, "again": False}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # this thread: untouched


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are a Linux feature")
def test_a_runner_with_nice_runs_its_tasks_at_that_priority(qapp, qtbot):
    import os

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    r = TaskRunner(max_threads=1, nice=base + 2)
    got = []
    r.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), on_result=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    r.wait(5000)
    assert got == [base + 2]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base


def test_a_task_handed_in_while_the_app_closes_is_dropped_quietly(qapp, qtbot):
    """A late callback (a result arriving as the window is destroyed) submits follow-up work to a
    runner whose pool is already gone: nothing runs and nothing raises into the event loop."""
    import shiboken6

    r = TaskRunner(max_threads=1)
    shiboken6.delete(r.pool)  # what the window's destruction does to its child pool
    ran = []
    r.submit(lambda: ran.append(1), on_result=lambda v: ran.append(v))
    qtbot.wait(100)
    assert ran == [] and r.active == 0


def test_an_outcome_already_on_its_way_is_dropped_when_the_task_is_cancelled(runner, qtbot):
    """Shutdown cancels every task; a result the pool emitted just before must not reach the
    (closing) window either."""
    got = []
    task = runner.submit(lambda: 42, on_result=got.append, on_error=lambda exc, tb: got.append(exc))
    assert task.done.wait(5)  # finished on the pool thread: its result is queued, not delivered
    runner.cancel_all()
    qtbot.wait(100)
    assert got == []
    runner.submit(lambda: 7, on_result=got.append)  # the runner itself goes on
    qtbot.waitUntil(lambda: got == [7], timeout=3000)


def test_a_closed_runner_runs_nothing_more(runner, qtbot):
    got = []
    runner.submit(lambda: 1, on_result=got.append)
    qtbot.waitUntil(lambda: got == [1], timeout=3000)
    runner.close()
    task = runner.submit(lambda: got.append("ran") or 2, on_result=got.append)
    qtbot.wait(100)
    assert got == [1] and task.cancelled and runner.active == 0
