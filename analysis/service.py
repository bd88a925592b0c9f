"""Background genre analysis of the whole library: worker processes, a durable queue, events.

    service = AnalysisService(catalog, on_progress=..., on_track=..., on_state=...)
    service.start()                  # returns at once; a scheduler thread runs the workers
    service.set_playing(True)        # one worker while music plays, one per core when idle
    service.prioritize(track_id)     # the playing / selected track jumps the queue
    service.pause(); service.resume(); service.cancel()
    service.enqueue()                # after a scan: queue what is new or changed
    service.close()                  # stop the workers (in-flight tracks go back to the queue)

How it works (DESIGN.md, "How data flows" 2):

- The queue lives in the catalog (``analysis_queue``): every present track without a result for
  the model's version.  Results are keyed by the file's content fingerprint + the model version,
  so a moved file keeps them, an unchanged file is never analysed twice and a new model version
  queues everything again.
- Workers are processes started with ``spawn`` (no Qt state leaks in), each loads the model once
  -- its LiteRT export, so no TensorFlow: a worker is ready in well under a second -- and
  analyses file after file (analysis/worker.py).  The interpreter and BLAS use one thread
  per worker when several run.  Each worker gets one task ahead, so it never waits for
  the parent.
- Each worker writes each result into the catalog in one transaction (result row in, queue row
  out) through its own connection; the parent (this module, on its own thread, so the UI thread
  is never blocked) hands out the files, hears a few bytes per finished track and raises the
  events.  ``kill -9`` of anything loses at most the
  tracks in flight: a claimed track is ``running`` in the queue until its result is committed; a
  restart puts the ``running`` rows of dead owners back in the queue, and finished tracks are
  never redone because their result row exists.
- A worker that dies (crash, killed, or stuck past its time limit) is replaced.  Every track it
  had started counts one attempt; a track with an attempt behind it runs alone in a worker (so
  the culprit is known for sure) and is marked failed, kind ``crashed``, after ``max_attempts``.
  A file that fails normally (unreadable, broken, silent...) is marked failed at once with the
  decoder's one-line reason; it is retried only when the file changes, the model changes or the
  user asks (:meth:`Catalog.retry_analysis_failures`).

Events are plain callbacks, called on the service's thread (the desktop wraps them in Qt
signals): ``on_progress(AnalysisProgress)``, ``on_track(TrackEvent)``, ``on_state(state, reason)``
with state one of ``starting``, ``running``, ``paused``, ``idle`` (queue empty, workers stopped,
waiting for :meth:`enqueue`), ``finished``, ``cancelled``, ``unavailable`` (no usable model; the
reason says why), ``error`` (the service itself failed; the reason says why, the log has the
traceback).

Reading results: ``catalog.track_analysis(track_id)`` -> :class:`core.catalog.AnalysisResult`
(``top_genre``, ``confidence``, ``classes``, ``track_probs``, ``window_probs`` (the timeline),
``embeddings``, ``window_s``, ``hop_s``, ``duration``, ``note``); ``catalog.genre_summary()``
for the table; ``catalog.analysis_failures()`` for what could not be analysed and why.
"""
from __future__ import annotations

import collections
import dataclasses
import os
import socket
import threading
import time
from typing import Callable

from analysis.worker import WORKER_NICE, _label, worker_main
from models.card import model_dir as resolve_model_dir, read_card

__all__ = ["AnalysisService", "AnalysisProgress", "TrackEvent", "RunSummary", "run_analysis", "default_workers"]

#: a worker that crashed (or was killed) this many times on a file gives up on it
MAX_ATTEMPTS = 2
#: time limit for one file: BASE + PER_AUDIO_SECOND x its duration (unknown duration: UNKNOWN)
TIMEOUT_BASE_S = 120.0
TIMEOUT_PER_AUDIO_SECOND = 0.25
TIMEOUT_UNKNOWN_S = 1800.0
#: an idle service (queue empty) stops its workers after this many seconds, freeing their memory
IDLE_STOP_S = 20.0
#: an idle service looks for unanalysed tracks this often even when nobody calls enqueue()
LOOK_AGAIN_S = 30.0


def default_workers() -> int:
    """One per core (at most 8: each worker holds a model and a track's buffers, about 120 MB with
    the LiteRT runtime)."""
    return max(1, min(os.cpu_count() or 1, 8))


