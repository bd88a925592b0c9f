"""The now-playing spectrogram, computed in a helper process (not on a thread of the UI process).

Decoding a whole track and computing its full-resolution log-mel takes one to a few seconds of
CPU, right when a track starts, while the player's decoder thread fills its buffer.  On a thread
of the UI process every Python step of it (the decoder loop, the resampler and mel glue) would
take the GIL from the UI thread's handlers (the player sets a 1 ms switch interval); in its own
process it shares only the CPUs, at priority ``NICE``.  (``bench/bench_ui.py`` measures the
playhead's frame rate in the 3 s after a track starts.)

``DisplaySpectrograms`` keeps one such process for the session (started on first use or by
``warm_up()``, spawned so it shares no Qt or thread state), asks it for one track at a time
(the helper gets the next track only when it has finished the last one, so a newer request
replaces a waiting one and a skip-skip-skip costs one computation, not three) and hands back, on the GUI thread:

    ready(int, object)     track id, ``(S, duration)``: S float32 ``(n_mels, n_columns)`` in dB
                           [-80, 0], at most ``MAX_DISPLAY_COLUMNS`` wide; duration in seconds
    failed(int, object)    track id, the exception (``core.errors`` taxonomy, or a crash)

The helper imports this module (hence PySide6.QtCore, through ``desktop``: ~50 ms, once); the
functions it runs use numpy and ``core`` only.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    import concurrent.futures

log = logging.getLogger(__name__)

#: widest spectrogram image kept for display (columns); more adds nothing on screen
MAX_DISPLAY_COLUMNS = 4000
#: the helper's CPU priority (POSIX nice), the UI's own.  With the kernel's per-session
#: autogroups a nicer helper only yields to this app's own threads; measured (bench_ui.py, nice
#: 5 vs 0, busy 2-core machine) it shaved a little off the event loop's p99 lateness but showed
#: the spectrogram 4-5 s later.
NICE = 0


def compute_display_spectrogram(path: str, max_columns: int = MAX_DISPLAY_COLUMNS) -> tuple[Any, float]:
    """Decode ``path`` and return ``(S, duration)``: the display log-mel of ``core.features``
    (full resolution: 128 mel bands, one column per 23 ms), mean-pooled in time to at most
    ``max_columns`` columns, and the duration in seconds."""
    from core import features
    from core.audio import decode

    y, sr = decode.read(path, sr=features.SR, mono=True)
    duration = len(y) / float(sr)
    S = features.display_logmel(y=y, sr=sr)
    S = features.downsample_columns(S, max_columns=max_columns)
    return S, duration


def _compute_in_helper(path: str, max_columns: int):  # helper process
    """``("ok", S, duration)`` or ``("error", kind, path, reason)``: the ``core.errors`` classes
    do not survive pickling (their constructor takes two arguments), and an exception that
    cannot be unpickled would break the pool; the GUI side rebuilds it (``_error_from``)."""
    try:
        S, duration = compute_display_spectrogram(path, max_columns)
    except Exception as exc:  # noqa: BLE001 - handed back to the GUI as a sentence
        from core.errors import FileError

        if isinstance(exc, FileError):
            return ("error", exc.kind, exc.path, exc.reason)
        log.debug("spectrogram of %s failed", path, exc_info=True)
        return ("error", None, path, f"{type(exc).__name__}: {exc}")
    return ("ok", S, duration)


def _error_from(kind: str | None, path: str, reason: str) -> Exception:
    from core.errors import ERROR_KINDS

    cls = ERROR_KINDS.get(kind) if kind else None
    return cls(path, reason) if cls is not None else RuntimeError(reason)


def _init_helper(nice: int) -> None:  # helper process
    from core.childproc import die_with_parent

    die_with_parent()
    if nice and hasattr(os, "nice"):
        try:
            os.nice(max(0, int(nice) - os.nice(0)))  # at least this nice
        except OSError:
            pass
    from core import features  # noqa: F401 - imported once, before the first track
    from core.audio import decode


def _ping() -> int:  # helper process
    return os.getpid()


class DisplaySpectrograms(QObject):
    """Qt front of the helper process (see the module docstring)."""

    ready = Signal(int, object)
    failed = Signal(int, object)
    _done = Signal(int, object, object)  # track id, result, exception: from the pool's thread

    def __init__(self, parent: QObject | None = None, *, nice: int = NICE, max_columns: int = MAX_DISPLAY_COLUMNS):
        super().__init__(parent)
        self.nice = nice
        self.max_columns = max_columns
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        # The helper is spawned by a pool.submit, and its death signal (core.childproc) follows
        # the thread that spawned it: every submit runs on this one thread, alive until shutdown.
        self._launcher: concurrent.futures.ThreadPoolExecutor | None = None
        self._inflight: concurrent.futures.Future | None = None  # the one the helper works on
        self._waiting: tuple[int, str] | None = None  # the newest request not yet handed over
        self._closed = False
        self._lock = threading.RLock()  # GUI thread and a worker; re-entered when a future is done at once
        self._done.connect(self._deliver)  # queued: emitted from the pool's thread

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            import concurrent.futures  # (not at start-up: ~40 ms of imports)
            import multiprocessing

            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_helper, initargs=(self.nice,),
            )
        return self._pool

    def warm_up(self) -> None:
        """Start the helper now, before the first track (it imports numpy, scipy and the decoders
        once).  Any thread; spawning a process takes tens of milliseconds, so the app calls it
        from a worker thread rather than the GUI thread."""
        with self._lock:
            if not self._closed and not self._busy():
                self._inflight = self._submit(_ping, None)

    def request(self, track_id: int, path: str) -> None:
        """Compute ``path`` 's spectrogram; ``ready`` or ``failed`` follows for ``track_id``,
        unless a newer request comes before the helper is free (then only the newer one runs)."""
        with self._lock:
            if self._closed:
                return
            self._waiting = (track_id, path)
            self._hand_over()

    def _busy(self) -> bool:  # with the lock held
        return self._inflight is not None and not self._inflight.done()

    def _hand_over(self) -> None:  # with the lock held
        if self._waiting is None or self._busy() or self._closed:
            return
        (track_id, path), self._waiting = self._waiting, None
        self._inflight = self._submit(_compute_in_helper, track_id, path, self.max_columns)

    def _submit(self, fn, track_id, *args):  # with the lock held
        import concurrent.futures

        try:
            fut = self._on_launcher(fn, *args)
        except (RuntimeError, concurrent.futures.BrokenExecutor) as exc:  # the helper died: a new one
            log.warning("spectrogram helper: %s; starting a new one", exc)
            self._drop_pool()
            fut = self._on_launcher(fn, *args)
        fut.add_done_callback(lambda f, tid=track_id: self._on_done(tid, f))
        return fut  # (a helper that died fails its futures; the next submit meets the broken pool)

    def _on_launcher(self, fn, *args) -> concurrent.futures.Future:  # with the lock held
        """``pool.submit(fn, *args)``, made on the launcher thread (see ``__init__``)."""
        import concurrent.futures

        if self._launcher is None:
            self._launcher = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="spectrogram-launcher")
        return self._launcher.submit(lambda: self._executor().submit(fn, *args)).result()

    def _on_done(self, track_id, fut) -> None:  # the pool's thread
        if self._closed:
            return
        exc = None if fut.cancelled() else fut.exception()
        result = None if exc is not None or fut.cancelled() else fut.result()
        try:
            self._done.emit(-1 if track_id is None else track_id, result, exc)  # -1: the warm-up
        except RuntimeError:  # the QObject is gone (app closing)
            pass

    def _deliver(self, track_id: int, result, exc) -> None:  # GUI thread
        if self._closed:
            return
        with self._lock:
            self._hand_over()  # the helper is free: the newest waiting request, if any
        if track_id < 0 or (result is None and exc is None):
            return
        if exc is None and result[0] == "error":
            exc = _error_from(*result[1:])
        if exc is not None:
            self.failed.emit(track_id, exc)
        else:
            self.ready.emit(track_id, result[1:])

    def _drop_pool(self) -> None:  # with the lock held
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """Stop the helper (a computation in flight is abandoned)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            launcher, self._launcher = self._launcher, None
        if launcher is not None:
            launcher.shutdown(wait=False)
        if pool is None:
            return
        procs = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # do not wait seconds for a long track's decode at exit
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(2.0)

