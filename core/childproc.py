"""Helper processes end with the process that started them, even after its ``kill -9``.

The scan's readers, the analysis workers and the desktop's spectrogram helper are started by
``multiprocessing`` with ``spawn``.  A reader of a ``ProcessPoolExecutor`` blocks on a pipe whose
write end it holds itself, so it never sees the parent go; a worker busy in native code does
not look at its pipe.  Each of them calls :func:`die_with_parent` first thing (an initializer,
or the top of the process's target):

- on Linux it asks the kernel to SIGKILL it when its parent ends (``prctl(PR_SET_PDEATHSIG)``);
- then it checks that its parent is still the process that started it: one that died before the
  ``prctl`` call leaves a child nobody would signal, which exits at once instead.

The kernel sends the signal when the *thread* that started the child ends, not only the whole
process: start such children from a thread that outlives them (the main thread, the thread
that also stops them, or a dedicated one).

multiprocessing's resource tracker needs nothing: it exits when the last holder of its pipe
(the parent and these children) is gone.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _set_parent_death_signal(sig: int) -> bool:
    """``prctl(PR_SET_PDEATHSIG, sig)``; False where the OS has no such call."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent() -> None:
    """In a child started by ``multiprocessing``: be killed when the process that started it
    ends, and end now if it already has (see the module docstring).  Outside such a child it
    does nothing."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    _set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent.pid:  # gone before the signal was armed: nobody will send it
        os._exit(1)