@dataclasses.dataclass(frozen=True)
class AnalysisProgress:
    done: int  # tracks finished in this run (analysed + failed)
    total: int  # done + waiting (grows when tracks are queued during the run)
    analysed: int
    failed: int
    skipped: int  # present tracks that already had a result for this model at start
    tracks_per_minute: float  # over the last minute (or since the first result)
    eta_s: float | None  # time left at that rate (None until there is a rate)
    workers: int
    state: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TrackEvent:
    track_id: int
    ok: bool
    top_genre: str | None = None
    confidence: float | None = None
    kind: str | None = None  # failure kind (core.errors kinds, "silent", "crashed", "timeout")
    reason: str | None = None  # one line (failure reason, or the result's note)
    final: bool = True  # False: a crash that will be retried
    timings: dict | None = None  # seconds per stage in the worker (decode+logmel, model)
    label: tuple | None = None  # (genre, confidence, text) as the library shows it (core.genrelabel)
    loudness: tuple | None = None  # (LUFS of the mono mix or None, sample peak): core.audio.loudness


@dataclasses.dataclass
class RunSummary:
    model_version: str = ""
    model_runtime: str = ""  # what computed the results in the workers: "litert" or "keras"
    analysed: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list = dataclasses.field(default_factory=list)  # [{"track_id", "path", "kind", "reason"}]
    notes: list = dataclasses.field(default_factory=list)  # [{"track_id", "path", "note"}]
    previously_failed: int = 0
    remaining: int = 0
    seconds: float = 0.0
    state: str = ""
    reason: str | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def _owner_id(pid: int | None = None) -> str:
    """``host:pid:process start time:nonce`` -- who holds ``running`` queue rows."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}:{os.urandom(3).hex()}"


def _owner_alive(owner: str) -> bool:
    """Is the process that wrote ``owner`` (see ``_owner_id``) still running?"""
    try:
        host, pid_s, start, _nonce = owner.rsplit(":", 3)
        pid = int(pid_s)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another machine sharing the catalog: not ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not start or _start_time(pid) == start


class _Worker:
    def __init__(self, proc, conn, n: int):
        self.proc = proc
        self.conn = conn
        self.n = n
        self.ready = False
        self.loaded = False
        self.retiring = False
        self.inflight: collections.deque = collections.deque()  # AnalysisTask, in send order
        self.started: dict[int, float] = {}  # track id -> when the worker began it
        self.spawned_at = time.monotonic()

    @property
    def pid(self):
        return self.proc.pid


class AnalysisService:
    """Analyses the catalog's queue in worker processes.  See the module docstring.

    ``catalog``: a :class:`core.catalog.Catalog` (used from the service's thread through its own
    connection).  ``model_dir``: the model (default: ``models.card.model_dir()``).  ``workers``: how many
    when idle (default: one per core); ``playing_workers``: how many while music plays (1).
    ``stop_when_done``: finish (state ``finished``) when the queue is empty instead of waiting
    for more (the CLI); ``threads``: inference threads per worker (default: 1 when several
    workers may run, else the cores).
    ``nice``: the workers' CPU priority (POSIX nice, default 10: the UI and
    playback always come first).  ``worker_writes``: each worker writes its results into the
    catalog file itself (one transaction per track), so the app process only handles a few bytes
    per track; False: the results travel to this process, which writes them.
    """

    def __init__(
        self,
        catalog,
        *,
        model_dir: str | os.PathLike | None = None,
        workers: int | None = None,
        playing_workers: int = 1,
        playing: bool = False,
        stop_when_done: bool = False,
        max_attempts: int = MAX_ATTEMPTS,
        threads: int | None = None,
        on_progress: Callable[[AnalysisProgress], None] | None = None,
        on_track: Callable[[TrackEvent], None] | None = None,
        on_state: Callable[[str, str | None], None] | None = None,
        enqueue_on_start: bool = True,
        nice: int | None = None,
        worker_writes: bool = True,
    ):
        self.catalog = catalog
        self.model_dir = str(resolve_model_dir(model_dir))
        self.idle_workers = max(1, int(workers)) if workers else default_workers()
        self.playing_workers = max(1, int(playing_workers))
        self.stop_when_done = stop_when_done
        self.max_attempts = max(1, int(max_attempts))
        self.enqueue_on_start = enqueue_on_start
        self.nice = WORKER_NICE if nice is None else int(nice)
        self.worker_writes = bool(worker_writes)
        most = max(self.idle_workers, self.playing_workers)
        self.threads = int(threads) if threads else (1 if most > 1 else max(1, os.cpu_count() or 1))
        self.on_progress = on_progress
        self.on_track = on_track
        self.on_state = on_state
        self.owner = _owner_id()
        self.model_version: str | None = None
        self.music_version: str | None = None  # the music detector's, when one is installed
        self.summary = RunSummary()
        self._playing = bool(playing)
        self._paused = False
        self._cancel = False
        self._stop = False
        self._abort: tuple[str, str] | None = None
        self._dry_until = 0.0
        self._wake_more = False
        self._priority: list[int] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state = "new"
        self._reason: str | None = None
        self._done_event = threading.Event()
        self._workers: list[_Worker] = []
        self._held: list = []  # claimed tasks waiting for an empty worker (retries run alone)
        self._spawned = 0
        self._times: collections.deque = collections.deque()  # completion times (monotonic)
        self._t0 = 0.0
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)

    # ---------------------------------------------------------------- public API (any thread)

    @property
    def state(self) -> str:
        return self._state

    @property
    def reason(self) -> str | None:
        return self._reason

    @property
    def worker_pids(self) -> list[int]:
        return [w.pid for w in list(self._workers) if w.pid]

    def start(self) -> None:
        """Start the scheduler thread (returns at once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._done_event.clear()
        self._cancel = self._stop = False
        self._abort = None
        self._thread = threading.Thread(target=self._run_safely, name="analysis-service", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Hand out no more files (those in the workers finish: at most about a second)."""
        self._paused = True
        self._poke()

    def resume(self) -> None:
        self._paused = False
        self._poke()

    def cancel(self) -> None:
        """Stop now: workers are terminated, their tracks go back to the queue."""
        self._cancel = True
        self._poke()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the service (like :meth:`cancel`) and wait for its thread."""
        self.cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run ends (finished / cancelled / unavailable).  True when it has."""
        return self._done_event.wait(timeout)

    def set_playing(self, playing: bool) -> None:
        """Music plays: shrink to ``playing_workers``; stopped: grow to ``workers``."""
        self._playing = bool(playing)
        self._poke()

    def set_workers(self, *, idle: int | None = None, playing: int | None = None) -> None:
        if idle:
            self.idle_workers = max(1, int(idle))
        if playing:
            self.playing_workers = max(1, int(playing))
        self._poke()

    def prioritize(self, track_id: int) -> None:
        """Analyse ``track_id`` next (the playing or selected track).  Cheap; any thread."""
        with self._lock:
            self._priority.append(int(track_id))
        self._poke()

    def enqueue(self) -> None:
        """Queue tracks that are new or changed since (after a scan) and wake the service."""
        self._wake_more = True
        self._poke()
        if self._thread is None or not self._thread.is_alive():
            if self._state in ("idle", "finished", "new"):
                self.start()

    def _poke(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except OSError:
            pass

    # ---------------------------------------------------------------- events

    def _set_state(self, state: str, reason: str | None = None) -> None:
        if state == self._state and reason == self._reason:
            return
        self._state, self._reason = state, reason
        self.summary.state, self.summary.reason = state, reason
        if self.on_state is not None:
            self._call(self.on_state, state, reason)

    def _call(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - a listener's bug must not stop the analysis
            import logging

            logging.getLogger(__name__).exception("analysis event listener failed")

    def _progress(self) -> None:
        if self.on_progress is None:
            return
        self._call(self.on_progress, self.progress())

    def progress(self) -> AnalysisProgress:
        now = time.monotonic()
        while self._times and now - self._times[0] > 60.0:
            self._times.popleft()
        rate = 0.0
        if self._times:
            rate = 60.0 * len(self._times) / max(min(60.0, now - self._t0), 1e-3)
        s = self.summary
        done = s.analysed + s.failed
        remaining = max(0, s.remaining)
        eta = (60.0 * remaining / rate) if rate > 0 else None
        return AnalysisProgress(
            done=done, total=done + remaining, analysed=s.analysed, failed=s.failed, skipped=s.skipped,
            tracks_per_minute=round(rate, 1), eta_s=None if eta is None else round(eta, 1),
            workers=len([w for w in self._workers if not w.retiring]), state=self._state,
        )

    # ---------------------------------------------------------------- the scheduler thread

    def _run_safely(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001
            import logging

            from core.errors import reason_of

            logging.getLogger(__name__).exception("analysis service failed")
            self._shutdown_workers(kill=True)
            self._set_state("error", reason_of(exc))
        finally:
            self.summary.seconds = time.monotonic() - self._t0 if self._t0 else 0.0
            self._done_event.set()

    def _run(self) -> None:
        from multiprocessing.connection import wait

        self._t0 = time.monotonic()
        self._set_state("starting")
        try:
            card = read_card(self.model_dir)
        except Exception as exc:  # noqa: BLE001 - ModelError and anything else: say why
            self._set_state("unavailable", f"no genre model: {exc}")
            return
        self.model_version = str(card["version"])
        from models.music import installed_version

        self.music_version = installed_version()
        cat = self.catalog
        s = self.summary
        s.model_version = self.model_version
        # results under this version carry this card's class names; others are analysed again
        cat.drop_analysis_with_other_classes(self.model_version, card["classes"])
        self._recover_dead_owners()
        if self.enqueue_on_start:
            cat.enqueue_analysis(self.model_version, music_version=self.music_version)
        counts = cat.analysis_counts(self.model_version, self.music_version)
        s.skipped = counts["analysed"]
        s.previously_failed = counts["failed"]
        s.remaining = counts["queued"] + counts["running"]
        self._set_state("running" if s.remaining else "idle")
        self._progress()
        idle_since = time.monotonic() if not s.remaining else None
        last_look = time.monotonic()
        while True:
            if self._abort is not None:
                self._shutdown_workers(kill=True)
                self._set_state(*self._abort)
                return
            if self._cancel:
                self._shutdown_workers(kill=True)
                self._set_state("cancelled")
                return
            if self._wake_more:
                self._wake_more = False
                self._dry_until = 0.0
                if cat.enqueue_analysis(self.model_version, music_version=self.music_version):
                    self._refresh_remaining()
            self._apply_priorities()
            self._scale()
            self._dispatch()
            busy = bool(self._held) or any(w.inflight for w in self._workers)
            if not busy and self._queue_empty():
                if self.stop_when_done:
                    self._shutdown_workers(kill=False)
                    self._set_state("finished")
                    return
                if idle_since is None:
                    idle_since = last_look = time.monotonic()
                    self._set_state("idle")
                elif self._workers and time.monotonic() - idle_since > IDLE_STOP_S:
                    self._shutdown_workers(kill=False)
                if time.monotonic() - last_look > LOOK_AGAIN_S:  # files added without enqueue()
                    last_look = time.monotonic()
                    self._wake_more = True
            else:
                idle_since = None
                self._set_state("paused" if self._paused else "running")
            objs = [self._wake_r]
            for w in self._workers:
                objs.append(w.conn)
                objs.append(w.proc.sentinel)
            ready = wait(objs, timeout=0.5)
            if self._wake_r in ready:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
            for w in list(self._workers):
                if w.conn in ready:
                    self._drain(w)
            for w in list(self._workers):
                if not w.proc.is_alive() or w.proc.sentinel in ready:
                    self._drain(w)
                    w.proc.join(0.1)
                    if w.proc.exitcode is not None:
                        self._worker_gone(w)
            self._check_timeouts()

    # -- queue helpers

    def _queue_empty(self) -> bool:
        """Nothing queued for this model (a cheap query; refreshes ``remaining`` when empty)."""
        if self._held:
            return False
        if self.catalog.analysis_has_queued(self.model_version):
            return False
        self.summary.remaining = 0
        return True

    def _refresh_remaining(self) -> None:
        c = self.catalog.analysis_counts(self.model_version, self.music_version)
        self.summary.remaining = c["queued"] + c["running"]
        self._progress()

    def _recover_dead_owners(self) -> None:
        for owner in self.catalog.analysis_owners():
            if owner == self.owner or not _owner_alive(owner):
                self.catalog.release_analysis(owner=owner)

    def _apply_priorities(self) -> None:
        with self._lock:
            ids, self._priority = self._priority, []
        for tid in ids:
            if not self.catalog.prioritize_analysis(tid):
                # not queued yet (a new file), unless it is done, running or failed
                if self.catalog.enqueue_analysis(self.model_version, [tid], music_version=self.music_version):
                    self.catalog.prioritize_analysis(tid)
                    self._refresh_remaining()
            self._dry_until = 0.0

    # -- workers

    def _target(self) -> int:
        return self.playing_workers if self._playing else self.idle_workers

    def _scale(self) -> None:
        if self._paused:
            return
        live = [w for w in self._workers if not w.retiring]
        want = self._target()
        if len(live) < want and not self._queue_empty_cached():
            for _ in range(want - len(live)):
                self._spawn()
        elif len(live) > want:
            # retire the least busy; they finish what they hold and exit
            for w in sorted(live, key=lambda w: len(w.inflight))[: len(live) - want]:
                w.retiring = True
                self._send(w, ("stop",))

    def _queue_empty_cached(self) -> bool:
        return self.summary.remaining <= 0 and not self._held

    def _spawn(self) -> None:
        # (on the scheduler thread, which stops its workers before it ends: a worker's death
        # signal follows the thread that started it, core.childproc)
        parent, child = self._ctx.Pipe(duplex=True)
        self._spawned += 1
        proc = self._ctx.Process(
            target=worker_main,
            args=(child, self.model_dir, self.threads, self.nice, str(self.catalog.path) if self.worker_writes else None),
            name=f"melograph-analysis-{self._spawned}", daemon=True,
        )
        proc.start()
        child.close()
        self._workers.append(_Worker(proc, parent, self._spawned))

    def _send(self, w: _Worker, msg) -> bool:
        try:
            w.conn.send(msg)
            return True
        except (OSError, ValueError):
            return False

    def _dispatch(self) -> None:
        if self._paused or self._cancel:
            return
        for w in self._workers:
            if not w.ready or w.retiring:
                continue
            # one file in the network, one decoding ahead; a retry (it crashed a worker before) runs alone
            while len(w.inflight) < 2 and not any(t.attempts for t in w.inflight):
                task = None
                if not w.inflight and self._held:
                    task = self._held.pop(0)
                else:
                    if time.monotonic() < self._dry_until:
                        break
                    got = self.catalog.claim_analysis(self.model_version, 1, owner=self.owner)
                    if not got:
                        self._dry_until = time.monotonic() + 2.0
                        break
                    task = got[0]
                    if task.attempts and w.inflight:
                        self._held.append(task)
                        break
                # keyed by the catalog's identity of the file (the scanner keeps it up to date)
                if not self._send(w, ("task", task.track_id, task.path, task.fingerprint)):
                    self.catalog.release_analysis([task.track_id])
                    break
                w.inflight.append(task)
                if task.attempts:
                    break

    def _drain(self, w: _Worker) -> None:
        while True:
            try:
                if not w.conn.poll():
                    return
                msg = w.conn.recv()
            except (EOFError, OSError):
                return
            self._handle(w, msg)

    def _handle(self, w: _Worker, msg) -> None:
        kind = msg[0]
        if kind == "ready":  # accepting tasks (its model is still loading)
            w.ready = True
            return
        if kind == "loaded":
            w.loaded = True
            if len(msg) > 3:
                self.summary.model_runtime = str(msg[3])
            now = time.monotonic()
            for tid in w.started:  # time limits count from here, not from the model load
                w.started[tid] = now
            return
        if kind == "fatal":
            # the model cannot load in a worker: no point in more workers
            self._abort = ("unavailable", msg[1])
            return
        if kind == "started":
            w.started[msg[1]] = time.monotonic()
            return
        tid = msg[1]
        task = self._pop(w, tid)
        if kind in ("result", "stored"):
            result = msg[2]
            timings = result.pop("timings", None)
            if kind == "result":
                self.catalog.store_analysis(tid, result)
                result["label"] = _label(result)
            self.summary.analysed += 1
            if result.get("note"):
                self.summary.notes.append({"track_id": tid, "path": task.path if task else None, "note": result["note"]})
            measured = None if result.get("sample_peak") is None else (result.get("loudness"), result["sample_peak"])
            event = TrackEvent(tid, True, result["top_genre"], float(result["confidence"]), reason=result.get("note"),
                               timings=timings, label=tuple(result["label"]) if result.get("label") else None,
                               loudness=measured)
        else:  # ("error", tid, kind, reason)
            self.catalog.record_analysis_error(tid, msg[2], msg[3], max_attempts=1)
            self._failed(tid, task, msg[2], msg[3])
            event = TrackEvent(tid, False, kind=msg[2], reason=msg[3])
        self._times.append(time.monotonic())
        self.summary.remaining = max(0, self.summary.remaining - 1)
        if self.on_track is not None:
            self._call(self.on_track, event)
        self._progress()

    def _failed(self, tid, task, kind, reason) -> None:
        self.summary.failed += 1
        self.summary.failures.append({"track_id": tid, "path": task.path if task else None, "kind": kind, "reason": reason})

    def _pop(self, w: _Worker, tid: int):
        w.started.pop(tid, None)
        for i, t in enumerate(w.inflight):
            if t.track_id == tid:
                del w.inflight[i]
                return t
        return None

    def _worker_gone(self, w: _Worker, why: str | None = None) -> None:
        """A worker exited.  Tracks it had started count an attempt; the rest go back, and all of
        them when the run is being aborted (the model cannot load: no file is to blame)."""
        if w in self._workers:
            self._workers.remove(w)
        try:
            w.conn.close()
        except OSError:
            pass
        code = w.proc.exitcode
        if why is None:
            if w.retiring and not w.inflight:
                return
            if code is not None and code < 0:
                import signal

                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"signal {-code}"
                why = f"the analysis worker crashed ({name})"
            else:
                why = f"the analysis worker exited unexpectedly (status {code})"
        for task in list(w.inflight):
            if task.track_id in w.started and self._abort is None:
                final = self.catalog.record_analysis_error(
                    task.track_id, "crashed", f"{why} while analysing this file", max_attempts=self.max_attempts)
                if final:
                    self._failed(task.track_id, task, "crashed", f"{why} while analysing this file")
                    self._times.append(time.monotonic())
                    self.summary.remaining = max(0, self.summary.remaining - 1)
                if self.on_track is not None:
                    self._call(self.on_track, TrackEvent(task.track_id, False, kind="crashed", reason=why, final=final))
            else:
                self.catalog.release_analysis([task.track_id])
        w.inflight.clear()
        self._dry_until = 0.0
        if not self._ready_ever() and self._spawned > 3 * max(1, self._target()) + 3:
            # workers die before any ever loads its model: the set-up is broken, not the files;
            # give the files blamed meanwhile their chance back
            self._abort = ("unavailable", "the analysis workers cannot start (see the log)")
            blamed = [f["track_id"] for f in self.summary.failures if f["kind"] == "crashed"]
            self.catalog.requeue_crashed(blamed)
            self.summary.failures = [f for f in self.summary.failures if f["kind"] != "crashed"]
            self.summary.failed -= len(blamed)
        self._progress()

    def _ready_ever(self) -> bool:
        return self.summary.analysed > 0 or any(w.loaded for w in self._workers)

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if not w.loaded:
                continue
            for task in w.inflight:
                began = w.started.get(task.track_id)
                if began is None:
                    continue
                limit = (TIMEOUT_BASE_S + TIMEOUT_PER_AUDIO_SECOND * task.duration) if task.duration else TIMEOUT_UNKNOWN_S
                if now - began > limit:
                    self._kill(w)
                    w.proc.join(5)
                    self._worker_gone(w, f"the analysis took longer than {limit:.0f} s (stopped)")
                    break

    def _kill(self, w: _Worker) -> None:
        try:
            w.proc.kill()
        except (OSError, AttributeError):
            pass

    def _release_all(self) -> None:
        ids = [t.track_id for t in self._held]
        self._held.clear()
        if ids:
            self.catalog.release_analysis(ids)
        self.catalog.release_analysis(owner=self.owner)

    def _shutdown_workers(self, *, kill: bool) -> None:
        workers, self._workers = list(self._workers), []
        for w in workers:
            if kill:
                self._kill(w)
            else:
                self._send(w, ("stop",))
        deadline = time.monotonic() + (2.0 if kill else 10.0)
        for w in workers:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                self._kill(w)
                w.proc.join(2.0)
            if not kill:
                self._drain(w)
            try:
                w.conn.close()
            except OSError:
                pass
        self._release_all()


def run_analysis(
    catalog,
    *,
    model_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    on_progress: Callable[[AnalysisProgress], None] | None = None,
    on_track: Callable[[TrackEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> RunSummary:
    """Analyse everything queued (and queue what is not analysed yet), blocking until done or
    ``cancel`` is set; returns the run's :class:`RunSummary`.  For the CLI and the bench."""
    svc = AnalysisService(catalog, model_dir=model_dir, workers=workers, stop_when_done=True,
                          on_progress=on_progress, on_track=on_track)
    svc.start()
    try:
        while not svc.wait(0.2):
            if cancel is not None and cancel.is_set():
                svc.cancel()
                svc.wait(15)
                break
    finally:
        if not svc.wait(0):
            svc.close()
    s = svc.summary
    try:
        c = catalog.analysis_counts(svc.model_version, svc.music_version) if svc.model_version else None
        if c is not None:
            s.remaining = c["queued"] + c["running"]
    except Exception:  # noqa: BLE001
        pass
    return s
