"""The analysis worker: one process, one model, many files (see :mod:`analysis.service`).

Started by :class:`analysis.service.AnalysisService` with the ``spawn`` start method, so it shares no
Qt or thread state with the app.  It loads the genre model once -- its LiteRT export
(``models/export.py``) in the small ``ai-edge-litert`` interpreter, so a worker never imports
TensorFlow and is ready in well under a second; a model without an export falls back to Keras --
then per file::

    fingerprint (3 x 64 KiB reads) -> decode straight from the file, mono, at 22050 Hz
    (core.audio.decode.mono_stream: an MP3's synthesis runs at the model's rate, mono) in 30 s
    excerpts (the front end normalises each excerpt on its own anyway, so a 3-hour file never
    sits in memory) -> core.features.logmel_excerpt per excerpt -> model windows, batched ->
    one forward pass -> window probabilities + trunk embeddings, and the music detector
    (models/music.py) on the same log-mel, one probability per 3 s cell -> the catalog.

Nothing is computed that the result does not use: no display spectrogram, no stereo, no upper
half of an MP3's spectrum, no full-length float buffer.

A worker has a decode thread and a network thread, but runs one CPU stage at a time (decode +
log-mel of a file, or the network on another): the service runs one worker per core it may use,
and two CPU stages of one worker would only fight for that core (measured with 2 workers on 2
cores: 261 tracks/min overlapped, 293 one stage at a time).  What does overlap is the disk: when
the decode thread takes the next file it asks the kernel to read it ahead
(``posix_fadvise(WILLNEED)``) while the current file is still in the network; and the first file
decodes while the model loads.

This module imports only the standard library at the top: the thread limits for numpy/BLAS must
be in the environment before numpy loads in the worker.

:func:`analyse_file` is the whole per-file pipeline as a plain function (tests and the bench use
it in-process); the ``predict`` command decodes with :func:`prepare_file`.

Bad input (what a user sees in the failures list, or in the result's ``note``):

- unreadable / unsupported / broken: the decoder's one-line reason (core/errors.py kinds).
- damaged part-way: when at least ``MIN_PARTIAL_SECONDS`` decoded, the decoded part is analysed
  and the result says so in its note; otherwise ``decode_failed``.
- silent (peak below -80 dBFS everywhere): failed, kind ``silent`` -- there is no genre to tell,
  and a confident label on silence would mislead.
- shorter than one STFT window (about 93 ms): failed, kind ``too_short``.
- NaN / infinite samples: taken as 0 and counted in the note (a noisy file with a few NaNs is
  still analysed, not "silent").  These three rules are ``core.signalcheck``, which ``predict``
  shares through :func:`prepare_file`.
- replaced since the scan: analysed, and filed under the fingerprint of the bytes read (not the
  catalog's); changed *while* decoding: failed, kind ``changed``.
- shorter than one model window (30 s for the shipped model): analysed as one window filled by
  repeating the track's log-mel (``core.features.fill_window``; padding with silence left 10 s
  tracks near chance), with a note -- a 2-second jingle still gets a genre.
- very long (hours): decoded excerpt by excerpt; memory is the log-mel (about 6.6 MB per hour)
  plus one 30 s excerpt and one batch of windows.
"""
from __future__ import annotations

import os
import signal
import sys
import time

#: a damaged file is still analysed when at least this much of it decodes
MIN_PARTIAL_SECONDS = 10.0
#: peak amplitude below which a whole file counts as silent (-80 dBFS; core/signalcheck.py)
SILENCE_PEAK = 1e-4
#: log-mel columns per forward pass: bounds a batch's memory whatever the model's window (a 30 s
#: window model gets 25 windows per batch, about 5 MB of input)
BATCH_COLUMNS = 10_000


#: fault injection for tests and drills: "crash:TEXT" (SIGSEGV), "hang:TEXT" (sleep forever) on a
#: file whose path contains TEXT; "slow:SECONDS" before every file.  Several, comma-separated.
FAULT_ENV = "MELOGRAPH_ANALYSIS_FAULT"


def _inject_fault(spec: str, path: str) -> None:
    for item in spec.split(","):
        what, _, arg = item.partition(":")
        if what == "slow":
            time.sleep(float(arg or 1))
        elif what == "crash" and arg and arg in path:
            os.kill(os.getpid(), signal.SIGSEGV)
        elif what == "hang" and arg and arg in path:
            time.sleep(1e6)


def _limit_threads(n: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


#: glibc malloc settings of a worker (see _tune_malloc): (mallopt parameter, value)
_MALLOC_TUNING = (
    (-3, 64 << 20),   # M_MMAP_THRESHOLD: arrays up to 64 MiB come from the heap, not fresh mmaps
    (-1, 256 << 20),  # M_TRIM_THRESHOLD: keep freed heap memory instead of returning it at once
    (-2, 64 << 20),   # M_TOP_PAD: grow the heap in large steps
)


def _tune_malloc() -> bool:
    """Make glibc reuse the worker's large buffers instead of mapping fresh pages for every one.

    Per 30 s excerpt the front end allocates a few MB of arrays (the audio, the STFT blocks, the
    spectra).  With glibc's defaults each lands in a new ``mmap`` that the kernel must fault in and
    zero page by page, then goes back to the kernel when freed: in the workers that cost the
    log-mel about 40 % (134-151 ms per 4-minute track instead of 97-100 ms, bench_analyze; more
    than 300 tracks/min only with this).  Memory stays what it was (peak PSS 282-288 vs 276 MB):
    the reused buffers are the ones the worker needs anyway.  False where there is no glibc."""
    try:
        import ctypes

        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(mallopt(param, value) == 1 for param, value in _MALLOC_TUNING)


# --------------------------------------------------------------------------------------------
# the per-file pipeline


#: decode block (samples at 22050 Hz): what is lost when a file breaks part-way
STREAM_BLOCK = 1 << 16


def _read_ahead(path: str) -> None:
    """Ask the kernel to start reading ``path`` into the page cache (returns at once)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO's open must not wait for a writer
    except OSError:
        return  # prepare_file names the problem
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except (OSError, AttributeError):  # not on this platform / file system
        pass
    finally:
        os.close(fd)


def _excerpt_audio(path: str, info_out: dict):
    """Yield the mono 22050 Hz audio of each 30 s excerpt of ``path``, cut by
    ``core.features.excerpts`` (as ``logmel_track`` cuts a whole track), decoding block by
    block.  Fills ``info_out`` with ``stats`` (a :class:`core.signalcheck.SignalStats`: samples,
    peak, NaN/inf samples, which the blocks carry as 0) and ``error`` (a DecodeFailed after the
    last good block; what decoded before it is still yielded)."""
    from core import features as F
    from core.audio import decode
    from core.errors import DecodeFailed
    from core.signalcheck import SignalStats

    stats = SignalStats()
    info_out.update(stats=stats, error=None)

    def blocks():
        try:
            for y in decode.mono_stream(path, sr=F.SR, block_frames=STREAM_BLOCK, info=info_out):
                if len(y):
                    yield stats.add(y)
        except DecodeFailed as exc:
            info_out["error"] = exc

    yield from F.excerpts(blocks())


def analyse_file(model, path: str, *, fingerprint: str | None = None, music=None) -> dict:
    """Analyse one audio file with a loaded :class:`models.genre.GenreModel`.

    Returns the result dict :meth:`core.catalog.Catalog.store_analysis` takes:

    - ``track_probs`` ``(C,)`` float32: the mean of the model windows' probabilities;
    - ``window_probs`` ``(T, C)`` float32: the genre timeline -- the model windows'
      probabilities, or for a model with a finer timeline output (the shipped hybrid: 3 s
      sub-windows) that output on a regular grid (:meth:`models.genre.GenreModel.timeline_grid`);
      ``window_s``/``hop_s`` its cell and step in seconds;
    - ``embeddings`` ``(W, D)`` float16, one per model window;
    - ``duration`` analysed in seconds, ``note`` or None;
    - ``loudness``: the integrated loudness (LUFS) of the decoded mono 22050 Hz mix (None for
      silence) and ``sample_peak`` its peak (:mod:`core.audio.loudness`);
    - with a :class:`models.music.MusicDetector` ``music``: ``music_probability``, ``is_music``,
      ``music_kind``, ``music_cells`` (one per 3 s cell of the timeline's grid), ``music_version``;
    - ``fingerprint``: of the bytes actually decoded (see :func:`prepare_file`);
    - ``timings`` {stage: seconds}: wall-clock ``decode+logmel`` and ``model``, and the CPU time
      of this thread in ``cpu_decode`` (fingerprint, decoding, cutting), ``cpu_logmel``,
      ``cpu_model``.

    Raises the core.errors taxonomy (``kind``/``reason``) for a file that cannot be analysed;
    see the module docstring for the rules."""
    prep = prepare_file(path, fingerprint=fingerprint)
    return infer_prepared(model, prep, music=music)


def prepare_file(path: str, *, fingerprint: str | None = None) -> dict:
    """Decode + log-mel, the part that needs no model: ``{"path", "fingerprint", "S" (128,
    n_columns), "seconds" (decoded), "note" (or None), "decoder", "loudness", "sample_peak",
    "timings"}``.  Raises what
    :func:`analyse_file` raises.

    ``fingerprint`` is what the catalog knows of the file (the scan's).  The file's fingerprint
    is computed again here, just before and just after decoding: the result is filed under the
    one of the bytes actually decoded (``"fingerprint"``; ``"catalog_fingerprint"`` keeps the one
    given), so a file replaced between the scan and the analysis never lends its result to the
    old bytes; a file that changed *while* it decoded is refused (kind ``changed``), and its
    next analysis reads it whole again."""
    import numpy as np

    from core import features as F
    from core.errors import DecodeFailed, FileError
    from core.audio.fingerprint import fingerprint as fingerprint_of

    t0, c0 = time.perf_counter(), time.thread_time()

    def read_fingerprint() -> str:
        try:
            return fingerprint_of(path)
        except OSError as exc:
            from core.audio.files import check_readable

            check_readable(path)  # raises the right FileError
            raise DecodeFailed(path, f"cannot read the file: {exc}") from exc

    from core.audio.loudness import integrated_loudness, k_weights

    fp = read_fingerprint()
    info: dict = {}
    parts = []
    cpu_logmel = 0.0
    loud: list = []  # each excerpt's K-weighted frame powers: the loudness, from the same STFT
    weighted = (k_weights(F.SR, F.N_FFT), loud)
    for y in _excerpt_audio(path, info):
        if len(y) >= F.N_FFT:
            c = time.thread_time()
            parts.append(F.logmel_excerpt(y=y, sr=F.SR, weighted=weighted))
            cpu_logmel += time.thread_time() - c
    if read_fingerprint() != fp:
        e = FileError(path, "the file changed while it was being analysed; it is analysed again after the next scan")
        e.kind = "changed"
        raise e
    t1, c1 = time.perf_counter(), time.thread_time()
    stats = info["stats"]
    seconds = stats.samples / F.SR
    note = None
    err = info.get("error")
    if err is not None:
        if seconds < MIN_PARTIAL_SECONDS or not parts:
            raise err
        note = f"damaged file: analysed the first {seconds:.0f} s that decode ({err.reason})"
    stats.check(path, sr=F.SR)  # too short, silent: the check predict and the analysis share
    if stats.note():
        note = stats.note() if note is None else note + "; " + stats.note()
    S = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    lufs = integrated_loudness(np.concatenate(loud), sr=F.SR, hop=F.HOP_LENGTH) if loud else None
    return {"path": path, "fingerprint": fp, "catalog_fingerprint": fingerprint or fp, "S": S, "seconds": seconds,
            "note": note, "decoder": info.get("decoder"), "loudness": lufs, "sample_peak": float(stats.peak),
            "timings": {"decode+logmel": t1 - t0, "cpu_decode": c1 - c0 - cpu_logmel, "cpu_logmel": cpu_logmel}}


def infer_prepared(model, prep: dict, *, music=None) -> dict:
    """The network part of :func:`analyse_file` on :func:`prepare_file`'s output
    (:meth:`models.genre.GenreModel.analyse_track`, a batch of at most ``BATCH_COLUMNS`` at a time;
    and :meth:`models.music.MusicDetector.analyse_track` with a detector ``music``)."""
    import numpy as np

    from core import features as F

    t0, c0 = time.perf_counter(), time.thread_time()
    S = prep["S"]
    note = prep["note"]
    if S.shape[1] < model.window:
        short = f"shorter than one model window ({prep['seconds']:.1f} s of {model.window / F.COLUMNS_PER_SECOND:.1f} s): " \
                "analysed repeated to fill it"
        note = short if note is None else note + "; " + short
    r = model.analyse_track(S, batch_columns=BATCH_COLUMNS)
    track_probs = r["track_probs"]
    top = int(track_probs.argmax())
    classes = model.classes
    detected = {}
    if music is not None:
        m = music.analyse_track(S)
        detected = {"music_probability": m["music_probability"], "is_music": m["is_music"], "music_kind": m["kind"],
                    "music_cells": np.ascontiguousarray(m["cell_music"], np.float32), "music_version": m["version"]}
    return {
        "fingerprint": prep["fingerprint"],
        "model_version": model.version,
        "classes": classes,
        "top_genre": classes[top],
        "confidence": float(track_probs[top]),
        "track_probs": track_probs,
        "window_probs": np.ascontiguousarray(r["timeline"], dtype=np.float32),
        "embeddings": r["embeddings"].astype(np.float16),
        "window_s": r["timeline_width"] / F.COLUMNS_PER_SECOND,
        "hop_s": r["timeline_hop"] / F.COLUMNS_PER_SECOND,
        "duration": prep["seconds"],
        "loudness": prep.get("loudness"),
        "sample_peak": prep.get("sample_peak"),
        "note": note,
        "timings": dict(prep["timings"], model=time.perf_counter() - t0, cpu_model=time.thread_time() - c0),
        **detected,
    }


def _label(result: dict) -> tuple:
    """``(genre, confidence, text)`` of a result for the library table (``core.genrelabel``)."""
    from core.genrelabel import label_of_probs

    lab = label_of_probs(result["classes"], result["track_probs"], is_music=result.get("is_music"),
                         kind=result.get("music_kind"), music_probability=result.get("music_probability"))
    return (lab.genre, lab.confidence, lab.text)


# --------------------------------------------------------------------------------------------
# the process


def _error_message(tid: int, exc: BaseException) -> tuple:
    from core.errors import FileError, reason_of

    if isinstance(exc, FileError):
        return ("error", tid, exc.kind, exc.reason)
    if isinstance(exc, MemoryError):
        return ("error", tid, "error", "not enough memory to analyse this file")
    return ("error", tid, "error", f"analysis failed: {reason_of(exc)}")


#: workers run at this lower CPU priority (POSIX nice), so the UI and playback always come first
WORKER_NICE = 10


def worker_main(conn, model_dir: str | None, threads: int, nice: int = WORKER_NICE,
                catalog_path: str | None = None) -> None:
    """Entry point of a worker process.  Protocol on ``conn`` (a duplex Pipe end):

    parent -> worker: ``("task", track_id, path, fingerprint)``, ``("stop",)``
    worker -> parent: ``("ready", pid, None)`` (accepting tasks; the model loads meanwhile),
    ``("loaded", pid, model_version, runtime)`` (``"litert"``, or ``"keras"`` for a model without
    a LiteRT export), ``("fatal", reason)``,
    ``("started", track_id)``, ``("stored", track_id, {top_genre, confidence, note, timings})``
    (the worker wrote the result to the catalog at ``catalog_path`` itself, in one transaction),
    ``("result", track_id, result_dict)`` (no catalog, or it could not write: the parent
    stores it), ``("error", track_id, kind, reason)``

    Tasks are answered in the order they came.  The worker exits on ``stop``, or when the parent
    is gone (its end of the pipe closes; the kernel kills the worker with it, core/childproc.py).
    """
    from core.childproc import die_with_parent

    die_with_parent()  # also while busy in native code, where the pipe's EOF goes unseen
    _limit_threads(max(1, int(threads)))
    _tune_malloc()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    if nice and hasattr(os, "nice"):
        try:
            os.nice(max(0, int(nice) - os.nice(0)))  # at least this nice (not "10 more")
        except OSError:
            pass
    import queue
    import threading

    fault = os.environ.get(FAULT_ENV, "")
    tasks: queue.Queue = queue.Queue()
    prepared: queue.Queue = queue.Queue(maxsize=1)
    send_lock = threading.Lock()
    cpu = threading.Lock()  # one CPU stage at a time (module docstring)
    STOP = object()

    def send(msg) -> bool:
        try:
            with send_lock:
                conn.send(msg)
            return True
        except (OSError, EOFError, ValueError):
            os._exit(0)  # the parent is gone: nothing to deliver to

    def reader():
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the parent is gone (killed): stop at once
            if msg[0] == "stop":
                tasks.put(STOP)
                return
            if msg[0] == "task":
                tasks.put(msg[1:])

    def preparer():
        while True:
            item = tasks.get()
            if item is STOP:
                prepared.put(STOP)
                return
            tid, path, fp = item
            send(("started", tid))
            if fault:
                _inject_fault(fault, path)
            _read_ahead(path)
            try:
                with cpu:
                    prep = prepare_file(path, fingerprint=fp)
                prepared.put((tid, prep, None))
            except BaseException as exc:  # noqa: BLE001
                prepared.put((tid, None, exc))

    # Accept work at once: the first file decodes on the second thread while the model loads here
    # (imports are mostly single-threaded Python; decoding releases the GIL).
    send(("ready", os.getpid(), None))
    threading.Thread(target=reader, name="analysis-reader", daemon=True).start()
    threading.Thread(target=preparer, name="analysis-decoder", daemon=True).start()
    try:
        from models.genre import GenreModel

        model = GenreModel.load(model_dir, threads=max(1, int(threads)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back as one line
        from core.errors import reason_of

        send(("fatal", f"cannot load the genre model: {reason_of(exc)}"))
        return
    music = None
    try:
        from models.music import MusicDetector

        music = MusicDetector.load(threads=1)
    except Exception as exc:  # noqa: BLE001 - genres still work; results then carry no music verdict
        print(f"melograph analysis: no music detector ({exc})", file=sys.stderr)
    # warm up so the first real file does not pay for it (LiteRT: the first invoke sets up its
    # kernels; Keras: tracing, with two batch shapes so tf.function traces a shape-generic graph)
    try:
        import numpy as np

        for n in ((1,) if model.runtime == "litert" else (1, 2)):
            model.analyse_windows(np.full((n, 128, model.window), -80.0, np.float32))
    except Exception:  # noqa: BLE001
        pass
    catalog = None
    if catalog_path:
        try:
            from core.catalog import Catalog

            catalog = Catalog(catalog_path)
        except Exception:  # noqa: BLE001 - the parent stores the results then
            catalog = None
    send(("loaded", os.getpid(), model.version, model.runtime))
    while True:
        item = prepared.get()
        if item is STOP:
            break
        tid, prep, exc = item
        if exc is None:
            try:
                with cpu:
                    result = infer_prepared(model, prep, music=music)
            except BaseException as e:  # noqa: BLE001
                exc = e
        if exc is not None:
            send(_error_message(tid, exc))
        elif catalog is not None:
            # one transaction: the result row in, the queue row out (a kill -9 in the middle rolls
            # back); the parent only hears a few bytes about it
            timings = result.pop("timings", {})
            try:
                t = time.perf_counter()
                catalog.store_analysis(tid, result)
                timings["store"] = time.perf_counter() - t
                send(("stored", tid, {"top_genre": result["top_genre"], "confidence": result["confidence"],
                                      "label": _label(result), "note": result["note"], "timings": timings,
                                      "loudness": result.get("loudness"), "sample_peak": result.get("sample_peak")}))
            except Exception:  # noqa: BLE001 - e.g. the catalog stayed locked: the parent stores it
                result["timings"] = timings
                send(("result", tid, result))
        else:
            send(("result", tid, result))
        del prep
    try:
        conn.close()
    except OSError:
        pass
    sys.stdout.flush()
